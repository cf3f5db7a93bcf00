package adapters

import (
	"context"
	"errors"

	"github.com/gomixin/mixin/internal/errs"
)

// The release path of Lock and OwnerLock, read top to bottom: Release (the
// hot path of an unobserved *sync.Mutex), releaseMore (the hot path of any
// other sync.Locker with TryLock, then the one place where a release is
// observed), releaseOne (the owner check and the hold's record, under hmu
// while a Watchdog records holds), endHold (the tracked hold taken back,
// and given back again if the release fails), callRelease (the value's
// release, never with an ended ctx). Every release the proxy makes on its
// own behalf (a give-back, an undo, a force-release) enters the same path
// at releaseOne or endHold.

// Release releases the lock. For an owner lock it first checks that the ctx's
// task holds it (ErrNotOwner otherwise). For a lock whose held state the
// proxy tracks, releasing one the proxy did not acquire returns ErrNotLocked
// instead of calling Unlock (which would crash on a sync.Mutex).
//
// A release is never made with an ended ctx, which a ctx-honouring unlock
// (etcd's) would refuse, leaving the lock held with nobody able to release
// it: when ctx has ended before or during the release, the value's release
// (and an owner lock's check) runs with context.WithoutCancel(ctx), bounded
// by the release timeout (WithReleaseTimeout, DefaultReleaseTimeout).
func (l *Lock) Release(ctx context.Context) error {
	if l != nil && ctx != nil && l.mu != nil && l.watched.Load() == 0 && l.rec.Load() == nil && l.takeHold() {
		// The hot path of an unobserved, unwatched *sync.Mutex: its Unlock
		// of a held mutex inlines and cannot fail.
		l.mu.Unlock()
		l.tries.released()
		return nil
	}
	return l.releaseMore(ctx)
}

// releaseMore is Release past the hot path of a *sync.Mutex: the hot path
// of other sync.Lockers with TryLock, then releaseOne, timed and counted
// here when the lock is observed (a release that panics or exits the
// goroutine is counted as an error, and the hold it kept stays counted).
func (l *Lock) releaseMore(ctx context.Context) error {
	switch {
	case ctx == nil:
		return nilCtx("Lock.Release")
	case l != nil && l.fast != nil && l.mu == nil && l.watched.Load() == 0 && l.rec.Load() == nil:
		return l.releaseFast()
	case !l.usable():
		return errUnusable("Lock")
	case l.probe == nil:
		return l.releaseOne(ctx, nil, true)
	}
	p := l.probe
	at := p.heldAt.Load()
	var err error
	doorValue.call(func() { err = l.releaseOne(ctx, nil, true) }, func() {
		p.errs.Add(1)
		p.report(ctx, OpRelease, OutcomePanicked, 0, nil)
	})
	p.released(ctx, at, err)
	return err
}

// releaseFast is the hot path of Release over an unobserved, unwatched
// sync.Locker with TryLock other than a *sync.Mutex: one count taken back,
// one Unlock; an Unlock that panics or exits the goroutine keeps the hold.
func (l *Lock) releaseFast() error {
	if !l.takeHold() {
		return errs.Errorf("%s: %w", l.typ, ErrNotLocked)
	}
	doorValue.call(l.locker.Unlock, func() { l.holds.Add(1) })
	l.tries.released()
	return nil
}

// releaseOne releases one hold through release (nil: the value's own
// Release or Unlock), after the owner check when check is set. While a
// Watchdog records holds, the check and the release are one step under
// hmu, as a ForceRelease's are: a hold forced away between them would
// otherwise have the next holder's hold released.
func (l *Lock) releaseOne(ctx context.Context, release func(context.Context) error, check bool) error {
	recorded := l.recording()
	if check && l.om != nil && !recorded { // the OwnerMutex's checked release, in one step
		return l.om.releaseOwned(ctx, l.typ)
	}
	if recorded {
		l.hmu.Lock()
		defer l.hmu.Unlock()
	}
	if check && l.check != nil {
		if err := l.checkOwner(ctx); err != nil {
			return err
		}
	}
	return l.endHold(ctx, release, recorded)
}

// recording reports whether a Watchdog watches the lock or a hold it
// recorded has not ended: releases then go through hmu.
func (l *Lock) recording() bool { return (l.watched.Load() > 0) || l.rec.Load() != nil }

// checkOwner runs the owner check with a live ctx.
func (l *Lock) checkOwner(ctx context.Context) error {
	if ctx.Err() == nil {
		return l.check(ctx)
	}
	rctx, cancel := l.detached(ctx)
	defer cancel()
	return l.check(rctx)
}

// endHold ends one hold. Where the proxy tracks the holds, the hold is taken
// back first (ErrNotLocked when none is held) and given back if the release
// fails, panics or exits the goroutine, so that Locked tells the truth and a
// retry calls the value's release again; only an unlock that says the lock
// was lost ends the hold anyway. When recorded (l.hmu held), the hold's
// record ends before the release (the next holder may record its own as
// soon as the lock is free) and comes back if the release ended no hold, or
// while a shared lock has holders left.
func (l *Lock) endHold(ctx context.Context, release func(context.Context) error, recorded bool) (err error) {
	tracked := l.locked == nil
	if tracked && !l.takeHold() {
		return errs.Errorf("%s: %w", l.typ, ErrNotLocked)
	}
	var rec *holdRecord
	if recorded {
		rec = l.rec.Swap(nil)
	}
	ended := false
	defer func() {
		failed := !ended || (err != nil && !errors.Is(err, ErrLockLost))
		if tracked && failed {
			l.holds.Add(1)
		}
		if rec != nil && (failed || tracked && l.holds.Load() > 0) {
			l.rec.CompareAndSwap(nil, rec)
		}
	}()
	err = l.callRelease(ctx, release)
	ended = true
	return err
}

// takeHold ends one tracked hold, reporting false when none is held.
func (l *Lock) takeHold() bool {
	for {
		n := l.holds.Load()
		if n <= 0 {
			return false
		}
		if l.holds.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// callRelease calls release, or when nil the value's own (a sync.Locker's
// Unlock, or the canonical Release called directly), with ctx while it
// lives; when ctx has ended, or ends during the release and the release
// gives up with its error (whatever the error says: a ctx error, or an RPC
// client's own status for a deadline that passed during the call), it runs
// it (again) with a ctx of the proxy's own, bounded by the release timeout.
func (l *Lock) callRelease(ctx context.Context, release func(context.Context) error) error {
	switch {
	case release != nil:
	case l.locker != nil:
		l.locker.Unlock()
		l.tries.released()
		return nil
	case l.rel != nil:
		return l.releaseCanonical(ctx)
	default:
		release = l.release
	}
	if ctx.Err() == nil {
		if err := release(ctx); err == nil || ctx.Err() == nil {
			return err
		}
	}
	rctx, cancel := l.detached(ctx)
	defer cancel()
	return release(rctx)
}

// releaseCanonical is callRelease over the canonical Release, called
// directly (Do's hot path over the canonical shapes).
func (l *Lock) releaseCanonical(ctx context.Context) error {
	if ctx.Err() == nil {
		if err := l.rel.Release(ctx); err == nil || ctx.Err() == nil {
			return err
		}
	}
	rctx, cancel := l.detached(ctx)
	defer cancel()
	return l.rel.Release(rctx)
}

// detached returns a ctx with ctx's values that has not ended, bounded by the
// release timeout.
func (l *Lock) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
}

// giveBack releases an acquisition nobody received (its caller gave up), on
// the goroutine that found nobody waiting: a panic or Goexit of the release
// is reported (see Fault), and the hold stays where the proxy tracks holds:
// Locked then says held, and a Release gives it back, as after any failed
// release; nothing is left held that the proxy does not know of.
func (l *Lock) giveBack() {
	doorUndo.contain(func() { _ = l.giveBackWith(context.Background()) })
}

// giveBackWith gives back an acquisition nobody will release, with ctx's
// values (detached when ctx has ended); see giveBack.
func (l *Lock) giveBackWith(ctx context.Context) error {
	if l.locked == nil {
		l.holds.Add(1) // the proxy's own hold, until the release succeeds
	}
	return l.releaseOne(ctx, nil, false)
}

// undoHold releases a hold its caller will never release (the lock factory
// panicked, an observer exited the goroutine), without an owner check, and
// counts the release as Release does.
func (l *Lock) undoHold(ctx context.Context) {
	var at int64
	if l.probe != nil {
		at = l.probe.heldAt.Load()
	}
	err := l.releaseOne(ctx, l.unchecked, false)
	if l.probe != nil {
		l.probe.released(ctx, at, err)
	}
}
