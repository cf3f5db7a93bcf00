package etcd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// The tests run against an etcd they start on 127.0.0.1 (free ports, a
// temporary data directory), or against the deployment
// MIXIN_ETCD_ENDPOINTS names (host:port[,host:port...]): then the fault
// tests, which stop the server, skip.
var srv disttest.Found

func TestMain(m *testing.M) {
	srv = disttest.Find(serverproc.Etcd, "MIXIN_ETCD_ENDPOINTS")
	srv.Main(m)
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
