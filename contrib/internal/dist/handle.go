// Package dist holds what the distributed engines of contrib/ share: the
// handle of a lease-backed lock (one hold at a time, its owner task, its
// lease kept alive and its loss reported) and the codec of an event's values.
// An engine supplies how to take, keep, test and give back a lease; the
// handle does the rest the same way on every engine.
package dist

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/errs"
)

// Lease is one hold of a distributed lock on its engine.
type Lease interface {
	// Keep keeps the lease alive until ctx ends (it then returns nil) or the
	// lease is lost (it returns why).
	Keep(ctx context.Context) error
	// Release gives the lease back; false when it was no longer this hold's
	// (expired, or taken over).
	Release(ctx context.Context) (bool, error)
	// Held asks the server whether this lease still holds the lock.
	Held(ctx context.Context) (bool, error)
	// Token is the hold's fencing token: larger for every later hold.
	Token() int64
}

// Deferred is a Lease whose Keep has nothing to do until KeepAfter has
// passed since the hold began: the handle starts it only then, so that the
// many holds shorter than that cost no goroutine of their own.
type Deferred interface {
	KeepAfter() time.Duration
}

// Dropper is a Lease with more to stop than its Keep when the handle that
// holds it is collected without a Release: an etcd session's own
// keep-alives. Drop stops keeping the lease alive and asks nothing of the
// server; the lease then ends within its length.
type Dropper interface {
	Drop()
}

// Ending is a Lease that knows where it ends by the local clock, as far as
// its holder knows (the end its last refresh set): IsOwner says false from
// then on, and a lease lost by running out is dated then, even when the
// process was too busy to find it out at once. Until is called from any
// goroutine.
type Ending interface {
	Until() time.Time
}

// Engine takes leases of one named lock.
type Engine interface {
	// Acquire waits until it holds the lock or ctx ends; it returns ctx's
	// error then (joined with the last error the server gave, if any).
	Acquire(ctx context.Context) (Lease, error)
	// TryAcquire makes one attempt: a nil Lease and no error when another
	// holds the lock.
	TryAcquire(ctx context.Context) (Lease, error)
	// Locked asks the server whether anyone holds the lock.
	Locked(ctx context.Context) (bool, error)
}

// ErrLeaseExpired is why Keep returns when the lease's time ran out before
// it could be refreshed.
var ErrLeaseExpired = errors.New("lease expired before it could be refreshed")

// Handle is a holder's handle on a distributed lock: what contrib's Lock
// types are made of. One hold at a time per handle; goroutines sharing a
// handle take turns, so a shared handle is a lock too.
type Handle struct {
	engine  Engine
	name    string
	what    string        // for messages: "redis lock \"name\""
	timeout time.Duration // bound of the calls made without a ctx (Locked)
	gate    chan struct{} // one hold per handle
	*slot
}

// slot is a handle's current hold, apart from the handle so that a cleanup
// can reach it once the handle is collected.
type slot struct {
	mu  sync.Mutex
	cur *hold // nil when this handle holds nothing
}

// drop stops keeping the current hold's lease: nobody can release it, since
// its handle was collected. The lease ends within its length, as if the
// process had exited.
func (s *slot) drop() {
	s.mu.Lock()
	c := s.cur
	s.cur = nil
	s.mu.Unlock()
	if c == nil {
		return
	}
	c.stop()
	if c.timer != nil {
		c.timer.Stop()
	}
	if d, ok := c.lease.(Dropper); ok {
		go d.Drop()
	}
}

// hold is one acquisition through a handle.
type hold struct {
	lease   Lease
	task    adapters.Task
	hasTask bool
	lost    chan struct{} // closed when the lease is lost
	why     error         // why it was lost, set before lost closes
	lostAt  time.Time
	once    sync.Once // marks the loss once: the keeper, or a look at the clock
	stop    context.CancelFunc
	done    chan struct{} // closed when the keeper has returned
	timer   *time.Timer   // starts a Deferred lease's keeper; nil for the others
}

// NewHandle makes a handle on the lock name over engine. what names the
// lock in errors; timeout bounds the calls made without a ctx (Locked) or
// with one that has no deadline (Release). A handle that becomes unreachable
// while it holds the lock (its Release forgotten) is collected, and its
// lease is no longer kept alive: it ends within its length, as it would if
// the process had exited, and other handles can acquire the lock again.
func NewHandle(engine Engine, name, what string, timeout time.Duration) *Handle {
	h := &Handle{engine: engine, name: name, what: what, timeout: timeout, gate: make(chan struct{}, 1), slot: &slot{}}
	runtime.AddCleanup(h, (*slot).drop, h.slot)
	return h
}

// Name returns the lock's name.
func (h *Handle) Name() string { return h.name }

// Acquire waits until this handle holds the lock, or ctx ends: then it
// returns false and ctx.Err() (with the last error the server gave, if it
// gave one). It never gives up on a retry budget of its own.
func (h *Handle) Acquire(ctx context.Context) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	select {
	case h.gate <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	lease, err := h.engine.Acquire(ctx)
	if err != nil {
		<-h.gate
		return false, errs.Errorf("acquire %s: %w", h.what, endedWith(ctx, err))
	}
	h.hold(ctx, lease)
	return true, nil
}

// TryAcquire makes one attempt to take the lock, and does not wait: false
// and no error when another holds it (or another goroutine holds it through
// this handle); an error when the server could not say, or ctx ended first.
func (h *Handle) TryAcquire(ctx context.Context) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	select {
	case h.gate <- struct{}{}:
	default:
		return false, nil
	}
	lease, err := h.engine.TryAcquire(ctx)
	switch {
	case err != nil:
		<-h.gate
		return false, errs.Errorf("try to acquire %s: %w", h.what, endedWith(ctx, err))
	case lease == nil:
		<-h.gate
		return false, nil
	}
	h.hold(ctx, lease)
	return true, nil
}

// hold makes lease the handle's current hold, kept alive until released or
// found lost.
func (h *Handle) hold(ctx context.Context, lease Lease) {
	task, hasTask := adapters.TaskOf(ctx)
	kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c := &hold{lease: lease, task: task, hasTask: hasTask, lost: make(chan struct{}), stop: stop, done: make(chan struct{})}
	keep := func() {
		defer close(c.done)
		err := lease.Keep(kctx)
		if kctx.Err() == nil { // lost, not stopped
			if err == nil {
				err = ErrLeaseExpired
			}
			at := time.Now()
			if e, ok := lease.(Ending); ok && errors.Is(err, ErrLeaseExpired) && e.Until().Before(at) {
				at = e.Until() // it ran out then; a busy process found it later
			}
			c.markLost(err, at)
		}
	}
	if d, ok := lease.(Deferred); ok && d.KeepAfter() > 0 {
		c.timer = time.AfterFunc(d.KeepAfter(), keep)
	} else {
		go keep()
	}
	h.mu.Lock()
	h.cur = c
	h.mu.Unlock()
}

// Release gives the lock back. After a lost lease it returns an error
// matching adapters.ErrLockLost (and gives back nothing another holder
// took); with no hold, one matching adapters.ErrNotLocked. An error of the
// server leaves the lease to expire on its own, and frees the handle. The
// call to the server is bounded by the handle's timeout when ctx has no
// deadline, and made with ctx's values but not its end when ctx has ended.
func (h *Handle) Release(ctx context.Context) error {
	h.mu.Lock()
	c := h.cur
	h.cur = nil
	h.mu.Unlock()
	if c == nil {
		return errs.Errorf("release %s: %w", h.what, adapters.ErrNotLocked)
	}
	defer func() { <-h.gate }()
	lost(c) // a lease past its end by the clock is lost, whatever the release finds
	c.stop()
	kept := c.timer == nil || !c.timer.Stop() // a keeper ran, or runs: it stops while the lease is given back
	if ctx.Err() != nil {                     // an ended ctx would leave the key held until its lease ran out
		ctx = context.WithoutCancel(ctx)
	}
	rctx, cancel := h.bounded(ctx)
	defer cancel()
	ours, err := c.lease.Release(rctx)
	if kept {
		<-c.done
	}
	if found(c) {
		return errs.Errorf("release %s: %w: %w", h.what, adapters.ErrLockLost, c.why)
	}
	if err != nil {
		return errs.Errorf("release %s: %w", h.what, err)
	}
	if !ours {
		return errs.Errorf("release %s: %w: the lease had expired", h.what, adapters.ErrLockLost)
	}
	return nil
}

// ReleaseUnchecked is Release: the owner-lock kind's release, which the
// Composer's proxy calls once IsOwner has said yes.
func (h *Handle) ReleaseUnchecked(ctx context.Context) error { return h.Release(ctx) }

// markLost records the hold's loss, once: why and when, then closes lost.
func (c *hold) markLost(why error, at time.Time) {
	c.once.Do(func() {
		c.why, c.lostAt = why, at
		close(c.lost)
	})
}

// lost reports whether the hold's lease is lost: found so by its keeper, or,
// for an Ending lease, past its end by the local clock, though its keeper
// (on a busy process) has not yet run to find it; then it marks the loss,
// dated at the lease's end, so that Lost, LostAt and IsOwner agree.
func lost(c *hold) bool {
	if found(c) {
		return true
	}
	if e, ok := c.lease.(Ending); ok {
		if end := e.Until(); !time.Now().Before(end) {
			c.markLost(fmt.Errorf("%w: its end by the local clock passed before it was refreshed", ErrLeaseExpired), end)
			return true
		}
	}
	return false
}

// found reports whether the hold's loss has been marked.
func found(c *hold) bool {
	select {
	case <-c.lost:
		return true
	default:
		return false
	}
}

// current returns the hold, or nil.
func (h *Handle) current() *hold {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// Lost returns a channel closed when the current hold's lease is lost; nil
// when this handle holds nothing.
func (h *Handle) Lost() <-chan struct{} {
	if c := h.current(); c != nil {
		return c.lost
	}
	return nil
}

// LostAt returns when the current hold's lease was lost, and why; zero and
// nil while it is not found lost. A lease that ran out is dated at its end
// by the local clock, which a busy process may find out later.
func (h *Handle) LostAt() (time.Time, error) {
	if c := h.current(); c != nil && lost(c) {
		return c.lostAt, c.why
	}
	return time.Time{}, nil
}

// Token returns the current hold's fencing token, larger than every earlier
// hold's of the name, and false when this handle holds nothing. Pass it to
// the resource the lock guards, which refuses a token smaller than one it
// has seen.
func (h *Handle) Token() (int64, bool) {
	if c := h.current(); c != nil {
		return c.lease.Token(), true
	}
	return 0, false
}

// IsOwner reports whether ctx's task holds the lock through this handle: it
// acquired it (a hold acquired without a task is owned by callers without
// one), has not released it, and its lease has not been found lost nor (for
// an Ending lease) run out by the local clock. It asks nothing of the
// server: the lease is the server's promise, and its loss is found by the
// keeper within the lease (HeldContext asks the server).
func (h *Handle) IsOwner(ctx context.Context) bool {
	c := h.current()
	if c == nil || lost(c) {
		return false
	}
	task, ok := adapters.TaskOf(ctx)
	return ok == c.hasTask && task == c.task
}

// HeldContext asks the server whether this handle's hold still holds the
// lock; false without a hold.
func (h *Handle) HeldContext(ctx context.Context) (bool, error) {
	c := h.current()
	if c == nil {
		return false, nil
	}
	held, err := c.lease.Held(ctx)
	if err != nil {
		return false, errs.Errorf("held %s: %w", h.what, err)
	}
	return held && !lost(c), nil
}

// Locked asks the server whether anyone holds the lock. When the server
// cannot say within the handle's timeout, it reports what this handle knows:
// whether it holds the lock itself. LockedContext returns the error instead.
func (h *Handle) Locked() bool {
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	held, err := h.engine.Locked(ctx)
	if err != nil {
		c := h.current()
		return c != nil && !lost(c)
	}
	return held
}

// LockedContext asks the server whether anyone holds the lock.
func (h *Handle) LockedContext(ctx context.Context) (bool, error) {
	held, err := h.engine.Locked(ctx)
	if err != nil {
		return false, errs.Errorf("locked %s: %w", h.what, err)
	}
	return held, nil
}

// endedWith is err, or, when ctx has ended, ctx's error with err beside it:
// an engine's call cut short by the ctx can fail with a server's or a
// transport's own words for it ("request timed out", a gRPC status), which
// errors.Is would not match with ctx.Err().
func endedWith(ctx context.Context, err error) error {
	cerr := ended(ctx)
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return errs.Errorf("%w (last error from the server: %w)", cerr, err)
}

// bounded is ctx, bounded by the handle's timeout when it has no deadline.
func (h *Handle) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, h.timeout)
}
