package conform_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate/conform"
)

// deafLock's Acquire ignores its ctx: it blocks on an inner mutex. The suite
// must report it, not hang, and leave nothing behind once its holder frees.
type deafLock struct {
	mu   sync.Mutex
	held bool
	hmu  sync.Mutex
}

func (l *deafLock) Acquire(context.Context) (bool, error) {
	l.mu.Lock()
	l.hmu.Lock()
	l.held = true
	l.hmu.Unlock()
	return true, nil
}

func (l *deafLock) Release(context.Context) error {
	l.hmu.Lock()
	l.held = false
	l.hmu.Unlock()
	l.mu.Unlock()
	return nil
}

func (l *deafLock) Locked() bool { l.hmu.Lock(); defer l.hmu.Unlock(); return l.held }

func TestLockSuiteReportsAnAcquireThatIgnoresItsCtx(t *testing.T) {
	r := &recorder{TB: t}
	start := time.Now()
	ok := conform.Lock(r, func() any { return &deafLock{} }, conform.WithTimeout(200*time.Millisecond), conform.WithWaiters(4))
	took := time.Since(start)
	assert.False(t, ok)
	assert.Contains(t, r.failures(), "cancelled-acquire-leaves-free: Acquire did not return within 200ms of its ctx ending: it ignores its ctx")
	t.Logf("failed in %v with:\n%s", took, r.failures())
	// goleak (TestMain) checks that the blocked Acquire was unblocked by the
	// suite's release and its acquisition given back.
}

// deafWaiters never wakes a waiter: Release frees the lock but nobody
// blocked in Acquire hears of it until its ctx ends.
type deafWaiters struct {
	mu   sync.Mutex
	held bool
}

func (l *deafWaiters) Acquire(ctx context.Context) (bool, error) {
	l.mu.Lock()
	if !l.held {
		l.held = true
		l.mu.Unlock()
		return true, nil
	}
	l.mu.Unlock()
	<-ctx.Done()
	return false, ctx.Err()
}

func (l *deafWaiters) Release(context.Context) error {
	l.mu.Lock()
	l.held = false
	l.mu.Unlock()
	return nil
}

func (l *deafWaiters) Locked() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.held }

func TestLockSuiteFoldsRepeatedFailures(t *testing.T) {
	r := &recorder{TB: t}
	conform.Lock(r, func() any { return &deafWaiters{} }, conform.WithTimeout(100*time.Millisecond), conform.WithWaiters(10),
		conform.Skip("release-wakes-waiter", "cancelled-acquire-leaves-free", "locked-tells-truth"))
	msgs := r.failures()
	require.NotEmpty(t, msgs)
	lines := strings.Split(msgs, "\n")
	assert.Len(t, lines, 1, "one message for the property, not one per contender:\n%s", msgs)
	assert.Regexp(t, `mutual-exclusion: \d+ of \d+ Do calls under contention ended by their deadline: context deadline exceeded`, msgs)
}

// fileHandle is a per-holder lock: each handle is used by one holder, and
// handles to one file exclude each other; a handle shared by goroutines is
// not a lock (it would let them all in once held), as with flock.
type fileHandle struct {
	file chan struct{} // the file's lock, shared by its handles
	mine atomic.Bool
}

func (h *fileHandle) Acquire(ctx context.Context) (bool, error) {
	if h.mine.Load() {
		return true, nil // this handle holds it already: no exclusion within a handle
	}
	select {
	case h.file <- struct{}{}:
		h.mine.Store(true)
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (h *fileHandle) Release(context.Context) error {
	if h.mine.CompareAndSwap(true, false) {
		<-h.file
	}
	return nil
}

func (h *fileHandle) Locked() bool { return h.mine.Load() }

func TestLockSuiteHandlesMode(t *testing.T) {
	file := make(chan struct{}, 1)
	newHandle := func() any { return &fileHandle{file: file} }
	assert.True(t, conform.Lock(t, newHandle, conform.Handles(), conform.WithWaiters(8)),
		"per-holder handles to one lock pass in handles mode")

	r := &recorder{TB: t}
	conform.Lock(r, func() any { return &fileHandle{file: make(chan struct{}, 1)} },
		conform.Skip("locked-tells-truth", "release-wakes-waiter", "cancelled-acquire-leaves-free"), conform.WithWaiters(8))
	assert.Contains(t, r.failures(), "mutual exclusion broken", "one handle shared by goroutines is no lock")
}

// A handles factory that stops making locks part-way is reported, not a crash.
func TestHandlesFactoryThatFailsIsReported(t *testing.T) {
	file := make(chan struct{}, 1)
	var n atomic.Int32
	r := &recorder{TB: t}
	ok := conform.Lock(r, func() any {
		if n.Add(1) > 3 {
			return struct{}{}
		}
		return &fileHandle{file: file}
	}, conform.Handles(), conform.WithWaiters(4), conform.WithTimeout(200*time.Millisecond))
	assert.False(t, ok)
	assert.Contains(t, r.failures(), "not a lock")
}

// stuckOwnerLock is an owner lock whose ReleaseUnchecked waits for its ctx to
// end (or for the test to finish): with a ctx that never ends, it never
// returns.
type stuckOwnerLock struct {
	owner atomic.Uint64
	done  chan struct{}
}

func (l *stuckOwnerLock) Acquire(ctx context.Context) (bool, error) {
	task, _ := adapters.TaskOf(ctx)
	return l.owner.CompareAndSwap(0, uint64(task)), nil
}

func (l *stuckOwnerLock) Locked() bool { return l.owner.Load() != 0 }

func (l *stuckOwnerLock) IsOwner(ctx context.Context) bool {
	task, ok := adapters.TaskOf(ctx)
	return ok && l.owner.Load() == uint64(task)
}

func (l *stuckOwnerLock) ReleaseUnchecked(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-l.done:
		return nil
	}
}

func TestOwnerLockSuiteBoundsEveryRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("about 10 s: the proxy's own releases wait out its release timeout; the full suite runs it")
	}
	t.Parallel()
	done := make(chan struct{})
	defer close(done) // what the suite left blocked returns, for goleak
	r := &recorder{TB: t}
	finished := make(chan bool, 1)
	go func() {
		finished <- conform.OwnerLock(r, func() any { return &stuckOwnerLock{done: done} },
			conform.WithTimeout(100*time.Millisecond), conform.WithWaiters(2))
	}()
	select {
	case ok := <-finished:
		assert.False(t, ok)
		assert.Contains(t, r.failures(), "Release did not return within")
	case <-time.After(30 * time.Second):
		t.Fatal("conform.OwnerLock hung on a Release that waits on a ctx that never ends")
	}
}

// selfDeadlock's Locked waits for the lock to be free: called while the lock
// is held, it blocks (a common self-deadlock). The suite must report it,
// not hang, and leave nothing held.
type selfDeadlock struct{ mu sync.Mutex }

func (l *selfDeadlock) Acquire(ctx context.Context) (bool, error) {
	for !l.mu.TryLock() {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return true, nil
}

func (l *selfDeadlock) Release(context.Context) error { l.mu.Unlock(); return nil }

func (l *selfDeadlock) Locked() bool {
	l.mu.Lock() // waits for the lock to be free
	defer l.mu.Unlock()
	return false
}

// within bounds how long a suite may take here (a liveness bound: the
// suites' own timeouts are 200ms).
func returnsWithin(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

func TestLockSuiteBoundsLocked(t *testing.T) {
	r := &recorder{TB: t}
	var ok bool
	returnsWithin(t, 60*time.Second, "conform.Lock", func() {
		ok = conform.Lock(r, func() any { return &selfDeadlock{} }, conform.WithTimeout(200*time.Millisecond))
	})
	assert.False(t, ok)
	assert.Contains(t, r.failures(), "Locked did not return within 200ms")
}

// unbufferedEvent's Set hands the value to a waiter on an unbuffered
// channel: with nobody waiting, Set blocks (until the test stops it).
type unbufferedEvent struct {
	mu     sync.Mutex
	v      int
	set    bool
	notify chan int
	stop   chan struct{}
}

func (e *unbufferedEvent) Set(v int) {
	e.mu.Lock()
	e.v, e.set = v, true
	e.mu.Unlock()
	select {
	case e.notify <- v:
	case <-e.stop:
	}
}

func (e *unbufferedEvent) Get() (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.set {
		return 0, adapters.ErrNoValue
	}
	return e.v, nil
}

func (e *unbufferedEvent) IsSet() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.set }
func (e *unbufferedEvent) Clear()      { e.mu.Lock(); e.set = false; e.mu.Unlock() }

func (e *unbufferedEvent) WaitForNext(ctx context.Context) (int, error) {
	select {
	case v := <-e.notify:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func TestEventSuiteBoundsSet(t *testing.T) {
	r := &recorder{TB: t}
	stop := make(chan struct{})
	defer close(stop) // unblocks the Sets the suite left blocked
	var ok bool
	returnsWithin(t, 60*time.Second, "conform.Event", func() {
		ok = conform.Event(r, func() any { return &unbufferedEvent{notify: make(chan int), stop: stop} },
			func(i int) int { return i + 1 }, conform.WithTimeout(200*time.Millisecond))
	})
	assert.False(t, ok)
	assert.Contains(t, r.failures(), "Set did not return within 200ms")
}
