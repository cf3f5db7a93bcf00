// Package compare measures the module's lock beside redsync, a peer kept
// out of contrib/redis's own go.mod: a benchmark only.
package compare

import (
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
	"github.com/gomixin/mixin/contrib/redis"
)

// srv is the redis-server the benchmark starts on 127.0.0.1, or the
// deployment MIXIN_REDIS_ADDR names.
var srv disttest.Found

func TestMain(m *testing.M) {
	srv = disttest.Find(serverproc.Redis, "MIXIN_REDIS_ADDR")
	srv.Main(m, goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}

// newClient returns a client of its own, closed at the end.
func newClient(t testing.TB, at string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: at, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// engine is what disttest.BenchDo needs: handles on a client each.
func engine() disttest.Engine {
	return disttest.Engine{
		Addr: srv.Addr, Server: srv.Server,
		NewLock: func(t testing.TB, at, name string, lease, timeout time.Duration) disttest.Lock {
			l, err := redis.NewLock(newClient(t, at), name, redis.WithExpiry(lease), redis.WithTimeout(timeout))
			require.NoError(t, err)
			return l
		},
	}
}
