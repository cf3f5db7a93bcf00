package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gomixin/mixin/contrib/internal/disttest"
)

// BenchmarkDo: Do through the proxy (two statements: the acquire, which
// mints the fencing token, and the release, which notifies) against a
// session advisory lock taken and given back by hand on a pinned connection
// (two statements, no lease, no token, no wake-up of other processes).
func BenchmarkDo(b *testing.B) {
	srv.Need(b)
	p := newPool(b, srv.Addr)
	var pinned *pgxpool.Conn
	b.Cleanup(func() {
		if pinned != nil {
			pinned.Release()
		}
	})
	disttest.BenchDo(b, engine(), map[string]func(context.Context, string) error{
		"advisory-lock-by-hand": func(ctx context.Context, name string) error {
			if pinned == nil {
				c, err := p.Acquire(ctx)
				if err != nil {
					return err
				}
				pinned = c
			}
			if _, err := pinned.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", name); err != nil {
				return err
			}
			_, err := pinned.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
			return err
		},
	})
}

// BenchmarkContended: 2, 8 and 32 handles on pools of their own.
func BenchmarkContended(b *testing.B) {
	srv.Need(b)
	disttest.BenchContended(b, engine())
}
