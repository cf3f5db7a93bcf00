package etcd_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomixin/mixin/contrib/etcd"
	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// TestLateKeepAliveAnswersTellTheHolderBeforeAnotherAcquires: the server's
// answers reach the holder 1.2 s late (a slow return path), then the
// holder's requests stop reaching the server (its answers to what it had
// received still arrive). etcd counts the lease from when it renewed it, a
// return trip before the answer arrives; a holder that counted it from the
// answer's arrival believed it held the lock for up to 1.2 s after etcd
// expired it, and another handle took it meanwhile. The holder is told
// first.
func TestLateKeepAliveAnswersTellTheHolderBeforeAnotherAcquires(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := disttest.Unique(t)
	c := newClient(t, p.Addr())
	first, err := etcd.NewLock(c, name, etcd.WithTTL(3))
	require.NoError(t, err)
	second, err := etcd.NewLock(newClient(t, srv.Addr), name, etcd.WithTTL(3))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	ok, err := first.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	hist := &disttest.History{}
	firstHold := hist.Acquired("first", first)
	p.Delay(serverproc.ToClient, 1200*time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // the lease kept alive through late answers
	require.True(t, first.IsOwner(ctx), "the holder holds the lock through the late answers")
	p.Hold(serverproc.ToServer)
	defer p.Resume()

	taken := make(chan error, 1)
	var secondHold *disttest.Hold
	go func() {
		ok, err := second.Acquire(ctx)
		if ok {
			secondHold = hist.Acquired("second", second)
		}
		taken <- err
	}()
	select {
	case <-first.Lost():
	case <-ctx.Done():
		t.Fatal("the holder was not told of its lost lease")
	}
	require.NoError(t, <-taken, "another handle acquires once etcd expired the lease")
	firstHold.Lost, _ = first.LostAt()
	firstHold.Released = time.Now()
	hist.Record(*firstHold)
	require.NoError(t, hist.Release(ctx, secondHold, second))
	t.Logf("the holder was told %v before another handle acquired", secondHold.Acquired.Sub(firstHold.Lost).Round(time.Millisecond))
	hist.Check(t)
	p.Resume()
	assert.ErrorContains(t, first.Release(ctx), "lost")
}

// blipWithCompaction cuts the proxy's connections, runs during (Sets, or
// what the test needs) on a client that is not cut off, compacts the
// store's history up to its latest revision, and lets the connections back.
func blipWithCompaction(t *testing.T, p *serverproc.Proxy, c *clientv3.Client, during func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.Cut()
	time.Sleep(100 * time.Millisecond)
	during()
	resp, err := c.Get(ctx, "mixin-test/compaction")
	require.NoError(t, err)
	_, err = c.Compact(ctx, resp.Header.Revision)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	p.Resume()
}

// TestEventWaiterOutlivesACompaction: a WaitForNext cut off (a blip) while
// etcd compacted its history past the waiter's revision ended with
// "mvcc: required revision has been compacted", though its ctx had long to
// run, and the Set made during the blip was never delivered. It reads the
// key again and wakes with that Set's value.
func TestEventWaiterOutlivesACompaction(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := disttest.Unique(t)
	waiter, err := etcd.NewEvent[string](newClient(t, p.Addr()), name)
	require.NoError(t, err)
	c := newClient(t, srv.Addr)
	setter, err := etcd.NewEvent[string](c, name)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	type result struct {
		v   string
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := waiter.WaitForNext(ctx)
		got <- result{v, err}
	}()
	time.Sleep(disttest.Settle) // waiting
	blipWithCompaction(t, p, c, func() {
		require.NoError(t, setter.Set("meanwhile-1"))
		require.NoError(t, setter.Set("meanwhile"))
	})
	select {
	case r := <-got:
		require.NoError(t, r.err, "WaitForNext through a compaction")
		assert.Equal(t, "meanwhile", r.v, "the latest Set made during the blip")
	case <-time.After(15 * time.Second):
		t.Fatal("the waiter did not wake with the Set made during the blip")
	}
}

// TestWaitingAcquireOutlivesACompaction: an Acquire waiting for a held
// lock, cut off (a blip) while etcd compacted its history past the
// revision its watch had to resume from, failed with the compaction error
// though its ctx had long to run. It waits on, and acquires once the
// holder releases.
func TestWaitingAcquireOutlivesACompaction(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := disttest.Unique(t)
	c := newClient(t, srv.Addr)
	holder, err := etcd.NewLock(c, name, etcd.WithTTL(5))
	require.NoError(t, err)
	waiter, err := etcd.NewLock(newClient(t, p.Addr()), name, etcd.WithTTL(5))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ok, err := holder.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	hist := &disttest.History{}
	holderHold := hist.Acquired("holder", holder)

	taken := make(chan error, 1)
	var waiterHold *disttest.Hold
	go func() {
		ok, err := waiter.Acquire(ctx)
		if ok {
			waiterHold = hist.Acquired("waiter", waiter)
		}
		taken <- err
	}()
	time.Sleep(300 * time.Millisecond) // waiting
	blipWithCompaction(t, p, c, func() {
		for i := range 3 { // revisions past the waiter's
			_, err := c.Put(ctx, "mixin-test/compaction", strconv.Itoa(i))
			require.NoError(t, err)
		}
	})
	select {
	case err := <-taken:
		t.Fatalf("the waiting Acquire returned while the lock was held: %v", err)
	case <-time.After(1500 * time.Millisecond): // back, and waiting
	}
	require.NoError(t, hist.Release(ctx, holderHold, holder))
	select {
	case err := <-taken:
		require.NoError(t, err, "the waiting Acquire acquires once the lock is released")
	case <-time.After(15 * time.Second):
		t.Fatal("the waiting Acquire did not acquire once the lock was released")
	}
	require.NoError(t, hist.Release(ctx, waiterHold, waiter))
	hist.Check(t)
}

// TestAcquireBegunWhileUnreachableWaitsForTheServer: an Acquire that needs a
// new lease begins while the server is unreachable (every connection cut,
// new ones refused) for 4 s, longer than the etcd client's own retries of a
// call that fails at once (100, 25 ms apart). The lease's grant waits for a
// connection, as the client's calls do: the Acquire never gives up while
// its ctx lasts, and holds the lock once the server is back. (A grant
// without the client's wait-for-ready call option gave up with
// "connection refused" after its retries: the battery's server-restarted
// waiters failed so on a loaded machine, where etcd restarts slowly.)
func TestAcquireBegunWhileUnreachableWaitsForTheServer(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	c := newClient(t, p.Addr())
	l, err := etcd.NewLock(c, disttest.Unique(t), etcd.WithTTL(1))
	require.NoError(t, err)
	_, err = c.Get(context.Background(), "connected") // the client has a connection, then loses it
	require.NoError(t, err)
	p.Cut()
	defer p.Resume()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	taken := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx)
		taken <- err
	}()
	time.Sleep(4 * time.Second)
	p.Resume()
	require.NoError(t, <-taken, "the Acquire waits for the server while its ctx lasts")
	require.NoError(t, l.Release(ctx))
}

// TestAcquireWhosePutIsCutOffBeginsAgain: the connection is cut while an
// Acquire's put (its key on the handle's lease) is on its way, the answer
// never read: the request may or may not have reached etcd. The Acquire
// gave up with "error reading from server: EOF" though its ctx had long to
// run (TestWaitingAcquireOutlivesACompaction failed so on a loaded
// machine, its blip coming before the waiter had begun to wait). It leaves
// that lease (revoked, its key with it) and begins again with a new one
// once the server answers.
func TestAcquireWhosePutIsCutOffBeginsAgain(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	l, err := etcd.NewLock(newClient(t, p.Addr()), disttest.Unique(t), etcd.WithTTL(5))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A hold and its release: the handle keeps its lease for the next hold,
	// which then begins with its put.
	ok, err := l.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, l.Release(ctx))

	p.Stall() // the put is held on its way
	defer p.Resume()
	taken := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx)
		taken <- err
	}()
	time.Sleep(200 * time.Millisecond)
	p.Cut() // and its connection closed: no answer
	time.Sleep(time.Second)
	p.Resume()
	require.NoError(t, <-taken, "the Acquire begins again while its ctx lasts")
	require.NoError(t, l.Release(ctx))
}
