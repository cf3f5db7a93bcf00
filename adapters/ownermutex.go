package adapters

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// OwnerMutex is a ready-made owner lock: a mutex held by a task identity
// (WithTask), with an Acquire that ctx can cancel. It has the methods the
// owner-lock kind needs (Acquire, Locked, IsOwner, ReleaseUnchecked); wrap it
// with NewOwnerLock, or Compose it, for the checked Release, Enter and Do.
//
// Acquire and ReleaseUnchecked need a ctx carrying a task identity and return
// an error matching ErrNoTask otherwise. The lock is not reentrant: a task
// that acquires twice waits for itself until its ctx ends. Waiters are not
// served in order. Use NewOwnerMutex; the zero value is also ready to use.
type OwnerMutex struct {
	state   atomic.Int32  // 0 free, 1 held
	owner   atomic.Uint64 // the holder's Task, 0 while free or being handed over
	nwait   atomic.Int32  // len(waiters), read without mu by releasers
	mu      sync.Mutex
	waiters []chan struct{}
}

// NewOwnerMutex returns a free OwnerMutex.
func NewOwnerMutex() *OwnerMutex { return &OwnerMutex{} }

// Acquire waits until the mutex is free and takes it for the ctx's task. It
// returns true when acquired; false and ctx.Err() when ctx ends first (the
// mutex is then not held by this caller, and no wake-up is lost); false and
// an error matching ErrNoTask when ctx carries no task identity.
func (m *OwnerMutex) Acquire(ctx context.Context) (bool, error) {
	task, ok := TaskOf(ctx)
	if !ok {
		return false, fmt.Errorf("mixin: *adapters.OwnerMutex acquire: %w", ErrNoTask)
	}
	if m.state.CompareAndSwap(0, 1) {
		m.owner.Store(uint64(task))
		return true, nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		m.mu.Lock()
		if m.state.CompareAndSwap(0, 1) {
			m.mu.Unlock()
			m.owner.Store(uint64(task))
			return true, nil
		}
		wake := make(chan struct{})
		m.waiters = append(m.waiters, wake)
		m.nwait.Add(1)
		m.mu.Unlock()
		// A release between our failed CAS and the registration above would
		// have found nwait 0; try once more now that we are registered.
		if m.state.CompareAndSwap(0, 1) {
			m.leave(wake)
			m.owner.Store(uint64(task))
			return true, nil
		}
		select {
		case <-wake:
			// Woken: try before looking at ctx, so that a wake-up is never
			// consumed without the lock being taken or passed on.
			if m.state.CompareAndSwap(0, 1) {
				m.owner.Store(uint64(task))
				return true, nil
			}
			continue
		case <-ctx.Done():
			m.leave(wake)
			return false, ctx.Err()
		}
	}
}

// leave removes a waiter that stops waiting. If it was woken meanwhile, the
// wake-up is passed on to the next waiter so that none is lost.
func (m *OwnerMutex) leave(wake chan struct{}) {
	m.mu.Lock()
	for i, w := range m.waiters {
		if w == wake {
			m.waiters = append(m.waiters[:i], m.waiters[i+1:]...)
			m.nwait.Add(-1)
			m.mu.Unlock()
			return
		}
	}
	// Not in the list: a releaser already took it out and closed it.
	m.wakeOneLocked()
	m.mu.Unlock()
}

func (m *OwnerMutex) wakeOneLocked() {
	if len(m.waiters) == 0 {
		return
	}
	w := m.waiters[0]
	m.waiters[0] = nil
	m.waiters = m.waiters[1:]
	m.nwait.Add(-1)
	close(w)
}

// Locked reports whether the mutex is held.
func (m *OwnerMutex) Locked() bool { return m.state.Load() == 1 }

// IsOwner reports whether the ctx's task holds the mutex; false when ctx
// carries no task identity.
func (m *OwnerMutex) IsOwner(ctx context.Context) bool {
	task, ok := TaskOf(ctx)
	return ok && m.state.Load() == 1 && m.owner.Load() == uint64(task)
}

// ReleaseUnchecked frees the mutex without checking who holds it (Python's
// _release); the owner-lock proxy's Release checks IsOwner first. It returns
// an error matching ErrNotLocked when the mutex is free.
func (m *OwnerMutex) ReleaseUnchecked(context.Context) error {
	m.owner.Store(0)
	if !m.state.CompareAndSwap(1, 0) {
		return fmt.Errorf("mixin: *adapters.OwnerMutex: %w", ErrNotLocked)
	}
	if m.nwait.Load() > 0 {
		m.mu.Lock()
		m.wakeOneLocked()
		m.mu.Unlock()
	}
	return nil
}
