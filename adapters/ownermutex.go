package adapters

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomixin/mixin/internal/errs"
)

// OwnerMutex is a ready-made owner lock: a mutex held by a task identity
// (WithTask), with an Acquire that ctx can cancel. It has the methods the
// owner-lock kind needs (Acquire, Locked, IsOwner, ReleaseUnchecked); wrap it
// with NewOwnerLock, or Compose it, for the checked Release, Enter and Do.
//
// Acquire and ReleaseUnchecked need a ctx carrying a task identity and return
// an error matching ErrNoTask otherwise. The lock is not reentrant: a task
// that acquires twice waits for itself until its ctx ends.
//
// Like sync.Mutex, it has two modes. Normally a release frees the mutex and
// wakes one waiter, and a task arriving just then may take it first (fast
// under load). Once a waiter has waited longer than StarvationThreshold, a
// release hands the mutex to the longest-waiting task directly, in order,
// until no waiter has waited that long: a task that acquires and releases in
// a loop cannot starve the others. Use NewOwnerMutex; the zero value is also
// ready to use.
type OwnerMutex struct {
	// state is the holder's Task, 0 while free: taking, checking and giving
	// back the mutex are each one atomic operation (tasks start at 1).
	state   atomic.Uint64
	nwait   atomic.Int32 // len(waiters), read without mu by releasers
	mu      sync.Mutex
	waiters []*ownerWaiter
}

// StarvationThreshold is how long a waiter of an OwnerMutex waits before
// releases hand the mutex over in order (sync.Mutex uses the same bound).
const StarvationThreshold = time.Millisecond

type ownerWaiter struct {
	wake   chan struct{} // closed when woken
	task   Task
	since  time.Time
	handed bool // woken with the mutex handed over (state set to task); under mu
}

// NewOwnerMutex returns a free OwnerMutex.
func NewOwnerMutex() *OwnerMutex { return &OwnerMutex{} }

// Acquire waits until the mutex is free and takes it for the ctx's task. It
// returns true when acquired; false and ctx.Err() when ctx ends first (the
// mutex is then not held by this caller, and no wake-up or hand-over is
// lost); false and an error matching ErrNoTask when ctx carries no task
// identity.
func (m *OwnerMutex) Acquire(ctx context.Context) (bool, error) {
	if ctx == nil {
		return false, nilCtx("OwnerMutex.Acquire")
	}
	task, ok := TaskOf(ctx)
	if !ok {
		return false, errs.Errorf("*adapters.OwnerMutex acquire: %w", ErrNoTask)
	}
	if m.state.CompareAndSwap(0, uint64(task)) {
		return true, nil
	}
	var since time.Time // when this task began to wait, kept across wake-ups
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		m.mu.Lock()
		if m.state.CompareAndSwap(0, uint64(task)) {
			m.mu.Unlock()
			return true, nil
		}
		if since.IsZero() {
			since = time.Now()
		}
		w := &ownerWaiter{wake: make(chan struct{}), task: task, since: since}
		// In the order waiting began: a waiter woken only to lose to a newly
		// arriving task goes back to its place, not to the end, so that a
		// hand-over goes to the one that has waited longest.
		m.enqueueLocked(w)
		m.mu.Unlock()
		// A release between our failed CAS and the registration above would
		// have found nwait 0; try once more now that we are registered.
		if m.state.CompareAndSwap(0, uint64(task)) {
			// (A hand-over keeps the mutex held, so none reached us: our CAS
			// could not have succeeded after one.)
			m.leave(w)
			return true, nil
		}
		select {
		case <-w.wake:
			m.mu.Lock()
			handed := w.handed
			m.mu.Unlock()
			if handed { // the releaser made us the owner
				return true, nil
			}
			// Woken: try before looking at ctx, so that a wake-up is never
			// consumed without the lock being taken or passed on.
			if m.state.CompareAndSwap(0, uint64(task)) {
				return true, nil
			}
			continue
		case <-ctx.Done():
			if m.leave(w) { // handed the mutex as ctx ended: pass it on
				_ = m.ReleaseUnchecked(ctx)
			}
			return false, ctx.Err()
		}
	}
}

// leave removes a waiter that stops waiting, and reports whether the mutex
// was handed to it meanwhile (the caller then holds it). If it was woken
// without a hand-over, the wake-up is passed on to the next waiter so that
// none is lost.
func (m *OwnerMutex) leave(w *ownerWaiter) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range m.waiters {
		if x == w {
			m.waiters = append(m.waiters[:i], m.waiters[i+1:]...)
			m.nwait.Add(-1)
			return false
		}
	}
	if w.handed {
		return true
	}
	// Not in the list: a releaser already took it out and closed it.
	m.wakeOneLocked()
	return false
}

// enqueueLocked puts w in the list in the order waiting began. m.mu is held.
func (m *OwnerMutex) enqueueLocked(w *ownerWaiter) {
	i := len(m.waiters)
	for i > 0 && m.waiters[i-1].since.After(w.since) {
		i--
	}
	m.waiters = slices.Insert(m.waiters, i, w)
	m.nwait.Add(1)
}

// popLocked takes the longest-waiting waiter out of the list. m.mu is held.
func (m *OwnerMutex) popLocked() *ownerWaiter {
	w := m.waiters[0]
	m.waiters[0] = nil
	m.waiters = m.waiters[1:]
	m.nwait.Add(-1)
	return w
}

func (m *OwnerMutex) wakeOneLocked() {
	if len(m.waiters) > 0 {
		close(m.popLocked().wake)
	}
}

// Locked reports whether the mutex is held.
func (m *OwnerMutex) Locked() bool { return m.state.Load() != 0 }

// IsOwner reports whether the ctx's task holds the mutex; false when ctx
// carries no task identity.
func (m *OwnerMutex) IsOwner(ctx context.Context) bool {
	task, ok := TaskOf(ctx)
	return ok && m.state.Load() == uint64(task)
}

// releaseOwned is the owner-lock proxy's Release over an OwnerMutex: the
// ownership check and the release with one task look-up. The mutex's
// release takes no ctx, so an ended ctx changes nothing.
func (m *OwnerMutex) releaseOwned(ctx context.Context, name reflect.Type) error {
	task, ok := TaskOf(ctx)
	if !ok {
		return notOwner(name, false)
	}
	if m.nwait.Load() == 0 { // the fast path: check and free in one step
		if !m.state.CompareAndSwap(uint64(task), 0) {
			return notOwner(name, true)
		}
		m.wakeLate()
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state.Load() != uint64(task) {
		return notOwner(name, true)
	}
	m.releaseLocked()
	return nil
}

// wakeLate wakes a waiter that registered as the mutex was freed without
// m.mu (it re-tries its CAS after registering; this covers the wake-up).
func (m *OwnerMutex) wakeLate() {
	if m.nwait.Load() == 0 {
		return
	}
	m.mu.Lock()
	m.wakeOneLocked()
	m.mu.Unlock()
}

// ReleaseUnchecked frees the mutex without checking who holds it (Python's
// _release); the owner-lock proxy's Release checks IsOwner first. When a
// waiter has waited longer than StarvationThreshold, the mutex goes straight
// to the longest-waiting one instead of being freed. It returns an error
// matching ErrNotLocked when the mutex is free.
func (m *OwnerMutex) ReleaseUnchecked(ctx context.Context) error {
	if ctx == nil {
		return nilCtx("OwnerMutex.ReleaseUnchecked")
	}
	if m.nwait.Load() == 0 { // the fast path: nobody waits
		if m.state.Swap(0) == 0 {
			return errs.Errorf("*adapters.OwnerMutex: %w", ErrNotLocked)
		}
		m.wakeLate()
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state.Load() == 0 {
		return errs.Errorf("*adapters.OwnerMutex: %w", ErrNotLocked)
	}
	m.releaseLocked()
	return nil
}

// releaseLocked frees the held mutex, or hands it to the longest waiter
// once that one has waited longer than StarvationThreshold. m.mu is held.
func (m *OwnerMutex) releaseLocked() {
	if len(m.waiters) > 0 && time.Since(m.waiters[0].since) > StarvationThreshold {
		w := m.popLocked() // hand over: the mutex stays held, by w's task
		m.state.Store(uint64(w.task))
		w.handed = true
		close(w.wake)
		return
	}
	m.state.Store(0)
	m.wakeOneLocked()
}
