package compare

import (
	"context"
	"testing"

	"github.com/go-redsync/redsync/v4"
	redsyncgoredis "github.com/go-redsync/redsync/v4/redis/goredis/v9"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/redis"
)

// BenchmarkDo: Do through the proxy (two round trips: the acquire script,
// which mints the fencing token, and the release script) against redsync
// called by hand: its lock and unlock (two round trips, no token), and the
// same with an INCR for a token (three).
func BenchmarkDo(b *testing.B) {
	srv.Need(b)
	c := newClient(b, srv.Addr)
	rs := redsync.New(redsyncgoredis.NewPool(c))
	hand := func(token bool) func(ctx context.Context, name string) error {
		return func(ctx context.Context, name string) error {
			m := rs.NewMutex(name, redsync.WithExpiry(redis.DefaultExpiry), redsync.WithTries(1))
			if err := m.LockContext(ctx); err != nil {
				return err
			}
			if token {
				if err := c.Incr(ctx, name+":fence").Err(); err != nil {
					return err
				}
			}
			_, err := m.UnlockContext(ctx)
			return err
		}
	}
	disttest.BenchDo(b, engine(), map[string]func(context.Context, string) error{
		"redsync-by-hand-with-token": hand(true),
		"redsync-by-hand":            hand(false),
	})
}
