package redis_test

import (
	"flag"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// The tests run against a redis-server they start on 127.0.0.1 (a free
// port, a temporary directory), or against the deployment MIXIN_REDIS_ADDR
// names (host:port): then the fault tests, which stop the server, skip.
var srv disttest.Found

func TestMain(m *testing.M) {
	srv = disttest.Find(serverproc.Redis, "MIXIN_REDIS_ADDR")
	if srv.Addr == "" {
		// No redis-server: the tests skip, naming the package; the
		// examples, which cannot skip, are left out unless -run names them.
		flag.Parse()
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			_ = flag.Set("test.run", "^Test")
		}
	}
	// After dials fail (the fault tests stop the server), go-redis probes in
	// the background once a second until a dial works or its pool is
	// closed: it ends within a second of the client's Close.
	srv.Main(m, goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}

// newClient returns a client of its own (its own connections), closed at
// the end of the test.
func newClient(t testing.TB, at string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: at, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
