package adapters

import (
	"context"
	"errors"
	"reflect"

	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/validate"
)

// ErrNotOwner is matched by the error of an owner lock's Release from a task
// that does not hold it: Python's RuntimeError('X is not acquired by current
// task'). The message names the Go type.
var ErrNotOwner = errors.New("mixin: not acquired by current task")

var (
	isOwnerMethod = abstract([]string{"Owner", "HeldBy"},
		row(func(x interface{ IsOwner(context.Context) bool }) func(context.Context) bool { return x.IsOwner }))
	releaseUncheckedMethod = abstract([]string{"Release", "Unlock"},
		row(func(x interface {
			ReleaseUnchecked(context.Context) error
		}) func(context.Context) error {
			return x.ReleaseUnchecked
		}),
		row(func(x interface{ ReleaseUnchecked() error }) func(context.Context) error {
			return func(context.Context) error { return x.ReleaseUnchecked() }
		}),
		row(func(x interface{ ReleaseUnchecked() }) func(context.Context) error {
			return func(context.Context) error { x.ReleaseUnchecked(); return nil }
		}),
	)
)

// The OwnerLock kind: Python's LockWithOwnerMixin. Abstract: Acquire, Locked,
// IsOwner and ReleaseUnchecked (Python's _release).
var ownerLockKind = &kindSpec{spec: validate.Spec{
	Name: "owner-lock",
	Methods: methods(acquireMethod.spec(), lockedMethod.spec(), isOwnerMethod.spec(),
		releaseUncheckedMethod.spec(), lostMethod.spec(), tryAcquireMethod.spec(), ackMethod.spec()),
}}

// OwnerLockSpec returns the abstract methods of the owner-lock kind: Lock's
// Acquire and Locked, plus IsOwner(ctx) bool and ReleaseUnchecked(ctx) error
// (also ReleaseUnchecked() error and ReleaseUnchecked()).
func OwnerLockSpec() validate.Spec { return ownerLockKind.copySpec() }

// OwnerLock is the proxy of a lock that knows its owner (Python's
// LockWithOwnerMixin): everything Lock has, with a Release that refuses a
// task that does not hold the lock.
//
// An OwnerLock is made by NewOwnerLock and is safe for concurrent use. Its
// zero value is not usable: every method returns an error matching
// ErrUnusable.
type OwnerLock struct {
	l       *Lock
	isOwner func(context.Context) bool
}

// NewOwnerLock composes v as an owner lock. v needs Acquire and Locked in a
// shape Lock accepts, IsOwner(ctx context.Context) bool, and
// ReleaseUnchecked(ctx) error (or ReleaseUnchecked() error, or
// ReleaseUnchecked()). An optional Lost() <-chan struct{} is used as Lock
// uses it; once it has closed, Release goes through to ReleaseUnchecked
// whatever IsOwner says, so that the value reports the lost lease
// (ErrLockLost) and frees its hold. A value that does not fit is refused
// with a *validate.AbstractError naming every problem.
func NewOwnerLock(v any, opts ...LockOption) (*OwnerLock, error) {
	m, err := ownerLockKind.match(v, nil)
	if err != nil {
		return nil, err
	}
	l := newLockProxy(v, opts)
	if l.probe != nil {
		l.probe.kind = "owner-lock"
	}
	l.bindAcquire(acquireMethod.must(v, m))
	l.locked = lockedMethod.must(v, m)
	l.lost, _ = lostMethod.bind(v, m)
	l.try, _ = tryAcquireMethod.bind(v, m)
	l.release = releaseUncheckedMethod.must(v, m)
	l.unchecked = l.release
	l.ack, _ = ackMethod.bind(v, m)
	if om, ok := v.(*OwnerMutex); ok {
		l.om = om // the library's own: one task look-up per call, no indirection
	}
	o := &OwnerLock{l: l, isOwner: isOwnerMethod.must(v, m)}
	l.check = o.checkOwner
	return o, nil
}

func (o *OwnerLock) checkOwner(ctx context.Context) error {
	if o.isOwner(ctx) || o.l.lostNow() {
		// After a lost lease nobody owns the hold: the release goes through
		// and the value reports the loss (ErrLockLost).
		return nil
	}
	_, hasTask := TaskOf(ctx)
	return notOwner(o.l.typ, hasTask)
}

// notOwner is the error of a release by a task that does not hold the lock.
func notOwner(name reflect.Type, hasTask bool) error {
	if !hasTask {
		return errs.Errorf("%s is %w (%w)", name, ErrNotOwner, ErrNoTask)
	}
	return errs.Errorf("%s is %w", name, ErrNotOwner)
}

func (o *OwnerLock) usable() bool { return o != nil && o.l != nil }

// AsLock returns the owner lock as a *Lock, whose Release checks ownership
// too: an owner lock is a lock.
func (o *OwnerLock) AsLock() *Lock {
	if !o.usable() {
		return nil
	}
	return o.l
}

// Value returns the wrapped value.
func (o *OwnerLock) Value() any { return o.AsLock().Value() }

// Acquire acquires the lock as Lock.Acquire does.
func (o *OwnerLock) Acquire(ctx context.Context) (bool, error) {
	if o != nil && ctx != nil && o.l != nil && o.l.om != nil && o.l.probe == nil && o.l.watched.Load() == 0 {
		return o.l.om.Acquire(ctx) // the library's OwnerMutex, unwatched: directly
	}
	return o.AsLock().Acquire(ctx)
}

// Release releases the lock if the ctx's task owns it; otherwise it returns
// an error matching ErrNotOwner ("*pkg.T is not acquired by current task"),
// and also ErrNoTask when ctx carries no task identity.
func (o *OwnerLock) Release(ctx context.Context) error {
	if o != nil && ctx != nil && o.l != nil && o.l.om != nil && o.l.probe == nil && !o.l.recording() {
		return o.l.om.releaseOwned(ctx, o.l.typ) // the check and the release in one step
	}
	return o.AsLock().Release(ctx)
}

// TryAcquire makes one attempt to acquire the lock, as Lock.TryAcquire does.
func (o *OwnerLock) TryAcquire(ctx context.Context) (bool, error) { return o.AsLock().TryAcquire(ctx) }

// Locked reports whether the lock is held.
func (o *OwnerLock) Locked() bool { return o.AsLock().Locked() }

// IsOwner reports whether the ctx's task holds the lock.
func (o *OwnerLock) IsOwner(ctx context.Context) bool {
	return ctx != nil && o.usable() && o.isOwner(ctx)
}

// Enter acquires the lock as Lock.Enter does.
func (o *OwnerLock) Enter(ctx context.Context) (any, error) { return o.AsLock().Enter(ctx) }

// Exit releases the lock as Release does and returns err joined with the
// release's error.
func (o *OwnerLock) Exit(ctx context.Context, err error) error { return o.AsLock().Exit(ctx, err) }

// Do acquires, runs fn and releases, as Lock.Do does.
func (o *OwnerLock) Do(ctx context.Context, fn func(context.Context) error) error {
	return o.AsLock().Do(ctx, fn)
}
