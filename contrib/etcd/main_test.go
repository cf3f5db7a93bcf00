package etcd_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/gomixin/mixin/internal/serverproc"
)

// The tests run against an etcd they start on 127.0.0.1 (free ports, a
// temporary data directory), or against the deployment
// MIXIN_ETCD_ENDPOINTS names (host:port): then the fault tests, which stop
// the server, skip.
var (
	server  *serverproc.Server
	addr    string
	missing string // why there is no server: the tests skip with it
)

func TestMain(m *testing.M) {
	addr = os.Getenv("MIXIN_ETCD_ENDPOINTS")
	if addr == "" {
		s, err := serverproc.Start(serverproc.Etcd)
		switch {
		case errors.Is(err, serverproc.ErrMissing):
			missing = err.Error()
		case err != nil:
			fmt.Fprintln(os.Stderr, "contrib/etcd:", err)
			os.Exit(1)
		default:
			server, addr = s, s.Addr()
		}
	}
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(serverproc.Reaper), goleak.Cleanup(func(code int) {
		if server != nil {
			_ = server.Close()
		}
		os.Exit(code)
	}))
}

// need skips a test when there is no etcd to run it against.
func need(t testing.TB) {
	t.Helper()
	if addr == "" {
		t.Skipf("contrib/etcd: no etcd: %s; install it (apt-get install etcd-server) or set MIXIN_ETCD_ENDPOINTS", missing)
	}
}

// newClient returns a client of its own (its own connection), closed at the
// end of the test.
func newClient(t testing.TB, at string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(at, ","),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
