package adapters

import (
	"context"
	"errors"

	"github.com/gomixin/mixin/internal/errs"
)

// ErrCannotTry is matched by the error of TryAcquire on a lock whose value
// offers no single attempt: no TryAcquire(ctx) (bool, error), no TryLock.
var ErrCannotTry = errors.New("mixin: the lock offers no single attempt (TryAcquire or TryLock)")

// TryAcquire(ctx) (bool, error): one attempt, no waiting (a distributed
// handle's, the OwnerMutex's), optional in the canonical and owner-lock
// forms.
var tryAcquireMethod = optional(row(func(x interface {
	TryAcquire(context.Context) (bool, error)
}) func(context.Context) (bool, error) {
	return x.TryAcquire
}))

// ignoreCtx makes a context-less attempt one that takes a ctx.
func ignoreCtx(try func() (bool, error)) func(context.Context) (bool, error) {
	return func(context.Context) (bool, error) { return try() }
}

// TryAcquire makes one attempt to acquire the lock, without waiting, and
// reports whether it got it: through the value's TryAcquire(ctx), or its
// TryLock (sync.Mutex's, gofrs/flock's). A value with neither returns false
// and an error matching ErrCannotTry. An attempt that reports (true, err) is
// given back, as Acquire does.
func (l *Lock) TryAcquire(ctx context.Context) (bool, error) {
	if ctx == nil {
		return false, nilCtx("Lock.TryAcquire")
	}
	if !l.usable() {
		return false, errUnusable("Lock")
	}
	var ok bool
	var err error
	switch {
	case l.tryer != nil:
		ok = l.tryer.TryLock()
	case l.om != nil:
		ok, err = l.om.TryAcquire(ctx)
	case l.try != nil:
		ok, err = l.try(ctx)
	default:
		return false, errs.Errorf("%s: %w", l.typ, ErrCannotTry)
	}
	if ok && err != nil {
		return false, errors.Join(err, l.giveBackWith(ctx))
	}
	if ok {
		l.acquired(ctx)
		if l.probe != nil { // a hold like any other: its Release is counted
			l.tookAtOnce(ctx)
		}
	}
	return ok, err
}

// TryAcquire makes one attempt to take the mutex for the ctx's task; it
// fails with ErrNoTask when ctx carries none.
func (m *OwnerMutex) TryAcquire(ctx context.Context) (bool, error) {
	if ctx == nil {
		return false, nilCtx("OwnerMutex.TryAcquire")
	}
	task, ok := TaskOf(ctx)
	if !ok {
		return false, errs.Errorf("*adapters.OwnerMutex try-acquire: %w", ErrNoTask)
	}
	return m.state.CompareAndSwap(0, uint64(task)), nil
}
