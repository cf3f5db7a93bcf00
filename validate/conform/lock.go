package conform

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// Lock checks that the values newLock makes are locks: the ABC check, then
// mutual exclusion under contention ("mutual-exclusion": Python's lock lets
// one holder in at a time), Locked telling the truth ("locked-tells-truth":
// locked()), Release waking a waiter ("release-wakes-waiter": release()
// wakes one acquire() waiting), and a cancelled Acquire leaving the lock free
// ("cancelled-acquire-leaves-free": acquire() with a timeout that expires
// takes nothing). Each property gets a fresh value, shared by its contenders;
// with Handles, each contender its own handle to one lock. Every blocking
// call is bounded: an Acquire that ignores its ctx fails its property within
// the suite's timeout of that ctx ending, and the suite goes on. Owner locks
// are accepted too (through their Lock view). It reports whether every
// property passed.
func Lock(t testing.TB, newLock func() any, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	mk := func(t testing.TB) *adapters.Lock {
		t.Helper()
		v := newLock()
		l, err := adapters.NewLock(v)
		if err == nil {
			return l
		}
		if o, oerr := adapters.NewOwnerLock(v); oerr == nil {
			return o.AsLock()
		}
		t.Errorf("not a lock: %+v", err)
		return nil
	}
	if !c.property(t, "abc", func(t testing.TB) { t.Helper(); mk(t) }) {
		return false
	}
	return lockProperties(t, c, mk)
}

// lockAPI is what the lock properties use of a Lock or an OwnerLock.
type lockAPI interface {
	Acquire(context.Context) (bool, error)
	Release(context.Context) error
	Locked() bool
	Do(context.Context, func(context.Context) error) error
}

// acquireWithin acquires within the suite's bounds: an acquisition that
// comes after the suite gave up is released.
func acquireWithin(t testing.TB, c *config, l lockAPI, ctx context.Context) (bool, error, bool) {
	t.Helper()
	type res struct {
		ok  bool
		err error
	}
	r, ok := within(t, c, "Acquire", ctx, func() res {
		got, err := l.Acquire(ctx)
		return res{got, err}
	}, func(r res) {
		if r.ok {
			_ = l.Release(ctx)
		}
	})
	return r.ok, r.err, ok
}

// releaseWithin releases within the suite's bounds.
func releaseWithin(t testing.TB, c *config, l lockAPI, ctx context.Context) (error, bool) {
	t.Helper()
	return within(t, c, "Release", ctx, func() error { return l.Release(ctx) }, nil)
}

func lockProperties(t testing.TB, c *config, mkLock func(testing.TB) *adapters.Lock) bool {
	t.Helper()
	ok := c.property(t, "mutual-exclusion", func(t testing.TB) {
		t.Helper()
		get := handles(c, mkLock)
		if get(t) == nil {
			return
		}
		var inside, worst atomic.Int32
		var calls fold
		var wg sync.WaitGroup
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout*5)
		defer cancel()
		const rounds = 20
		for range c.waiters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := get(t)
				if l == nil { // the factory made no lock (reported by get)
					return
				}
				task := adapters.WithTask(ctx)
				for range rounds {
					err := safely(func() error {
						return l.Do(task, func(context.Context) error {
							raise(&worst, inside.Add(1))
							time.Sleep(time.Microsecond)
							inside.Add(-1)
							return nil
						})
					})
					calls.add(err)
					if err != nil {
						return
					}
				}
			}()
		}
		waitAll(t, c, &wg, ctx, "Do under contention", nil)
		calls.report(t, "Do calls under contention")
		if w := worst.Load(); w > 1 {
			t.Errorf("mutual exclusion broken: expected at most 1 holder at a time, saw %d at once", w)
		}
	})
	ok = c.property(t, "locked-tells-truth", func(t testing.TB) {
		t.Helper()
		l := mkLock(t)
		if l == nil {
			return
		}
		ctx, cancel := context.WithTimeout(adapters.WithTask(context.Background()), c.timeout)
		defer cancel()
		if held, ok := call(t, c, "Locked", l.Locked); !ok {
			return
		} else if held {
			t.Errorf("expected a free lock to be free, Locked says held")
		}
		if !acquireFree(t, c, l, ctx) {
			return
		}
		held, ok := call(t, c, "Locked", l.Locked)
		if ok && !held {
			t.Errorf("expected Locked after Acquire, Locked says free")
		}
		// Release even when Locked did not return: it may be waiting for
		// the lock to be free (a self-deadlock), and the suite must leave
		// nothing held.
		if err, ok := releaseWithin(t, c, l, ctx); !ok {
			return
		} else if err != nil {
			t.Errorf("expected Release to succeed, got %v", err)
		}
		if held, ok := call(t, c, "Locked", l.Locked); ok && held {
			t.Errorf("expected free after Release, Locked says held")
		}
	}) && ok
	ok = c.property(t, "release-wakes-waiter", func(t testing.TB) {
		t.Helper()
		get := handles(c, mkLock)
		l, w := get(t), get(t)
		if l == nil || w == nil {
			return
		}
		holder, cancelH := context.WithTimeout(adapters.WithTask(context.Background()), 3*c.timeout)
		defer cancelH()
		if !acquireFree(t, c, l, holder) {
			return
		}
		waiter, cancel := context.WithTimeout(adapters.WithTask(context.Background()), c.timeout)
		defer cancel()
		acquired := acquireAsync(w, waiter)
		select {
		case err := <-acquired:
			t.Errorf("expected a second Acquire to wait while the lock is held, it returned %v", err)
			if err == nil {
				_, _ = releaseWithin(t, c, w, waiter)
			}
			_, _ = releaseWithin(t, c, l, holder)
			return
		case <-time.After(c.settle):
		}
		if err, _ := releaseWithin(t, c, l, holder); err != nil {
			t.Errorf("expected Release to succeed, got %v", err)
		}
		select {
		case err := <-acquired:
			if err != nil {
				t.Errorf("expected Release to wake the waiter, its Acquire returned %v", err)
				return
			}
			_, _ = releaseWithin(t, c, w, waiter)
		case <-time.After(2 * c.timeout):
			t.Errorf("expected Release to wake the waiter, its Acquire did not return within %v", 2*c.timeout)
		}
	}) && ok
	ok = c.property(t, "cancelled-acquire-leaves-free", func(t testing.TB) {
		t.Helper()
		get := handles(c, mkLock)
		l, other, next := get(t), get(t), get(t)
		if l == nil || other == nil || next == nil {
			return
		}
		holder, cancelH := context.WithTimeout(adapters.WithTask(context.Background()), 3*c.timeout)
		defer cancelH()
		if !acquireFree(t, c, l, holder) {
			return
		}
		short, cancel := context.WithTimeout(adapters.WithTask(context.Background()), 10*time.Millisecond)
		got, err, returned := acquireWithin(t, c, other, short)
		cancel()
		if returned && (got || !errors.Is(err, context.DeadlineExceeded)) {
			t.Errorf("expected Acquire on a held lock to end with its ctx (false, deadline exceeded), got %v, %v", got, err)
			if got {
				_, _ = releaseWithin(t, c, other, short)
			}
		}
		// Releasing also unblocks an Acquire that ignored its ctx; the suite
		// then gives back what it got.
		if err, _ := releaseWithin(t, c, l, holder); err != nil {
			t.Errorf("expected Release to succeed, got %v", err)
			return
		}
		if !returned {
			return
		}
		nctx, ncancel := context.WithTimeout(adapters.WithTask(context.Background()), c.timeout)
		defer ncancel()
		if got, err, done := acquireWithin(t, c, next, nctx); !done || err != nil || !got {
			if done {
				t.Errorf("expected the lock free after a cancelled Acquire, a new Acquire got %v, %v", got, err)
			}
			return
		}
		_, _ = releaseWithin(t, c, next, nctx)
	}) && ok
	return ok
}

// OwnerLock checks that the values newLock makes are owner locks: the ABC
// check, Lock's properties, IsOwner telling the truth ("is-owner"), and a
// Release by another task refused with ErrNotOwner, leaving the lock held
// ("release-by-other-task-refused").
func OwnerLock(t testing.TB, newLock func() any, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	mk := func(t testing.TB) *adapters.OwnerLock {
		t.Helper()
		o, err := adapters.NewOwnerLock(newLock())
		if err != nil {
			t.Errorf("not an owner lock: %+v", err)
			return nil
		}
		return o
	}
	if !c.property(t, "abc", func(t testing.TB) { t.Helper(); mk(t) }) {
		return false
	}
	ok := lockProperties(t, c, func(t testing.TB) *adapters.Lock {
		t.Helper()
		if o := mk(t); o != nil {
			return o.AsLock()
		}
		return nil
	})
	ok = c.property(t, "is-owner", func(t testing.TB) {
		t.Helper()
		o := mk(t)
		if o == nil {
			return
		}
		a, b := adapters.WithTask(context.Background()), adapters.WithTask(context.Background())
		if !acquireFree(t, c, o, a) {
			return
		}
		if got, ok := isOwnerWithin(t, c, o, a); ok && !got {
			t.Errorf("expected IsOwner true for the task that acquired, got false")
		}
		if got, ok := isOwnerWithin(t, c, o, b); ok && got {
			t.Errorf("expected IsOwner false for another task, got true")
		}
		if _, ok := releaseWithin(t, c, o, a); !ok {
			return
		}
		if got, ok := isOwnerWithin(t, c, o, a); ok && got {
			t.Errorf("expected IsOwner false after Release, got true")
		}
	}) && ok
	ok = c.property(t, "release-by-other-task-refused", func(t testing.TB) {
		t.Helper()
		o := mk(t)
		if o == nil {
			return
		}
		a, b := adapters.WithTask(context.Background()), adapters.WithTask(context.Background())
		if !acquireFree(t, c, o, a) {
			return
		}
		if err, ok := releaseWithin(t, c, o, b); ok && !errors.Is(err, adapters.ErrNotOwner) {
			t.Errorf("expected Release by another task to fail with ErrNotOwner, got %v", err)
		}
		if locked, ok := within(t, c, "Locked", context.Background(), o.Locked, nil); ok && !locked {
			t.Errorf("expected the lock still held after a refused Release, Locked says free")
		}
		if err, ok := releaseWithin(t, c, o, a); ok && err != nil {
			t.Errorf("expected Release by the owner to succeed, got %v", err)
		}
	}) && ok
	return ok
}

// isOwnerWithin asks IsOwner within the suite's bounds.
func isOwnerWithin(t testing.TB, c *config, o *adapters.OwnerLock, ctx context.Context) (bool, bool) {
	t.Helper()
	return within(t, c, "IsOwner", ctx, func() bool { return o.IsOwner(ctx) }, nil)
}

// acquireAsync starts l.Acquire(ctx) on a goroutine of the suite's and
// returns its outcome: nil once acquired, else why not (a panic of the
// implementation as an error). An acquisition that also reports an error is
// given back.
func acquireAsync(l lockAPI, ctx context.Context) <-chan error {
	acquired := make(chan error, 1)
	go func() {
		acquired <- safely(func() error {
			got, err := l.Acquire(ctx)
			if err == nil && !got {
				err = errors.New("acquire reported false")
			}
			if got && err != nil {
				_ = l.Release(ctx)
			}
			return err
		})
	}()
	return acquired
}

// acquireFree acquires a lock the property expects to be free, within the
// suite's bounds, and reports a failure when it cannot.
func acquireFree(t testing.TB, c *config, l lockAPI, ctx context.Context) bool {
	t.Helper()
	got, err, returned := acquireWithin(t, c, l, ctx)
	if returned && (err != nil || !got) {
		t.Errorf("expected Acquire on a free lock to succeed, got %v, %v", got, err)
	}
	return returned && err == nil && got
}
