package redis_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/internal/serverproc"
)

// The tests run against a redis-server they start on 127.0.0.1 (a free
// port, a temporary directory), or against the deployment MIXIN_REDIS_ADDR
// names (host:port): then the fault tests, which stop the server, skip.
var (
	server  *serverproc.Server
	addr    string
	missing string // why there is no server: the tests skip with it
)

func TestMain(m *testing.M) {
	addr = os.Getenv("MIXIN_REDIS_ADDR")
	if addr == "" {
		s, err := serverproc.Start(serverproc.Redis)
		switch {
		case errors.Is(err, serverproc.ErrMissing):
			missing = err.Error()
		case err != nil:
			fmt.Fprintln(os.Stderr, "contrib/redis:", err)
			os.Exit(1)
		default:
			server, addr = s, s.Addr()
		}
	}
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction(serverproc.Reaper),
		// After dials fail (the fault tests stop the server), go-redis probes
		// in the background once a second until a dial works or its pool is
		// closed: it ends within a second of the client's Close.
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"),
		goleak.Cleanup(func(code int) {
			if server != nil {
				_ = server.Close()
			}
			os.Exit(code)
		}))
}

// need skips a test when there is no Redis to run it against.
func need(t testing.TB) {
	t.Helper()
	if addr == "" {
		t.Skipf("contrib/redis: no Redis: %s; install it (apt-get install redis-server) or set MIXIN_REDIS_ADDR", missing)
	}
}

// newClient returns a client of its own (its own connections), closed at
// the end of the test.
func newClient(t testing.TB, at string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: at, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
