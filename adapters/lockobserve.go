package adapters

import (
	"context"
	"github.com/gomixin/mixin/internal/errs"
	"time"
)

// The observed paths of Lock and OwnerLock: taken instead of the plain ones
// when the proxy has a probe, so that a lock without one pays a nil check.

// observedAcquire is Acquire, timed and counted.
func (l *Lock) observedAcquire(ctx context.Context) (ok bool, err error) {
	p := l.probe
	if l.tryer != nil && !l.tries.hungry.Load() && l.tryer.TryLock() {
		l.acquired(ctx)
		l.tookAtOnce(ctx)
		return true, nil
	}
	p.waiting.Add(1)
	// An observer that exits the goroutine takes the waiter with it.
	doorObserver.call(func() { p.report(ctx, OpWait, OutcomeOK, 0, nil) }, func() { p.waiting.Add(-1) })
	start := now()
	finished := false
	defer func() {
		p.waiting.Add(-1)
		if !finished { // the value's acquire panicked, or called runtime.Goexit
			d := now() - start
			p.waitNs.Add(d)
			maxInto(&p.maxWaitNs, d)
			p.errs.Add(1)
			p.reportWaited(ctx, OutcomePanicked, d, nil)
		}
	}()
	ok, err = l.acquireSlow(ctx)
	finished = true
	end := now()
	d := end - start
	p.waitNs.Add(d)
	maxInto(&p.maxWaitNs, d)
	var out Outcome
	switch {
	case ok:
		p.acquires.Add(1)
		if d >= waitThreshold {
			p.waits.Add(1)
		}
		p.held.Add(1)
		p.heldAt.Store(end)
	case err == nil:
		out = OutcomeRefused
		p.refused.Add(1)
	default:
		out = outcomeOf(ctx, err)
		if out == OutcomeCtxEnded {
			p.ctxEnded.Add(1)
		} else {
			p.errs.Add(1)
		}
	}
	if ok {
		// An observer that exits the goroutine takes the acquisition's
		// receiver with it: the hold is given back.
		doorObserver.call(func() { p.reportWaited(ctx, out, d, err) }, func() { l.undoHold(ctx) })
	} else {
		p.reportWaited(ctx, out, d, err)
	}
	return ok, err
}

// tookAtOnce counts and reports an acquisition that did not wait (a TryLock
// that succeeded, a TryAcquire): its wait is 0, and the clock is read once,
// for the hold's start.
// An observer that exits the goroutine has the hold given back (see
// observedAcquire).
func (l *Lock) tookAtOnce(ctx context.Context) {
	p := l.probe
	p.acquires.Add(1)
	p.held.Add(1)
	p.heldAt.Store(now())
	doorObserver.call(func() { p.report(ctx, OpAcquire, OutcomeOK, 0, nil) }, func() { l.undoHold(ctx) })
}

// released counts and reports a release of a hold that began at at (now()),
// as err says it ended.
func (p *probe) released(ctx context.Context, at int64, err error) {
	out := outcomeOf(ctx, err)
	var d int64
	switch out {
	case OutcomeOK, OutcomeLost:
		if at != 0 {
			d = max(0, now()-at)
		}
		p.held.Add(-1)
		p.holdNs.Add(d)
		maxInto(&p.maxHoldNs, d)
		if out == OutcomeLost {
			p.lost.Add(1)
		}
	case OutcomeNotOwner:
		p.notOwner.Add(1)
	default:
		p.errs.Add(1)
	}
	p.report(ctx, OpRelease, out, time.Duration(d), err)
}

// observedDo is Do through the observed Acquire and Release, with the body
// timed (OpDo).
func (l *Lock) observedDo(ctx context.Context, fn func(context.Context) error) (err error) {
	ok, err := l.Acquire(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Errorf("%s: %w", l.typ, ErrNotAcquired)
	}
	p := l.probe
	start := now()
	finished := false
	defer func() {
		if !finished {
			// An observer that exits the goroutine has the hold given back.
			doorObserver.call(func() { p.report(ctx, OpDo, OutcomePanicked, time.Duration(now()-start), nil) },
				func() { _ = l.Release(ctx) })
			_ = l.Release(ctx)
		}
	}()
	if l.lost != nil {
		err = l.leased(ctx, fn)
	} else {
		err = fn(ctx)
	}
	finished = true
	doorObserver.call(func() { p.timed(ctx, OpDo, start, err) }, func() { _ = l.Release(ctx) })
	return l.Exit(ctx, err)
}

// reportWaited reports the end of an acquisition that reported OpWait.
func (p *probe) reportWaited(ctx context.Context, out Outcome, d int64, err error) {
	if p.obs != nil {
		observe(p.obs, ctx, Observation{Kind: p.kind, Name: p.name, Op: OpAcquire, Outcome: out,
			Duration: time.Duration(d), Err: err, Waited: true})
	}
}

// lostLease reports a lease lost while Do ran.
func (p *probe) lostLease(ctx context.Context) {
	var d time.Duration
	if at := p.heldAt.Load(); at != 0 {
		d = time.Duration(now() - at)
	}
	p.report(ctx, OpLost, OutcomeLost, d, ErrLockLost)
}
