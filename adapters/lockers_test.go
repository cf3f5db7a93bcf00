package adapters_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// The lockers the ecosystem holds, in their shapes, written here as their
// authors write them (the real ones are exercised in the ecosystem module).

// leaseLock is redsync-shaped: LockContext/UnlockContext and the
// context-less Lock/Unlock, whose unlock reports whether the lease was still
// held.
type leaseLock struct {
	sem                  chan struct{}
	expired              atomic.Bool // the lease ran out: unlock reports false
	unlockErr            error
	ctxCalls, plainCalls atomic.Int64
}

func newLeaseLock() *leaseLock { return &leaseLock{sem: make(chan struct{}, 1)} }

func (l *leaseLock) LockContext(ctx context.Context) error {
	l.ctxCalls.Add(1)
	select {
	case l.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *leaseLock) UnlockContext(context.Context) (bool, error) {
	l.ctxCalls.Add(1)
	<-l.sem
	if l.expired.Load() {
		return false, l.unlockErr
	}
	return true, nil
}

func (l *leaseLock) Lock() error           { l.plainCalls.Add(1); l.sem <- struct{}{}; return nil }
func (l *leaseLock) Unlock() (bool, error) { l.plainCalls.Add(1); <-l.sem; return true, nil }

func TestLockContextIsPreferredAndALostLeaseIsReported(t *testing.T) {
	l := newLeaseLock()
	p, err := adapters.NewLock(l)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, p.Do(ctx, func(context.Context) error { return nil }))
	assert.Equal(t, int64(2), l.ctxCalls.Load(), "LockContext and UnlockContext")
	assert.Zero(t, l.plainCalls.Load(), "the context-less pair was used")

	for _, tc := range []struct {
		name      string
		unlockErr error
	}{
		{"false, nil", nil},
		{"false, err", errors.New("lock already expired")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.expired.Store(true)
			l.unlockErr = tc.unlockErr
			defer l.expired.Store(false)
			err := p.Do(ctx, func(context.Context) error { return nil })
			require.ErrorIs(t, err, adapters.ErrLockLost, "an unlock that says false is never a success")
			if tc.unlockErr != nil {
				assert.ErrorIs(t, err, tc.unlockErr)
			}
		})
	}
}

// ctxUnlockBool is Lock(ctx) error with Unlock(ctx) (bool, error).
type ctxUnlockBool struct{ leaseLock }

func (c *ctxUnlockBool) Lock(ctx context.Context) error { return c.LockContext(ctx) }
func (c *ctxUnlockBool) Unlock(ctx context.Context) (bool, error) {
	return c.UnlockContext(ctx)
}

func TestCtxLockerWithBoolUnlock(t *testing.T) {
	v := &ctxUnlockBool{leaseLock{sem: make(chan struct{}, 1)}}
	p, err := adapters.NewLock(v)
	require.NoError(t, err)
	ok, err := p.Acquire(context.Background())
	require.True(t, ok)
	require.NoError(t, err)
	v.expired.Store(true)
	assert.ErrorIs(t, p.Release(context.Background()), adapters.ErrLockLost)
}

// fileLock is flock-shaped: Lock() error, Unlock() error, TryLock() (bool,
// error), Locked() bool, and, like flock, a mutex of its own held while a
// blocking Lock waits.
type fileLock struct {
	mu      sync.Mutex // flock's: held across a blocking Lock
	held    chan struct{}
	locked  bool
	tryErrs error
}

func newFileLock() *fileLock { return &fileLock{held: make(chan struct{}, 1)} }

func (f *fileLock) Lock() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held <- struct{}{}
	f.locked = true
	return nil
}

func (f *fileLock) Unlock() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.locked {
		return nil
	}
	f.locked = false
	<-f.held
	return nil
}

func (f *fileLock) TryLock() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tryErrs != nil {
		return false, f.tryErrs
	}
	select {
	case f.held <- struct{}{}:
		f.locked = true
		return true, nil
	default:
		return false, nil
	}
}

func (f *fileLock) Locked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.locked
}

func TestErrorLockerPollsTryLockAndLeavesNothingInFlight(t *testing.T) {
	shared := newFileLock() // the file both handles lock
	other := &fileLock{held: shared.held}
	p, err := adapters.NewLock(shared)
	require.NoError(t, err)
	q, err := adapters.NewLock(other)
	require.NoError(t, err)
	ok, err := p.Acquire(context.Background())
	require.True(t, ok)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ok, err = q.Acquire(ctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	done := make(chan bool)
	go func() { done <- q.Locked() }()
	select {
	case locked := <-done:
		assert.False(t, locked)
	case <-time.After(5 * time.Second):
		t.Fatal("Locked blocked: an abandoned Lock is still in flight, holding the locker's mutex")
	}

	go func() { time.Sleep(10 * time.Millisecond); _ = p.Release(context.Background()) }()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	ok, err = q.Acquire(ctx2)
	require.NoError(t, err, "the poll saw the lock freed")
	assert.True(t, ok)
	assert.True(t, q.Locked())
	require.NoError(t, q.Release(context.Background()))

	boom := errors.New("bad file descriptor")
	other.tryErrs = boom
	_, err = q.Acquire(ctx2)
	assert.ErrorIs(t, err, boom, "TryLock's error ends the acquire")
}

// plainErrLocker is Lock() error / Unlock() error without TryLock: a
// context-less acquire the proxy makes cancellable.
type plainErrLocker struct{ held chan struct{} }

func (p plainErrLocker) Lock() error   { p.held <- struct{}{}; return nil }
func (p plainErrLocker) Unlock() error { <-p.held; return nil }

func TestErrorLockerWithoutTryLockIsCancellable(t *testing.T) {
	v := plainErrLocker{make(chan struct{}, 1)}
	p, err := adapters.NewLock(v)
	require.NoError(t, err)
	require.NoError(t, v.Lock()) // held by someone else
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	ok, err := p.Acquire(ctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, v.Unlock())
	// The acquisition made for the caller who left is given back.
	require.Eventually(t, func() bool { return len(v.held) == 0 }, 5*time.Second, time.Millisecond)
	require.NoError(t, p.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Empty(t, v.held)
}
