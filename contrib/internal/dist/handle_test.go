package dist_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/dist"
	"github.com/gomixin/mixin/validate/conform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memory is an engine in one process: a lock with a holder, polled, whose
// leases a test can end as a server would.
type memory struct {
	mu     sync.Mutex
	holder *memLease
	tokens int64
}

type memLease struct {
	m     *memory
	token int64
	gone  chan struct{} // closed when the lease ends
	once  sync.Once
}

func (m *memory) Acquire(ctx context.Context) (dist.Lease, error) {
	for {
		m.mu.Lock()
		if m.holder == nil {
			m.tokens++
			l := &memLease{m: m, token: m.tokens, gone: make(chan struct{})}
			m.holder = l
			m.mu.Unlock()
			return l, nil
		}
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (m *memory) TryAcquire(context.Context) (dist.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holder != nil {
		return nil, nil
	}
	m.tokens++
	l := &memLease{m: m, token: m.tokens, gone: make(chan struct{})}
	m.holder = l
	return l, nil
}

func (m *memory) Locked(context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.holder != nil, nil
}

// expire ends the current holder's lease, as a server whose lease ran out.
func (m *memory) expire() {
	m.mu.Lock()
	l := m.holder
	m.holder = nil
	m.mu.Unlock()
	if l != nil {
		l.once.Do(func() { close(l.gone) })
	}
}

func (l *memLease) Keep(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-l.gone:
		return nil // lost: the handle says why
	}
}

func (l *memLease) Release(context.Context) (bool, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if l.m.holder != l {
		return false, nil
	}
	l.m.holder = nil
	return true, nil
}

func (l *memLease) Held(context.Context) (bool, error) {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.m.holder == l, nil
}

func (l *memLease) Token() int64 { return l.token }

func TestHandlesConform(t *testing.T) {
	m := &memory{}
	newHandle := func() any { return dist.NewHandle(m, "mem", "memory lock", time.Second) }
	conform.Lock(t, newHandle, conform.Handles())
	conform.OwnerLock(t, newHandle, conform.Handles())
	shared := dist.NewHandle(&memory{}, "mem", "memory lock", time.Second)
	conform.Lock(t, func() any { return shared })
}

func TestHandleReportsALostLeaseOnce(t *testing.T) {
	m := &memory{}
	a := dist.NewHandle(m, "mem", "memory lock", time.Second)
	b := dist.NewHandle(m, "mem", "memory lock", time.Second)
	ctx := adapters.WithTask(context.Background())
	ok, err := a.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	tok, _ := a.Token()
	assert.Equal(t, int64(1), tok)
	assert.True(t, a.IsOwner(ctx))

	m.expire()
	select {
	case <-a.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the loss was not reported")
	}
	at, why := a.LostAt()
	assert.False(t, at.IsZero())
	assert.ErrorIs(t, why, dist.ErrLeaseExpired)
	assert.False(t, a.IsOwner(ctx), "a lost hold is nobody's")

	ok, err = b.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	err = a.Release(ctx)
	assert.ErrorIs(t, err, adapters.ErrLockLost)
	held, err := b.HeldContext(ctx)
	require.NoError(t, err)
	assert.True(t, held, "a's release left b's hold")
	assert.Nil(t, a.Lost(), "a holds nothing now")
	assert.ErrorIs(t, a.Release(ctx), adapters.ErrNotLocked)
	require.NoError(t, b.Release(ctx))
}

// refusing is a memory engine whose leases refuse a release with an ended
// ctx, as a server call does.
type refusing struct{ *memory }

type refusingLease struct{ *memLease }

func (r refusing) Acquire(ctx context.Context) (dist.Lease, error) {
	l, err := r.memory.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return refusingLease{l.(*memLease)}, nil
}

func (l refusingLease) Release(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return l.memLease.Release(ctx)
}

func TestReleaseWithAnEndedCtxStillGivesTheLockBack(t *testing.T) {
	m := &memory{}
	h := dist.NewHandle(refusing{m}, "mem", "memory lock", time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	ok, err := h.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	cancel()
	require.NoError(t, h.Release(ctx))
	locked, err := m.Locked(context.Background())
	require.NoError(t, err)
	assert.False(t, locked, "the server's lock was given back")
}

// timingOut is an engine whose Acquire, once ctx ends, fails with the
// server's words for it, as etcd's "request timed out" or a gRPC status.
type timingOut struct{ *memory }

var errServerTimedOut = errors.New("etcdserver: request timed out")

func (timingOut) Acquire(ctx context.Context) (dist.Lease, error) {
	<-ctx.Done()
	return nil, errServerTimedOut
}

func TestAcquireWhoseCtxEndedReturnsCtxErrorWithTheServers(t *testing.T) {
	h := dist.NewHandle(timingOut{&memory{}}, "mem", "memory lock", time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	ok, err := h.Acquire(ctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, errServerTimedOut, "the server's error is kept beside it")

	cctx, ccancel := context.WithCancel(context.Background())
	time.AfterFunc(5*time.Millisecond, ccancel)
	ok, err = h.Acquire(cctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTryAcquireMakesOneAttempt(t *testing.T) {
	m := &memory{}
	a := dist.NewHandle(m, "mem", "memory lock", time.Second)
	b := dist.NewHandle(m, "mem", "memory lock", time.Second)
	ctx := context.Background()
	ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = b.TryAcquire(ctx)
	assert.NoError(t, err)
	assert.False(t, ok, "held through another handle")
	ok, err = a.TryAcquire(ctx)
	assert.NoError(t, err)
	assert.False(t, ok, "held through this handle")
	require.NoError(t, a.Release(ctx))
	ok, err = b.TryAcquire(ctx)
	assert.NoError(t, err)
	assert.True(t, ok)
	require.NoError(t, b.Release(ctx))

	ended, cancel := context.WithCancel(ctx)
	cancel()
	ok, err = a.TryAcquire(ended)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.Canceled)
}

// late is an engine whose one lease ends at a time it knows, and whose
// keeper finds that out only when the test says: a process too busy to run
// its keeper when the lease runs out.
type late struct {
	until time.Time
	found chan struct{} // closed to let the keeper find the loss
}

func (e *late) Acquire(context.Context) (dist.Lease, error)    { return e, nil }
func (e *late) TryAcquire(context.Context) (dist.Lease, error) { return e, nil }
func (e *late) Locked(context.Context) (bool, error)           { return true, nil }
func (e *late) Release(context.Context) (bool, error)          { return false, nil }
func (e *late) Held(context.Context) (bool, error)             { return false, nil }
func (e *late) Token() int64                                   { return 1 }
func (e *late) Until() time.Time                               { return e.until }

func (e *late) Keep(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-e.found:
		return dist.ErrLeaseExpired
	}
}

// TestALeaseThatRanOutIsNotOwnedBeforeItsKeeperFindsIt: an Ending lease
// past its end is not owned, though its keeper has not run; once the keeper
// finds the loss, it is dated at the lease's end, not when it was found.
func TestALeaseThatRanOutIsNotOwnedBeforeItsKeeperFindsIt(t *testing.T) {
	e := &late{until: time.Now().Add(50 * time.Millisecond), found: make(chan struct{})}
	h := dist.NewHandle(e, "x", "lock x", time.Second)
	ctx := context.Background()
	ok, err := h.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, h.IsOwner(ctx), "within the lease")
	time.Sleep(time.Until(e.until) + 10*time.Millisecond)
	assert.False(t, h.IsOwner(ctx), "past the lease's end, its keeper not yet told")
	close(e.found)
	<-h.Lost()
	at, why := h.LostAt()
	assert.ErrorIs(t, why, dist.ErrLeaseExpired)
	assert.Equal(t, e.until, at, "dated at the lease's end")
	assert.ErrorIs(t, h.Release(ctx), adapters.ErrLockLost)
}
