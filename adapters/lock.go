package adapters

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/validate"
)

// ErrNotAcquired is matched by the error of Enter and Do when the value's
// Acquire reports false: Python's RuntimeError('failed to acquire lock').
var ErrNotAcquired = errors.New("mixin: failed to acquire lock")

// ErrNotLocked is matched by the error of Release on a lock whose held state
// the proxy tracks (a sync.Locker, a ctx locker) when the proxy did not
// acquire it: releasing it would crash the process (sync.Mutex) or lie.
var ErrNotLocked = errors.New("mixin: release of an unlocked lock")

// ErrLockLost is matched by the error of Release (and Exit and Do) when the
// value's unlock reports that the lock was no longer held by this holder
// (redsync's Unlock returning false: its lease had expired and another may
// hold it now). It is never reported as a success.
var ErrLockLost = errors.New("mixin: lock lost before release")

// acquireFn is what an Acquire shape binds to: a ctx-aware acquire, or a
// blocking one the proxy makes cancellable; direct is the canonical shape,
// called without the extra func.
type acquireFn struct {
	ctx    func(context.Context) (bool, error)
	block  func() (bool, error)
	direct acquirer
}

// releaseFn is what a Release shape binds to; direct is the canonical shape.
type releaseFn struct {
	fn     func(context.Context) error
	direct releaser
}

// ctxAcquire adapts an acquire that reports failure as an error.
func ctxAcquire(lock func(context.Context) error) acquireFn {
	return acquireFn{ctx: func(ctx context.Context) (bool, error) {
		if err := lock(ctx); err != nil {
			return false, err
		}
		return true, nil
	}}
}

// blockingAcquire adapts a context-less acquire that reports failure as an
// error (flock's Lock() error).
func blockingAcquire(lock func() error) acquireFn {
	return acquireFn{block: func() (bool, error) {
		if err := lock(); err != nil {
			return false, err
		}
		return true, nil
	}}
}

// lostIfFalse adapts an unlock that reports whether the lock was still held
// (redsync's): false is ErrLockLost, joined with the unlock's own error,
// except when that error says the call itself failed on its way (see
// failedCall): the lock may then still be held until its lease ends, so it
// is a failed release, reported as that error, and the proxy keeps the hold
// so that a retry releases it.
func lostIfFalse(unlock func(context.Context) (bool, error)) releaseFn {
	return releaseFn{fn: func(ctx context.Context) error {
		ok, err := unlock(ctx)
		switch {
		case ok:
			return err
		case err == nil:
			return ErrLockLost
		case failedCall(err):
			return err
		}
		return errs.Errorf("%w: %w", ErrLockLost, err)
	}}
}

// failedCall reports whether err says that a call did not reach its end (a
// network error, a closed or broken connection, an ended ctx) rather than
// what the other side answered.
func failedCall(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

var (
	acquireMethod = abstract([]string{"Lock", "TryLock", "Take"},
		row(func(x acquirer) acquireFn { return acquireFn{ctx: x.Acquire, direct: x} }),
		row(func(x interface{ Acquire(context.Context) error }) acquireFn { return ctxAcquire(x.Acquire) }),
		row(func(x interface{ Acquire() bool }) acquireFn {
			return acquireFn{block: func() (bool, error) { return x.Acquire(), nil }}
		}),
		row(func(x interface{ Acquire() }) acquireFn {
			return acquireFn{block: func() (bool, error) { x.Acquire(); return true, nil }}
		}),
	)
	releaseMethod = abstract([]string{"Unlock", "Free"},
		row(func(x releaser) releaseFn { return releaseFn{fn: x.Release, direct: x} }),
		row(func(x interface{ Release() error }) releaseFn {
			return releaseFn{fn: func(context.Context) error { return x.Release() }}
		}),
		row(func(x interface{ Release() }) releaseFn {
			return releaseFn{fn: func(context.Context) error { x.Release(); return nil }}
		}),
	)
	lockedRow     = row(func(x interface{ Locked() bool }) func() bool { return x.Locked })
	lockedMethod  = abstract([]string{"IsLocked", "Held"}, lockedRow)
	lockedOptinal = optional(lockedRow)
	// Lost() <-chan struct{}: a lease-backed lock's (a distributed one's)
	// channel that closes when the current hold's lease is lost.
	lostMethod = optional(row(func(x interface{ Lost() <-chan struct{} }) func() <-chan struct{} { return x.Lost }))
	ackMethod  = optional(row(func(x interface {
		AcknowledgeLocksmith(Locksmith) bool
	}) func(Locksmith) bool {
		return x.AcknowledgeLocksmith
	}))

	// sync.Locker's, and TryLock of sync.Mutex and sync.RWMutex.
	lockMethod = abstract(nil, row(func(x interface{ Lock() }) acquireFn {
		return acquireFn{block: func() (bool, error) { x.Lock(); return true, nil }}
	}))
	unlockMethod = abstract(nil, row(func(x interface{ Unlock() }) releaseFn {
		return releaseFn{fn: func(context.Context) error { x.Unlock(); return nil }}
	}))
	// TryLock() bool (sync.Mutex's): the hot path; TryLock() (bool, error):
	// polled as an error locker's is.
	tryLockMethod = optional(
		row(func(x interface{ TryLock() bool }) tryFn { return tryFn{fast: x} }),
		row(func(x interface{ TryLock() (bool, error) }) tryFn { return tryFn{poll: x.TryLock} }),
	)

	// Lock(ctx) error with Unlock(ctx) error or Unlock(ctx) (bool, error)
	// (etcd's concurrency.Mutex).
	ctxLockMethod   = abstract(nil, row(func(x interface{ Lock(context.Context) error }) acquireFn { return ctxAcquire(x.Lock) }))
	ctxUnlockMethod = abstract(nil,
		row(func(x interface{ Unlock(context.Context) error }) releaseFn { return releaseFn{fn: x.Unlock} }),
		row(func(x interface {
			Unlock(context.Context) (bool, error)
		}) releaseFn {
			return lostIfFalse(x.Unlock)
		}),
	)

	// LockContext(ctx) error with UnlockContext(ctx) (bool, error) or
	// UnlockContext(ctx) error (redsync's Mutex).
	lockContextMethod   = abstract(nil, row(func(x interface{ LockContext(context.Context) error }) acquireFn { return ctxAcquire(x.LockContext) }))
	unlockContextMethod = abstract(nil,
		row(func(x interface {
			UnlockContext(context.Context) (bool, error)
		}) releaseFn {
			return lostIfFalse(x.UnlockContext)
		}),
		row(func(x interface{ UnlockContext(context.Context) error }) releaseFn {
			return releaseFn{fn: x.UnlockContext}
		}),
	)

	// Lock() error with Unlock() error or Unlock() (bool, error), optional
	// TryLock() (bool, error) and Locked() bool (gofrs/flock's Flock).
	errLockMethod   = abstract(nil, row(func(x interface{ Lock() error }) acquireFn { return blockingAcquire(x.Lock) }))
	errUnlockMethod = abstract(nil,
		row(func(x interface{ Unlock() error }) releaseFn {
			return releaseFn{fn: func(context.Context) error { return x.Unlock() }}
		}),
		row(func(x interface{ Unlock() (bool, error) }) releaseFn {
			return lostIfFalse(func(context.Context) (bool, error) { return x.Unlock() })
		}),
	)
	errTryLockMethod = optional(row(func(x interface{ TryLock() (bool, error) }) func() (bool, error) { return x.TryLock }))
)

// tryFn is what a sync.Locker's optional TryLock binds to.
type tryFn struct {
	fast interface{ TryLock() bool }
	poll func() (bool, error)
}

// lockFuncs is what a lock's form binds: the canonical Acquire, Release and
// Locked (nil: the proxy tracks the held state), and the fast paths the
// value offers.
type lockFuncs struct {
	acquire acquireFn
	release releaseFn
	locked  func() bool
	lost    func() <-chan struct{}              // may be nil
	tryer   interface{ TryLock() bool }         // sync.Mutex's: the hot path, with locker
	locker  sync.Locker                         // the sync.Locker form's value; acquire and release are then unset
	try     func(context.Context) (bool, error) // one attempt (TryAcquire, TryLock() (bool, error)); may be nil
}

// lockForms are the method sets a lock may have, tried in this order, each
// with how it is bound.
var lockForms = []form[lockFuncs]{
	{"", methods(acquireMethod.spec(), releaseMethod.spec(), lockedMethod.spec(), lostMethod.spec(), tryAcquireMethod.spec(), ackMethod.spec()),
		func(v any, m *validate.Match) lockFuncs {
			f := lockFuncs{acquire: acquireMethod.must(v, m), release: releaseMethod.must(v, m), locked: lockedMethod.must(v, m)}
			f.lost, _ = lostMethod.bind(v, m)
			f.try, _ = tryAcquireMethod.bind(v, m)
			return f
		}},
	{"sync.Locker", methods(lockMethod.spec(), unlockMethod.spec(), tryLockMethod.spec(), ackMethod.spec()),
		func(v any, m *validate.Match) lockFuncs {
			// Lock and Unlock are called on the Locker itself: no bound funcs.
			f := lockFuncs{locker: v.(sync.Locker)}
			try, _ := tryLockMethod.bind(v, m)
			f.tryer = try.fast
			if try.poll != nil {
				lock, _ := lockMethod.shapes[0].bind(v)
				f.acquire = pollAcquire(try.poll, lock.block)
				f.try = ignoreCtx(try.poll)
			}
			return f
		}},
	{"a ctx locker", methods(ctxLockMethod.spec(), ctxUnlockMethod.spec(), ackMethod.spec()),
		func(v any, m *validate.Match) lockFuncs {
			return lockFuncs{acquire: ctxLockMethod.must(v, m), release: ctxUnlockMethod.must(v, m)}
		}},
	{"a ctx locker (LockContext)", methods(lockContextMethod.spec(), unlockContextMethod.spec(), ackMethod.spec()),
		func(v any, m *validate.Match) lockFuncs {
			return lockFuncs{acquire: lockContextMethod.must(v, m), release: unlockContextMethod.must(v, m)}
		}},
	{"an error locker", methods(errLockMethod.spec(), errUnlockMethod.spec(), errTryLockMethod.spec(), lockedOptinal.spec(), ackMethod.spec()),
		func(v any, m *validate.Match) lockFuncs {
			f := lockFuncs{acquire: errLockMethod.must(v, m), release: errUnlockMethod.must(v, m)}
			if try, ok := errTryLockMethod.bind(v, m); ok {
				f.acquire = pollAcquire(try, f.acquire.block)
				f.try = ignoreCtx(try)
			}
			f.locked, _ = lockedOptinal.bind(v, m)
			return f
		}},
}

// The Lock kind: Python's LockMixin. Abstract: Acquire, Release, Locked; or
// one of the lockers Go code holds (sync.Locker, ctx lockers, error lockers).
var lockKind = &kindSpec{spec: specOf("lock", lockForms...)}

// LockSpec returns the abstract methods of the lock kind: Acquire, Release
// and Locked in one of their shapes; or sync.Locker's Lock and Unlock (with
// TryLock used when present); or Lock(ctx) error and Unlock(ctx); or
// LockContext(ctx) error and UnlockContext(ctx); or Lock() error and
// Unlock() (see NewLock).
func LockSpec() validate.Spec { return lockKind.copySpec() }

// LockOption configures a Lock or OwnerLock: the options below, and
// WithObserver, WithStats and WithName.
type LockOption interface{ applyLock(*lockConfig) }

type lockOptionFunc func(*lockConfig)

func (f lockOptionFunc) applyLock(c *lockConfig) { f(c) }

type lockConfig struct {
	factory        func(v any) any
	releaseTimeout time.Duration
	probe          probeConfig
}

// DefaultReleaseTimeout bounds a release made on behalf of a caller whose ctx
// has ended (see Lock.Release), unless WithReleaseTimeout sets another bound.
const DefaultReleaseTimeout = 10 * time.Second

// WithReleaseTimeout bounds the releases a Lock makes with a ctx of its own
// because the caller's has ended (see Lock.Release); d <= 0 keeps
// DefaultReleaseTimeout.
func WithReleaseTimeout(d time.Duration) LockOption {
	return lockOptionFunc(func(c *lockConfig) { c.releaseTimeout = d })
}

// WithLockFactory sets what Enter returns once the lock is acquired (Python's
// _lock_factory_): factory is called with the wrapped value. Without it,
// Enter returns nil.
func WithLockFactory(factory func(v any) any) LockOption {
	return lockOptionFunc(func(c *lockConfig) { c.factory = factory })
}

// Lock is the proxy of a value composed as a lock (Python's LockMixin): it
// adds Enter, Exit and Do to the value's Acquire and Release, makes every
// acquisition cancellable through ctx, and never leaves the lock held when a
// caller gives up or its body panics.
//
// A Lock is made by NewLock (or NewOwnerLock) and is safe for concurrent use.
// Its zero value is not usable: every method returns an error matching
// ErrUnusable (Locked returns false).
type Lock struct {
	value   any
	typ     reflect.Type                        // the value's type, for messages (formatted only then)
	acquire func(context.Context) (bool, error) // ctx-aware Acquire; nil when blocking is set
	block   func() (bool, error)                // context-less Acquire
	locker  sync.Locker                         // a sync.Locker with TryLock: called directly
	tryer   interface{ TryLock() bool }
	try     func(context.Context) (bool, error) // one attempt, when the value offers one
	acq     acquirer                            // the canonical Acquire, called directly
	rel     releaser                            // the canonical Release, called directly
	release func(context.Context) error
	locked  func() bool                 // nil: the proxy tracks the held state
	lost    func() <-chan struct{}      // the value's Lost, may be nil
	holds   atomic.Int64                // the tracked holds (a shared lock's readers), when locked is nil
	check   func(context.Context) error // ownership check before release, may be nil
	factory func(v any) any
	ack     func(Locksmith) bool
	timeout time.Duration // bound of a release made with a ctx of the proxy's own
	queue   acquireQueue  // context-less acquires whose callers may give up
	tries   tryQueue      // callers that wait for a TryLock on their own goroutines
	om      *OwnerMutex   // set when the value is the library's OwnerMutex: its direct path

	// fast is set for an unobserved sync.Locker with TryLock (the tracked
	// hot path: TryLock, then one count); mu when that is a *sync.Mutex,
	// called concretely so that its TryLock and Unlock inline.
	fast interface{ TryLock() bool }
	mu   *sync.Mutex
	// canon is set for the canonical shapes, unobserved and unchecked: Do
	// calls the value's Acquire and Release directly.
	canon bool

	watched   atomic.Int32                // how many Watchdogs watch this lock: record acquisitions while > 0
	hmu       sync.Mutex                  // serialises the release of a recorded hold with ForceRelease
	rec       atomic.Pointer[holdRecord]  // the current hold, recorded while watched; nil if none
	unchecked func(context.Context) error // release without ownership check (force-release)

	probe *probe // the observer and Stats counters; nil: none (see observe.go)
}

type acquirer interface {
	Acquire(context.Context) (bool, error)
}

type releaser interface {
	Release(context.Context) error
}

// NewLock composes v as a lock. v needs, tried in this order, one of
//
//	Acquire(ctx) (bool, error) | Acquire(ctx) error | Acquire() bool | Acquire()
//	Release(ctx) error | Release() error | Release()
//	Locked() bool
//
//	Lock(), Unlock(), optional TryLock() bool                  (sync.Locker: sync.Mutex, sync.RWMutex)
//	Lock(ctx) error, Unlock(ctx) error | (bool, error)          (etcd's concurrency.Mutex)
//	LockContext(ctx) error, UnlockContext(ctx) (bool, error) | error   (redsync's Mutex)
//	Lock() error, Unlock() error | (bool, error),
//	    optional TryLock() (bool, error), Locked() bool         (gofrs/flock's Flock)
//
// An unlock that reports false (the lock was no longer this holder's) makes
// Release return an error matching ErrLockLost. Where the value has no
// Locked, the proxy tracks whether the lock is held, so Locked is exact only
// when every acquisition goes through the proxy. An error locker's
// TryLock() (bool, error) makes Acquire poll it (0.5ms, doubling up to 16ms)
// until ctx ends, so that a caller who gives up leaves no call in flight.
//
// An optional Lost() <-chan struct{} (a lease-backed lock's: the channel of
// the current hold, closed when its lease is lost, nil when not held) makes
// Do cancel fn's ctx, with cause ErrLockLost, as soon as the lease is lost.
// An optional AcknowledgeLocksmith(Locksmith) bool is asked before a
// Watchdog watches the lock. A value that does not fit is refused
// with a *validate.AbstractError naming every problem.
func NewLock(v any, opts ...LockOption) (*Lock, error) {
	m, err := lockKind.match(v, nil)
	if err != nil {
		return nil, err
	}
	l := newLockProxy(v, opts)
	f := bindForm(lockForms, v, m)
	l.bindAcquire(f.acquire)
	l.release, l.rel = f.release.fn, f.release.direct
	l.locked, l.tryer, l.locker, l.lost, l.try = f.locked, f.tryer, f.locker, f.lost, f.try
	l.unchecked = l.release
	l.bindHot()
	l.ack, _ = ackMethod.bind(v, m)
	return l, nil
}

func newLockProxy(v any, opts []LockOption) *Lock {
	var cfg lockConfig
	if len(opts) > 0 { // (collecting them makes cfg escape: not without options)
		cfg = lockOptions(opts)
	}
	if cfg.releaseTimeout <= 0 {
		cfg.releaseTimeout = DefaultReleaseTimeout
	}
	return &Lock{value: v, typ: reflect.TypeOf(v), factory: cfg.factory, timeout: cfg.releaseTimeout,
		probe: cfg.probe.newProbe("lock", v)}
}

func lockOptions(opts []LockOption) lockConfig {
	var cfg lockConfig
	for _, o := range opts {
		if o != nil {
			o.applyLock(&cfg)
		}
	}
	return cfg
}

// bindHot sets the hot path of Acquire, Release and Do from what is bound:
// called again when an observer is attached (the hot path is unobserved).
func (l *Lock) bindHot() {
	l.fast, l.mu = nil, nil
	l.canon = l.acq != nil && l.rel != nil && l.check == nil && l.locked != nil && l.probe == nil
	if l.tryer != nil && l.locker != nil && l.probe == nil {
		l.fast = l.tryer
		l.mu, _ = l.value.(*sync.Mutex)
	}
}

// bindAcquire takes a bound Acquire, shared by Lock and OwnerLock.
func (l *Lock) bindAcquire(a acquireFn) {
	l.acquire, l.block, l.acq = a.ctx, a.block, a.direct
}

// Value returns the wrapped value.
func (l *Lock) Value() any {
	if l == nil {
		return nil
	}
	return l.value
}

// usable reports whether l was made by NewLock or NewOwnerLock.
func (l *Lock) usable() bool { return l != nil && (l.release != nil || l.locker != nil) }

// Locked reports whether the lock is held: the value's Locked, or the state
// the proxy tracks for a sync.Locker or ctx locker.
func (l *Lock) Locked() bool {
	switch {
	case !l.usable():
		return false
	case l.locked != nil:
		return l.locked()
	}
	return l.holds.Load() > 0
}

// Enter acquires the lock and returns the lock factory's value (nil without
// WithLockFactory). When Acquire reports false it returns an error matching
// ErrNotAcquired; when ctx ends, ctx.Err().
func (l *Lock) Enter(ctx context.Context) (any, error) {
	ok, err := l.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.Errorf("%s: %w", l.typ, ErrNotAcquired)
	}
	if l.factory != nil {
		return l.produce(ctx), nil
	}
	return nil, nil
}

// produce calls the lock factory; if it panics, the lock is released (and
// the release counted, as Release's) before the panic goes on.
func (l *Lock) produce(ctx context.Context) (v any) {
	doorFactory.call(func() { v = l.factory(l.value) }, func() { l.undoHold(ctx) })
	return v
}

// Exit releases the lock. It returns err (the body's), joined with the
// release's own error; a lock never suppresses.
func (l *Lock) Exit(ctx context.Context, err error) error {
	rerr := l.Release(ctx)
	return exitResult(err, false, rerr)
}

// Do acquires the lock, runs fn and releases the lock, also when fn panics
// or calls runtime.Goexit (the panic then goes on). It returns fn's error
// joined with the release's, ErrNotAcquired when Acquire reports false, and
// ctx.Err() when ctx ends before the lock is acquired. Over a lock with Lost,
// fn's ctx is cancelled with cause ErrLockLost when the lease is lost.
func (l *Lock) Do(ctx context.Context, fn func(context.Context) error) (err error) {
	switch {
	case fn == nil:
		return errNilFunc
	case ctx == nil:
		return nilCtx("Lock.Do")
	case l != nil && l.fast != nil:
		return l.doFast(ctx, fn)
	case l != nil && l.canon:
		return l.doCanonical(ctx, fn)
	case l != nil && l.probe != nil:
		return l.observedDo(ctx, fn)
	}
	ok, err := l.Acquire(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Errorf("%s: %w", l.typ, ErrNotAcquired)
	}
	finished := false
	defer func() {
		if !finished {
			_ = l.Release(ctx)
		}
	}()
	if l.lost != nil {
		err = l.leased(ctx, fn)
	} else {
		err = fn(ctx)
	}
	finished = true
	return exitResult(err, false, l.Release(ctx))
}

// doCanonical is Do over the canonical shapes, unobserved and unchecked:
// the value's Acquire and Release called directly, without the frames of
// Acquire and Release; the same steps.
func (l *Lock) doCanonical(ctx context.Context, fn func(context.Context) error) (err error) {
	ok, err := l.acq.Acquire(ctx)
	switch {
	case ok && err != nil:
		// Held, but with an error: given back (see Acquire).
		return errors.Join(err, l.callRelease(ctx, l.release))
	case err != nil:
		return err
	case !ok:
		return errs.Errorf("%s: %w", l.typ, ErrNotAcquired)
	}
	if l.watched.Load() > 0 {
		l.record(ctx)
	}
	defer func() { // also when fn panics or exits the goroutine
		var rerr error
		if l.recording() {
			rerr = l.Release(ctx)
		} else {
			// As Release: never with an ended ctx, whatever error a
			// release that refuses one would return.
			rerr = l.releaseCanonical(ctx)
		}
		if rerr != nil {
			err = exitResult(err, false, rerr)
		}
	}()
	if l.lost != nil {
		return l.leased(ctx, fn)
	}
	return fn(ctx)
}

// doFast is Do over an unobserved sync.Locker with TryLock: Acquire, fn
// and Release, the same steps as Do's without its branches for other
// forms (a sync.Locker has no Lost, no owner check).
func (l *Lock) doFast(ctx context.Context, fn func(context.Context) error) (err error) {
	ok, err := l.Acquire(ctx)
	switch {
	case err != nil:
		return err
	case !ok:
		return errs.Errorf("%s: %w", l.typ, ErrNotAcquired)
	}
	defer func() { // also when fn panics or exits the goroutine
		if rerr := l.Release(ctx); rerr != nil {
			err = exitResult(err, false, rerr)
		}
	}()
	return fn(ctx)
}

// leased runs fn with a ctx that is cancelled, with cause ErrLockLost, when
// the lock's lease is lost (its Lost channel closes) before fn returns.
func (l *Lock) leased(ctx context.Context, fn func(context.Context) error) error {
	ch := l.lost()
	if ch == nil {
		return fn(ctx)
	}
	fctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	doorLost.spawn(func() {
		select {
		case <-ch:
			cancel(errs.Errorf("%s: the lease was lost while held: %w", l.typ, ErrLockLost))
			if l.probe != nil {
				l.probe.lostLease(ctx)
			}
		case <-done:
		}
	}, doorLost.drop)
	defer func() {
		close(done)
		cancel(nil)
	}()
	return fn(fctx)
}

// lostNow reports whether the value says the lease of its current hold is
// lost.
func (l *Lock) lostNow() bool {
	if l.lost == nil {
		return false
	}
	select {
	case <-l.lost():
		return true
	default:
		return false
	}
}
