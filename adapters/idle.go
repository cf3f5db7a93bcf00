package adapters

import (
	"context"
	"sync"
	"sync/atomic"
)

// idle counts running functions and lets callers wait until none runs. It
// replaces a sync.WaitGroup where Add may race with Wait (a Group's Go during
// its Exit, a Pool's Submit during its Wait), which a WaitGroup forbids, and
// where a waiter must be able to leave: waiting costs no goroutine, so a Wait
// whose ctx ended leaves nothing behind. The zero value is ready to use.
type idle struct {
	n  atomic.Int64
	mu sync.Mutex
	ch chan struct{} // closed when n drops to 0; nil until someone waits
}

// add records a function that starts.
func (w *idle) add() { w.n.Add(1) }

// done records a function that returned. Whoever brings the count to zero
// takes the lock and wakes the waiters, so that no wake-up is lost to an add
// that raced with it.
func (w *idle) done() {
	if w.n.Add(-1) != 0 {
		return
	}
	w.mu.Lock()
	if w.n.Load() == 0 && w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
	w.mu.Unlock()
}

// count returns how many functions run.
func (w *idle) count() int { return int(w.n.Load()) }

// wait returns nil once no function runs, at once when none does (even when
// ctx has ended), and ctx.Err() when ctx ends first.
func (w *idle) wait(ctx context.Context) error {
	w.mu.Lock()
	if w.n.Load() == 0 {
		w.mu.Unlock()
		return nil
	}
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	ch := w.ch
	w.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		if w.n.Load() == 0 { // finished as ctx ended: the outcome is ready
			return nil
		}
		return ctx.Err()
	}
}
