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
// mutual exclusion under contention ("mutual-exclusion"), Locked telling the
// truth ("locked-tells-truth"), Release waking a waiter
// ("release-wakes-waiter"), and a cancelled Acquire leaving the lock free
// ("cancelled-acquire-leaves-free"). Each property gets a fresh value.
// Owner locks are accepted too (through their Lock view). It reports whether
// every property passed.
func Lock(t testing.TB, newLock func() any, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	mk := func(t testing.TB) *adapters.Lock {
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
	if !c.property(t, "abc", func(t testing.TB) { mk(t) }) {
		return false
	}
	return lockProperties(t, c, mk)
}

func lockProperties(t testing.TB, c *config, mk func(testing.TB) *adapters.Lock) bool {
	t.Helper()
	ok := c.property(t, "mutual-exclusion", func(t testing.TB) {
		l := mk(t)
		if l == nil {
			return
		}
		var inside, worst atomic.Int32
		var wg sync.WaitGroup
		for range c.waiters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(adapters.WithTask(context.Background()), c.timeout*5)
				defer cancel()
				for range 20 {
					err := l.Do(ctx, func(context.Context) error {
						raise(&worst, inside.Add(1))
						time.Sleep(time.Microsecond)
						inside.Add(-1)
						return nil
					})
					if err != nil {
						t.Errorf("Do failed under contention: %v", err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if w := worst.Load(); w != 1 {
			t.Errorf("mutual exclusion broken: expected at most 1 holder at a time, saw %d at once", w)
		}
	})
	ok = c.property(t, "locked-tells-truth", func(t testing.TB) {
		l := mk(t)
		if l == nil {
			return
		}
		ctx := adapters.WithTask(context.Background())
		if l.Locked() {
			t.Errorf("expected a new lock to be free, Locked says held")
		}
		if !acquireFree(t, l, ctx) {
			return
		}
		if !l.Locked() {
			t.Errorf("expected Locked after Acquire, Locked says free")
		}
		if err := l.Release(ctx); err != nil {
			t.Errorf("expected Release to succeed, got %v", err)
		}
		if l.Locked() {
			t.Errorf("expected free after Release, Locked says held")
		}
	}) && ok
	ok = c.property(t, "release-wakes-waiter", func(t testing.TB) {
		l := mk(t)
		if l == nil {
			return
		}
		holder := adapters.WithTask(context.Background())
		if !acquireFree(t, l, holder) {
			return
		}
		acquired := make(chan error, 1)
		waiter := adapters.WithTask(context.Background())
		wctx, cancel := context.WithTimeout(waiter, c.timeout)
		defer cancel()
		go func() {
			got, err := l.Acquire(wctx)
			if err == nil && !got {
				err = errors.New("acquire reported false")
			}
			acquired <- err
		}()
		select {
		case err := <-acquired:
			t.Errorf("expected a second Acquire to wait while the lock is held, it returned %v", err)
			return
		case <-time.After(20 * time.Millisecond):
		}
		if err := l.Release(holder); err != nil {
			t.Errorf("expected Release to succeed, got %v", err)
			return
		}
		if err := <-acquired; err != nil {
			t.Errorf("expected Release to wake the waiter, its Acquire returned %v", err)
			return
		}
		_ = l.Release(waiter)
	}) && ok
	ok = c.property(t, "cancelled-acquire-leaves-free", func(t testing.TB) {
		l := mk(t)
		if l == nil {
			return
		}
		holder := adapters.WithTask(context.Background())
		if !acquireFree(t, l, holder) {
			return
		}
		short, cancel := context.WithTimeout(adapters.WithTask(context.Background()), 10*time.Millisecond)
		got, err := l.Acquire(short)
		cancel()
		if got || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("expected Acquire on a held lock to end with its ctx (false, deadline exceeded), got %v, %v", got, err)
			return
		}
		if err := l.Release(holder); err != nil {
			t.Errorf("expected Release to succeed, got %v", err)
			return
		}
		next := adapters.WithTask(context.Background())
		nctx, ncancel := context.WithTimeout(next, c.timeout)
		defer ncancel()
		if got, err := l.Acquire(nctx); err != nil || !got {
			t.Errorf("expected the lock free after a cancelled Acquire, a new Acquire got %v, %v", got, err)
			return
		}
		_ = l.Release(next)
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
		o, err := adapters.NewOwnerLock(newLock())
		if err != nil {
			t.Errorf("not an owner lock: %+v", err)
			return nil
		}
		return o
	}
	if !c.property(t, "abc", func(t testing.TB) { mk(t) }) {
		return false
	}
	ok := lockProperties(t, c, func(t testing.TB) *adapters.Lock {
		if o := mk(t); o != nil {
			return o.AsLock()
		}
		return nil
	})
	ok = c.property(t, "is-owner", func(t testing.TB) {
		o := mk(t)
		if o == nil {
			return
		}
		a, b := adapters.WithTask(context.Background()), adapters.WithTask(context.Background())
		if !acquireFree(t, o, a) {
			return
		}
		if !o.IsOwner(a) {
			t.Errorf("expected IsOwner true for the task that acquired, got false")
		}
		if o.IsOwner(b) {
			t.Errorf("expected IsOwner false for another task, got true")
		}
		_ = o.Release(a)
		if o.IsOwner(a) {
			t.Errorf("expected IsOwner false after Release, got true")
		}
	}) && ok
	ok = c.property(t, "release-by-other-task-refused", func(t testing.TB) {
		o := mk(t)
		if o == nil {
			return
		}
		a, b := adapters.WithTask(context.Background()), adapters.WithTask(context.Background())
		if !acquireFree(t, o, a) {
			return
		}
		if err := o.Release(b); !errors.Is(err, adapters.ErrNotOwner) {
			t.Errorf("expected Release by another task to fail with ErrNotOwner, got %v", err)
		}
		if !o.Locked() {
			t.Errorf("expected the lock still held after a refused Release, Locked says free")
		}
		if err := o.Release(a); err != nil {
			t.Errorf("expected Release by the owner to succeed, got %v", err)
		}
	}) && ok
	return ok
}

// acquireFree acquires a lock the property expects to be free, and reports
// a failure when it cannot.
func acquireFree(t testing.TB, l interface {
	Acquire(context.Context) (bool, error)
}, ctx context.Context) bool {
	t.Helper()
	if got, err := l.Acquire(ctx); err != nil || !got {
		t.Errorf("expected Acquire on a free lock to succeed, got %v, %v", got, err)
		return false
	}
	return true
}
