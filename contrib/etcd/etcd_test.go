package etcd_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomixin/mixin/contrib/etcd"
	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// silentGRPC is why the battery's cells of a waiter on a connection gone
// silent are known not to keep their promise within its bound on etcd.
const silentGRPC = "a gRPC connection gone silent (no reset) is noticed only by gRPC's keepalive (clientv3.Config.DialKeepAliveTime and DialKeepAliveTimeout), which grpc-go runs at most every 10 s and which is off by default: until then every call on that client waits, a watch included"

// engine is how the shared battery reaches etcd: each handle on a client of
// its own.
func engine() disttest.Engine {
	return disttest.Engine{
		Addr: srv.Addr, Server: srv.Server,
		// etcd's shortest lease, 1s; its client finds a lease lost up to
		// half a second after it ran out (it checks keep-alive deadlines
		// every 500ms).
		Lease: time.Second, Grace: 1500 * time.Millisecond,
		NewLock: func(t testing.TB, at, name string, lease, timeout time.Duration) disttest.Lock {
			l, err := etcd.NewLock(newClient(t, at), name, etcd.WithTTL(int((lease+time.Second-1)/time.Second)), etcd.WithTimeout(timeout))
			require.NoError(t, err)
			return l
		},
		NewSemaphore: func(t testing.TB, at, name string, permits int, lease, timeout time.Duration) disttest.Lock {
			s, err := etcd.NewSemaphore(newClient(t, at), name, permits, etcd.WithTTL(int((lease+time.Second-1)/time.Second)), etcd.WithTimeout(timeout))
			require.NoError(t, err)
			return s
		},
		NewEvent: func(t testing.TB, at, name string, timeout time.Duration) disttest.Event {
			e, err := etcd.NewEvent[string](newClient(t, at), name, etcd.WithTimeout(timeout))
			require.NoError(t, err)
			return e
		},
		Prefixed: func(t testing.TB, at, prefix, name string) disttest.Lock {
			l, err := etcd.NewLock(newClient(t, at), name, etcd.WithPrefix(prefix))
			require.NoError(t, err)
			return l
		},
		Conditions: []disttest.Condition{{
			Name:   "compaction-during-drop",
			Does:   "the connections are dropped (a blip) while the store's history is compacted up to its latest revision, twice: as the blip begins and before it ends",
			Server: true,
			Make: func(t testing.TB, e disttest.Engine, p *serverproc.Proxy) func() {
				c := newClient(t, e.Addr)
				p.Cut()
				compact(t, c)
				return func() {
					compact(t, c)
					p.Resume()
				}
			},
		}},
		Known: map[string]string{
			"silence/waiting":       silentGRPC,
			"silence/event-waiting": silentGRPC,
		},
		Closed: func(t testing.TB, at, name string, permits int) disttest.Lock {
			c := newClient(t, at)
			var l disttest.Lock
			var err error
			if permits == 0 {
				l, err = etcd.NewLock(c, name)
			} else {
				l, err = etcd.NewSemaphore(c, name, permits)
			}
			require.NoError(t, err)
			require.NoError(t, c.Close())
			return l
		},
	}
}

func TestEtcd(t *testing.T) {
	srv.Need(t)
	disttest.Run(t, engine())
}

func TestEventStoresJSONByDefault(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	type reading struct {
		Sensor string
		Value  float64
	}
	e, err := etcd.NewEvent[reading](c, name)
	require.NoError(t, err)
	require.NoError(t, e.Set(reading{"s1", 2.5}))
	resp, err := c.Get(context.Background(), e.Key())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	assert.JSONEq(t, `{"Sensor":"s1","Value":2.5}`, string(resp.Kvs[0].Value))
}

func TestNewLockRefusesBadInput(t *testing.T) {
	_, err := etcd.NewLock(nil, "x")
	assert.ErrorContains(t, err, "nil client")
	_, err = etcd.NewEvent[int](nil, "x")
	assert.ErrorContains(t, err, "nil client")
	_, err = etcd.NewSemaphore(nil, "x", 1)
	assert.ErrorContains(t, err, "nil client")
}

// compact compacts the store's history up to its latest revision.
func compact(t testing.TB, c *clientv3.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, "mixin-test/compaction")
	require.NoError(t, err)
	_, err = c.Compact(ctx, resp.Header.Revision)
	require.NoError(t, err)
}
