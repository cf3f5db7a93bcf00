package etcd_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/contrib/etcd"
	"github.com/gomixin/mixin/contrib/internal/disttest"
)

// holdKey returns the one key under prefix (a hold's), failing otherwise.
func holdKey(t *testing.T, c *clientv3.Client, prefix string) (key string, lease clientv3.LeaseID, createRev int64) {
	t.Helper()
	resp, err := c.Get(context.Background(), prefix, clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "one hold's key under %s", prefix)
	kv := resp.Kvs[0]
	return string(kv.Key), clientv3.LeaseID(kv.Lease), kv.CreateRevision
}

// TestHoldsReuseTheHandlesLease: a handle's holds are put on one lease,
// granted once, each hold's key created anew (its token, the key's create
// revision, rising); a lease lost while held is reported, and the next hold
// is on a new lease.
func TestHoldsReuseTheHandlesLease(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	l, err := etcd.NewLock(c, name, etcd.WithTTL(2)) // its keep-alives, and so the loss's report, every 2/3 s
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	prefix := "mixin/lock/" + dist(name) + "/"

	var leases []clientv3.LeaseID
	var tokens []int64
	for range 3 {
		ok, err := l.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		_, lease, rev := holdKey(t, c, prefix)
		tok, _ := l.Token()
		assert.Equal(t, rev, tok, "the token is the key's create revision")
		leases, tokens = append(leases, lease), append(tokens, tok)
		require.NoError(t, l.Release(ctx))
	}
	assert.Equal(t, leases[0], leases[1], "the second hold reuses the first's lease")
	assert.Equal(t, leases[0], leases[2], "the third hold reuses the first's lease")
	assert.Less(t, tokens[0], tokens[1])
	assert.Less(t, tokens[1], tokens[2])
	resp, err := c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	require.NoError(t, err)
	assert.Zero(t, resp.Count, "a released hold leaves no key")

	ok, err := l.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = c.Revoke(ctx, leases[0]) // the lease is lost (an operator, a server that expired it)
	require.NoError(t, err)
	select {
	case <-l.Lost():
	case <-ctx.Done():
		t.Fatal("the holder was not told of its lost lease")
	}
	assert.ErrorContains(t, l.Release(ctx), "lost")

	ok, err = l.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	_, lease, rev := holdKey(t, c, prefix)
	assert.NotEqual(t, leases[0], lease, "the hold after a loss is on a new lease")
	assert.Greater(t, rev, tokens[2])
	require.NoError(t, l.Release(ctx))
}

// TestIdleHandleKeepsNoLeaseAlive: between holds nothing keeps the handle's
// lease alive: it ends within its TTL, and the next hold is on a new one.
func TestIdleHandleKeepsNoLeaseAlive(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	l, err := etcd.NewLock(c, name, etcd.WithTTL(1))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	prefix := "mixin/lock/" + dist(name) + "/"
	ok, err := l.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	_, lease, _ := holdKey(t, c, prefix)
	require.NoError(t, l.Release(ctx))
	require.Eventually(t, func() bool {
		ttl, err := c.TimeToLive(ctx, lease)
		return err == nil && ttl.TTL == -1
	}, 10*time.Second, 100*time.Millisecond, "the idle handle's lease ends")
	ok, err = l.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	_, next, _ := holdKey(t, c, prefix)
	assert.NotEqual(t, lease, next)
	require.NoError(t, l.Release(ctx))
}

// TestSemaphoreReleaseOutOfOrderAdmitsTheFirstWaiter: with 2 permits held by
// a (first) and b, and waiters w1 and w2 queued behind them, b's release
// admits w1, though a, the key two before w1, still holds; then a's admits
// w2. A waiter watching only one key ahead of it would miss one of them.
func TestSemaphoreReleaseOutOfOrderAdmitsTheFirstWaiter(t *testing.T) {
	srv.Need(t)
	name := disttest.Unique(t)
	mk := func() *etcd.Semaphore {
		s, err := etcd.NewSemaphore(newClient(t, srv.Addr), name, 2)
		require.NoError(t, err)
		return s
	}
	a, b, w1, w2 := mk(), mk(), mk(), mk()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range []*etcd.Semaphore{a, b} {
		ok, err := s.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
	}
	assert.True(t, a.Locked(), "both permits taken")
	wait := func(s *etcd.Semaphore) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := s.Acquire(ctx)
			done <- err
		}()
		return done
	}
	first := wait(w1)
	require.Eventually(t, func() bool { return queued(t, w1.Name(), 3) }, 5*time.Second, 10*time.Millisecond)
	second := wait(w2)
	require.Eventually(t, func() bool { return queued(t, w1.Name(), 4) }, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, b.Release(ctx))
	require.NoError(t, <-first, "b's release admits w1")
	select {
	case err := <-second:
		t.Fatalf("w2 was admitted beyond the permits (%v)", err)
	default:
	}
	require.NoError(t, a.Release(ctx))
	require.NoError(t, <-second, "a's release admits w2")
	require.NoError(t, w1.Release(ctx))
	require.NoError(t, w2.Release(ctx))
}

// queued reports whether n keys are under the semaphore name's prefix.
func queued(t *testing.T, name string, n int64) bool {
	c := newClient(t, srv.Addr)
	resp, err := c.Get(context.Background(), "mixin/semaphore/"+dist(name)+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	return err == nil && resp.Count == n
}

// dist escapes a name as the keys do.
func dist(name string) string {
	out := ""
	for _, r := range []byte(name) {
		switch r {
		case '/', '%':
			out += fmt.Sprintf("%%%02X", r)
		default:
			out += string(r)
		}
	}
	return out
}

func TestSemaphoreComposesAsALock(t *testing.T) {
	srv.Need(t)
	s, err := etcd.NewSemaphore(newClient(t, srv.Addr), disttest.Unique(t), 3)
	require.NoError(t, err)
	assert.Equal(t, 3, s.Permits())
	c, err := mixin.Compose(s)
	require.NoError(t, err)
	assert.True(t, c.Has(mixin.KindLock))
	assert.True(t, c.Has(mixin.KindOwnerLock))
}

func TestNewSemaphoreRefusesBadInput(t *testing.T) {
	c := newClient(t, "127.0.0.1:1")
	for _, tc := range []struct {
		name    string
		client  *clientv3.Client
		permits int
		want    string
	}{
		{"x", nil, 1, "nil client"},
		{"", c, 1, "empty name"},
		{"x", c, 0, "0 permits"},
		{"x", c, -3, "-3 permits"},
	} {
		s, err := etcd.NewSemaphore(tc.client, tc.name, tc.permits)
		assert.ErrorContains(t, err, tc.want)
		assert.Nil(t, s)
	}
}

// TestNamesUsedOnceLeaveNoKey: 300 locks and 300 semaphores acquired and
// released once, and 300 events set and cleared once, leave no key under
// the prefix: a hold's key goes with its release (and its lease within its
// TTL were the release lost), an event's with its Clear.
func TestNamesUsedOnceLeaveNoKey(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	prefix := "mixin-leftovers-" + fmt.Sprint(time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 300 {
		name := fmt.Sprintf("order-%d", i)
		l, err := etcd.NewLock(c, name, etcd.WithPrefix(prefix))
		require.NoError(t, err)
		s, err := etcd.NewSemaphore(c, name, 2, etcd.WithPrefix(prefix))
		require.NoError(t, err)
		for _, h := range []interface {
			Acquire(context.Context) (bool, error)
			Release(context.Context) error
		}{l, s} {
			ok, err := h.Acquire(ctx)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, h.Release(ctx))
		}
		e, err := etcd.NewEvent[int](c, name, etcd.WithPrefix(prefix))
		require.NoError(t, err)
		require.NoError(t, e.SetContext(ctx, i))
		require.NoError(t, e.Clear())
	}
	resp, err := c.Get(ctx, prefix+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	require.NoError(t, err)
	var left []string
	for _, kv := range resp.Kvs {
		left = append(left, string(kv.Key))
	}
	assert.Empty(t, left, "keys left behind by names used once")
}
