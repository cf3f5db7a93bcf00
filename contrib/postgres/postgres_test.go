package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/postgres"
)

// engine is how the shared battery reaches PostgreSQL: each handle on a
// pool of its own.
func engine() disttest.Engine {
	return disttest.Engine{
		Addr: srv.Addr, Server: srv.Server,
		Lease: 500 * time.Millisecond, Grace: 500 * time.Millisecond,
		NewLock: func(t testing.TB, at, name string, lease, timeout time.Duration) disttest.Lock {
			l, err := postgres.NewLock(newPool(t, at), name, postgres.WithLease(lease), postgres.WithTimeout(timeout))
			require.NoError(t, err)
			return l
		},
		NewSemaphore: func(t testing.TB, at, name string, permits int, lease, timeout time.Duration) disttest.Lock {
			s, err := postgres.NewSemaphore(newPool(t, at), name, permits, postgres.WithLease(lease), postgres.WithTimeout(timeout))
			require.NoError(t, err)
			return s
		},
		NewEvent: func(t testing.TB, at, name string, timeout time.Duration) disttest.Event {
			e, err := postgres.NewEvent[string](newPool(t, at), name, postgres.WithTimeout(timeout))
			require.NoError(t, err)
			return e
		},
		Prefixed: func(t testing.TB, at, prefix, name string) disttest.Lock {
			l, err := postgres.NewLock(newPool(t, at), name, postgres.WithPrefix(prefix))
			require.NoError(t, err)
			return l
		},
		Closed: func(t testing.TB, at, name string, permits int) disttest.Lock {
			p, err := pgxpool.New(context.Background(), connString(at))
			require.NoError(t, err)
			var l disttest.Lock
			if permits == 0 {
				l, err = postgres.NewLock(p, name)
			} else {
				l, err = postgres.NewSemaphore(p, name, permits)
			}
			require.NoError(t, err)
			p.Close()
			return l
		},
	}
}

func TestPostgres(t *testing.T) {
	srv.Need(t)
	disttest.Run(t, engine())
}
