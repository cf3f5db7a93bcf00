package adapters

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// callAbandonable runs fn through start (a go statement, an executor) and
// waits for its result or for ctx to end, whichever comes first. A caller
// that gives up gets ctx.Err() at once; whichever of the caller and fn comes
// second calls undo with fn's result, so that what fn acquired or entered for
// a caller that left is given back exactly once. A panic in fn is re-raised
// in a waiting caller as a *PanicError, and a runtime.Goexit in fn reaches it
// as ErrGoexit; a caller that already left cannot receive either, and it
// goes to the fault handler, as does a panic in an undo. If start fails, its
// error is returned and fn never runs.
func callAbandonable[R any](ctx context.Context, start func(func()) error, fn func() R, undo func(R)) (R, error) {
	type outcome struct {
		r        R
		err      error // ErrGoexit when fn called runtime.Goexit
		panicked *PanicError
	}
	var h handoff
	result := make(chan outcome, 1)
	err := start(func() {
		var out outcome
		doorAbandon.guard(func() { out.r = fn() }, func(pe *PanicError, goexit bool) {
			out.panicked = pe
			if goexit {
				out.err = ErrGoexit
			}
			if !h.deliver() {
				// The caller left: give back what fn got, and report
				// what nobody can receive.
				if out.panicked == nil && out.err == nil {
					doorUndo.contain(func() { undo(out.r) })
				}
				doorAbandon.drop(pe, goexit)
				return
			}
			result <- out
		})
	})
	var zero R
	if err != nil {
		return zero, err
	}
	select {
	case out := <-result:
		if out.panicked != nil {
			panic(out.panicked)
		}
		return out.r, out.err
	case <-ctx.Done():
	}
	if h.leave() {
		return zero, ctx.Err()
	}
	// fn delivered just as ctx ended: the caller leaves, and the undo runs
	// on a goroutine of its own (an Exit may block: the caller must not
	// wait past its ctx for it); a panic there has nobody to go to and is
	// reported. A panic of fn's own still reaches this caller.
	out := <-result
	switch {
	case out.panicked != nil:
		panic(out.panicked)
	case out.err == nil:
		doorUndo.spawn(func() { undo(out.r) }, doorUndo.drop)
	}
	return zero, ctx.Err()
}

// acquireQueue runs a lock's context-less, blocking acquire for callers that
// may give up. One goroutine per lock at a time makes the blocking calls, one
// at a time, and hands each acquisition to the longest-waiting caller still
// there; one nobody is left to receive is released. So callers that give up
// leave no goroutine each behind (ten thousand timed-out Acquires on a held
// lock leave one), and a lock acquired for nobody is never left held. After
// each acquisition the goroutine hands on to a new one, so that no goroutine
// takes a lock twice: a locker without TryLock that notes its holders'
// goroutines (as go-deadlock's Mutex does) would report the second as
// recursive locking while the first is still held. The zero value is ready to use.
type acquireQueue struct {
	mu      sync.Mutex
	waiters []chan acquired // FIFO; each buffered, so delivery never blocks
	running bool            // the acquiring goroutine exists
}

type acquired struct {
	ok       bool
	err      error // the acquire's, or ErrGoexit when it called runtime.Goexit
	panicked *PanicError
}

// acquire waits for the queue's goroutine to acquire on this caller's behalf,
// or for ctx to end (then false and ctx.Err(), the lock not held by it). A
// panic in block reaches the caller it was made for as a *PanicError; one
// made for nobody is dropped.
func (q *acquireQueue) acquire(ctx context.Context, block func() (bool, error), giveBack func()) (bool, error) {
	w := make(chan acquired, 1)
	q.mu.Lock()
	q.waiters = append(q.waiters, w)
	if !q.running {
		q.running = true
		q.spawn(block, giveBack)
	}
	q.mu.Unlock()
	select {
	case r := <-w:
		if r.panicked != nil {
			panic(r.panicked)
		}
		return r.ok, r.err
	case <-ctx.Done():
	}
	q.mu.Lock()
	if i := slices.Index(q.waiters, w); i >= 0 {
		q.waiters = slices.Delete(q.waiters, i, i+1)
		q.mu.Unlock()
		return false, ctx.Err()
	}
	q.mu.Unlock()
	// Delivered just as ctx ended: this caller leaves, so give it back.
	if r := <-w; r.ok && r.panicked == nil {
		giveBack()
	}
	return false, ctx.Err()
}

// spawn starts the acquiring goroutine: it acquires once if a caller waits,
// delivers the outcome (a panic or runtime.Goexit in block as a value), then
// hands on to a new goroutine if another caller waits.
func (q *acquireQueue) spawn(block func() (bool, error), giveBack func()) {
	var r acquired
	ran := false
	doorAcquirer.spawn(func() {
		if !q.wanted() { // nobody waits: the goroutine stops
			return
		}
		ran = true
		r.ok, r.err = block()
	}, func(pe *PanicError, goexit bool) {
		switch {
		case pe != nil:
			r = acquired{panicked: pe}
		case goexit: // this goroutine is ending
			r = acquired{err: ErrGoexit}
		case !ran:
			return
		}
		q.deliver(r, giveBack)
		q.handOn(block, giveBack)
	})
}

// handOn starts a new acquiring goroutine if a caller waits, else notes that
// none runs.
func (q *acquireQueue) handOn(block func() (bool, error), giveBack func()) {
	q.mu.Lock()
	if q.running = len(q.waiters) > 0; q.running {
		q.spawn(block, giveBack)
	}
	q.mu.Unlock()
}

// wanted reports whether a caller waits; if none, the goroutine stops.
func (q *acquireQueue) wanted() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.running = len(q.waiters) > 0
	return q.running
}

// deliver hands one outcome to the longest-waiting caller, or gives back an
// acquisition nobody waits for any more.
func (q *acquireQueue) deliver(r acquired, giveBack func()) {
	q.mu.Lock()
	if len(q.waiters) == 0 {
		q.mu.Unlock()
		if r.ok && r.panicked == nil {
			giveBack()
		}
		doorAcquirer.drop(r.panicked, errors.Is(r.err, ErrGoexit))
		return
	}
	w := q.waiters[0]
	q.waiters = q.waiters[1:]
	q.mu.Unlock()
	w <- r
}

// tryQueue orders the callers of a lock with TryLock() bool (a sync.Mutex,
// go-deadlock's Mutex) that wait with a ctx that can end. Each caller waits
// on its own goroutine and takes the lock there, with TryLock, so that a
// locker that tracks its holders per goroutine (go-deadlock) sees the
// goroutine that holds the lock and later releases it. Callers take turns
// in arrival order: only the longest-waiting one tries, when the proxy
// releases the lock (it wakes that caller) and, for a release made past the
// proxy, when its poll timer fires (pollFirst, doubling up to pollMax). A
// new caller tries once before it queues (as sync.Mutex lets a new Lock
// barge in), except while the first in the queue has waited longer than
// hungryAfter: then new callers queue behind it, so that no caller starves.
// A caller that gives up leaves nothing in flight. The zero value is ready
// to use.
type tryQueue struct {
	n       atomic.Int32 // callers waiting; read by releases
	hungry  atomic.Bool  // the first caller has waited too long: no barging
	mu      sync.Mutex
	waiters []chan struct{} // FIFO; each buffered, so a wake-up never blocks
}

// acquire waits for the caller's turn and takes the lock with TryLock, or
// returns false and ctx.Err() when ctx ends first.
func (q *tryQueue) acquire(ctx context.Context, l interface{ TryLock() bool }) (bool, error) {
	w := make(chan struct{}, 1)
	q.mu.Lock()
	q.waiters = append(q.waiters, w)
	q.n.Add(1)
	if len(q.waiters) == 1 {
		w <- struct{}{} // nobody before it: try at once
	}
	q.mu.Unlock()
	since := time.Now()
	wait := pollFirst
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			q.leave(w, true)
			return false, ctx.Err()
		case <-w:
		case <-t.C:
			wait = min(2*wait, pollMax)
			t.Reset(wait)
		}
		if !q.first(w) {
			continue
		}
		if q.try(w, l) {
			q.leave(w, false)
			return true, nil
		}
		if !q.hungry.Load() && time.Since(since) > hungryAfter {
			q.hungry.Store(true)
		}
	}
}

// try calls TryLock for w, the first caller; a TryLock that panics or calls
// runtime.Goexit takes w out of the queue (waking the next) before the panic
// goes on to w's caller, so that nobody waits behind a caller that left.
func (q *tryQueue) try(w chan struct{}, l interface{ TryLock() bool }) (ok bool) {
	doorTryLock.call(func() { ok = l.TryLock() }, func() { q.leave(w, true) })
	return ok
}

// hungryAfter is how long the first caller in a tryQueue waits before new
// callers stop trying ahead of it (sync.Mutex's starvation threshold).
const hungryAfter = time.Millisecond

// first reports whether w is the longest-waiting caller.
func (q *tryQueue) first(w chan struct{}) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiters) > 0 && q.waiters[0] == w
}

// leave takes w out of the queue; a caller that gave up while first wakes
// the next, which may find the lock free.
func (q *tryQueue) leave(w chan struct{}, gaveUp bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := slices.Index(q.waiters, w)
	if i < 0 {
		return
	}
	q.waiters = slices.Delete(q.waiters, i, i+1)
	q.n.Add(-1)
	if i == 0 {
		q.hungry.Store(false)
	}
	if gaveUp && i == 0 && len(q.waiters) > 0 {
		signal(q.waiters[0])
	}
}

// released wakes the longest-waiting caller after the proxy released the
// lock.
func (q *tryQueue) released() {
	if q.n.Load() != 0 {
		q.wake()
	}
}

// wake signals the longest-waiting caller.
func (q *tryQueue) wake() {
	q.mu.Lock()
	if len(q.waiters) > 0 {
		signal(q.waiters[0])
	}
	q.mu.Unlock()
}

// signal sends on a buffered channel of capacity one unless a signal is
// already pending.
func signal(w chan struct{}) {
	select {
	case w <- struct{}{}:
	default:
	}
}
