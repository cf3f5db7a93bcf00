package adapters

import (
	"context"
	"errors"
	"time"
)

// The acquire path of Lock and OwnerLock: Acquire (the hot path of an
// unobserved *sync.Mutex), acquireMore (the hot path of any other
// sync.Locker with TryLock, then the observed path), acquireSlow (each
// form's own way to wait: the value's ctx-aware Acquire, a sync.Locker's
// Lock or TryLock queue, a context-less Acquire on a goroutine of the
// proxy's), and what records an acquisition.

// Polling bounds for an acquire made of TryLock calls.
const (
	pollFirst = 500 * time.Microsecond
	pollMax   = 16 * time.Millisecond
)

// pollAcquire makes a ctx-aware acquire from a non-blocking TryLock: it tries
// at once, then again after a wait that doubles from pollFirst up to pollMax,
// until it succeeds, fails with an error, or ctx ends. Nothing is left in
// flight when the caller gives up, which matters for a locker that holds a
// mutex of its own while its blocking Lock waits (gofrs/flock: its Locked and
// Unlock would wait too). With a ctx that can never end it blocks in Lock.
func pollAcquire(try func() (bool, error), block func() (bool, error)) acquireFn {
	return acquireFn{ctx: func(ctx context.Context) (bool, error) {
		if ok, err := try(); ok || err != nil {
			return ok, err
		}
		if ctx.Done() == nil {
			return block()
		}
		wait := pollFirst
		t := time.NewTimer(wait)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-t.C:
			}
			if ok, err := try(); ok || err != nil {
				return ok, err
			}
			wait = min(2*wait, pollMax)
			t.Reset(wait)
		}
	}}
}

// Acquire acquires the lock, waiting if necessary, and reports whether it was
// acquired (a value's Acquire may say false). When ctx ends first it returns
// false and ctx.Err(), and the lock is left free.
//
// A sync.Locker is locked on the caller's goroutine, so that a locker that
// notes its holder's goroutine (go-deadlock's) sees the goroutine that will
// release it: with a ctx that can never end, Acquire blocks in Lock (when
// it has TryLock and callers with a ctx are queued, it queues behind them
// instead, so that they are not starved); with one that can, it tries
// TryLock, then waits its turn among the callers
// waiting through this proxy, in arrival order, and tries again when the
// proxy releases the lock (or, for a release made past it, after a poll
// interval of 0.5ms doubling up to 16ms). Only a context-less Acquire with no
// TryLock beside it is made on a goroutine of the proxy's, one per lock,
// and, if it succeeds after the caller gave up, released by the proxy. As with
// semaphore.Weighted, an ended ctx does not stop an Acquire that succeeds at
// once (TryLock); a ctx-aware Acquire decides for itself.
func (l *Lock) Acquire(ctx context.Context) (bool, error) {
	if l != nil && ctx != nil && l.mu != nil && l.watched.Load() == 0 && !l.tries.hungry.Load() && l.mu.TryLock() {
		// The hot path of an unobserved, unwatched *sync.Mutex: its TryLock
		// inlines, and the hold is one count.
		l.holds.Add(1)
		return true, nil
	}
	return l.acquireMore(ctx)
}

// acquireMore is Acquire past the hot path of a *sync.Mutex.
func (l *Lock) acquireMore(ctx context.Context) (bool, error) {
	if ctx == nil {
		return false, nilCtx("Lock.Acquire")
	}
	if l != nil && l.fast != nil && !l.tries.hungry.Load() && l.fast.TryLock() {
		// The hot path of any other unobserved sync.Locker with TryLock,
		// and of a watched one (its hold recorded).
		l.acquired(ctx)
		return true, nil
	}
	if l != nil && l.probe != nil {
		return l.observedAcquire(ctx)
	}
	return l.acquireSlow(ctx)
}

func (l *Lock) acquireSlow(ctx context.Context) (bool, error) {
	if !l.usable() {
		return false, errUnusable("Lock")
	}
	if l.om != nil { // an owner lock over the library's OwnerMutex
		ok, err := l.om.Acquire(ctx)
		if ok && (l.watched.Load() > 0) {
			l.record(ctx)
		}
		return ok, err
	}
	var ok bool
	var err error
	switch {
	case l.acq != nil:
		ok, err = l.acq.Acquire(ctx)
	case l.acquire != nil:
		ok, err = l.acquire(ctx)
	case ctx.Err() != nil:
		return false, ctx.Err()
	case ctx.Done() == nil && l.locker != nil && (l.tryer == nil || l.tries.n.Load() == 0):
		// Nobody queued with a ctx: block in Lock. Otherwise queue behind
		// them (below), so that callers who cannot give up never starve
		// one who can, whom a mutex handing itself to blocked Lock
		// callers would never let win a TryLock.
		l.locker.Lock()
		ok = true
	case ctx.Done() == nil && l.locker == nil:
		ok, err = l.block()
	case l.tryer != nil:
		ok, err = l.tries.acquire(ctx, l.tryer)
	default:
		ok, err = l.queue.acquire(ctx, l.blocking(), l.giveBack)
	}
	if ok && err != nil {
		// Held, but with an error: a caller that checks the error first (as
		// Go code does) would never release it, so give it back here.
		return false, errors.Join(err, l.giveBackWith(ctx))
	}
	if ok {
		l.acquired(ctx)
	}
	return ok, err
}

// blocking is the context-less Acquire: the value's, or a sync.Locker's
// Lock, bound by its row only here, off the hot path, so that composing a
// sync.Locker allocates no func.
func (l *Lock) blocking() func() (bool, error) {
	if l.locker != nil {
		f, _ := lockMethod.shapes[0].bind(l.locker)
		return f.block
	}
	return l.block
}

// acquired records a successful acquisition: the tracked state, and for a
// watched lock when and by which task.
//
// For a watched lock the count and the record are one step under hmu: a
// release of the previous hold, which keeps its record while holds remain
// (a shared lock's), must never see this hold counted but not yet recorded,
// or it would put its own record back for a Watchdog to report, and a
// ForceRelease of that report would release this hold.
func (l *Lock) acquired(ctx context.Context) {
	if l.watched.Load() > 0 {
		l.hmu.Lock()
		if l.locked == nil {
			l.holds.Add(1)
		}
		l.record(ctx)
		l.hmu.Unlock()
		return
	}
	if l.locked == nil {
		l.holds.Add(1)
	}
}

// holdRecord is one recorded hold of a watched lock: its identity is the
// record's address.
type holdRecord struct {
	since  time.Time
	holder Task
}

// record notes when and by which task a watched lock was acquired.
func (l *Lock) record(ctx context.Context) {
	task, _ := TaskOf(ctx)
	l.rec.Store(&holdRecord{since: time.Now(), holder: task})
}
