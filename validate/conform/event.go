package conform

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// Event checks that the values newEvent makes are events of T: the ABC
// check, Get on an empty event ("get-on-empty"), Set, Get, IsSet and Clear
// agreeing ("set-get-clear"), one Set waking every waiter with its value
// ("broadcast"), and WaitForNext waiting for the next Set even while a value
// is held ("wait-for-next-blocks-while-set"): Python's EventMixin set(),
// get(), is_set(), clear() and wait_for_next(). sample returns distinct
// values of T for i = 0, 1, 2. With Handles, the factory makes handles to
// one event (one per client of a distributed event): waiters and the setter
// each use their own. Every blocking call is bounded: a WaitForNext that
// ignores its ctx fails its property, and the suite unblocks it with a Set.
func Event[T any](t testing.TB, newEvent func() any, sample func(i int) T, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	mk := func(t testing.TB) *adapters.Event[T] {
		t.Helper()
		e, err := adapters.NewEvent[T](newEvent())
		if err != nil {
			t.Errorf("not an event: %+v", err)
			return nil
		}
		return e
	}
	if !c.property(t, "abc", func(t testing.TB) { t.Helper(); mk(t) }) {
		return false
	}
	same := func(a, b T) bool { return reflect.DeepEqual(a, b) }
	ok := c.property(t, "get-on-empty", func(t testing.TB) {
		t.Helper()
		e := mk(t)
		if e == nil {
			return
		}
		if set, ok := call(t, c, "IsSet", e.IsSet); ok && set {
			t.Errorf("expected a new event to be empty, IsSet says true")
		}
		if r, ok := getWithin(t, c, e); ok && !errors.Is(r.err, adapters.ErrNoValue) {
			t.Errorf("expected Get on an empty event to fail with ErrNoValue, got %v, %v", r.v, r.err)
		}
	})
	ok = c.property(t, "set-get-clear", func(t testing.TB) {
		t.Helper()
		e := mk(t)
		if e == nil {
			return
		}
		want := sample(0)
		if err, ok := setWithin(t, c, e, want); !ok {
			return
		} else if err != nil {
			t.Errorf("expected Set to succeed, got %v", err)
			return
		}
		if set, ok := call(t, c, "IsSet", e.IsSet); ok && !set {
			t.Errorf("expected IsSet after Set, got false")
		}
		if r, ok := getWithin(t, c, e); ok && (r.err != nil || !same(r.v, want)) {
			t.Errorf("expected Get to return %v after Set, got %v, %v", want, r.v, r.err)
		}
		if _, ok := call(t, c, "Clear", func() struct{} { e.Clear(); return struct{}{} }); !ok {
			return
		}
		if set, ok := call(t, c, "IsSet", e.IsSet); ok && set {
			t.Errorf("expected IsSet false after Clear, got true")
		}
		if r, ok := getWithin(t, c, e); ok && !errors.Is(r.err, adapters.ErrNoValue) {
			t.Errorf("expected Get after Clear to fail with ErrNoValue, got %v", r.err)
		}
	}) && ok
	ok = c.property(t, "broadcast", func(t testing.TB) {
		t.Helper()
		get := handles(c, mk)
		e := get(t)
		if e == nil {
			return
		}
		want := sample(1)
		// The waiters' handles are made first (a client each, for a
		// distributed engine), and their ctx then allows the settle and a
		// timeout: a ctx begun before them ran out under load before the
		// Set was made, and no waiter was woken.
		ws := make([]*adapters.Event[T], c.waiters)
		for i := range ws {
			if ws[i] = get(t); ws[i] == nil {
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.settle+c.timeout)
		defer cancel()
		var wg sync.WaitGroup
		got := make([]T, c.waiters)
		errs := make([]error, c.waiters)
		// started counts the waiters about to call WaitForNext: the settle
		// begins once all are, so that a loaded machine slow to schedule 50
		// goroutines does not make a late starter look like one not woken.
		started := make(chan struct{}, c.waiters)
		for i, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				started <- struct{}{}
				errs[i] = safely(func() (err error) {
					got[i], err = w.WaitForNext(ctx)
					return err
				})
			}()
		}
		for range c.waiters {
			select {
			case <-started:
			case <-ctx.Done():
			}
		}
		time.Sleep(c.settle) // let the waiters block
		if _, ok := setWithin(t, c, e, want); !ok {
			return
		}
		if !waitAll(t, c, &wg, ctx, "WaitForNext", func() { _, _ = setWithin(t, c, e, want) }) {
			return
		}
		woken := 0
		for i := range got {
			if errs[i] == nil && same(got[i], want) {
				woken++
			}
		}
		if woken != c.waiters {
			t.Errorf("expected one Set to wake all %d waiters with %v, %d were woken", c.waiters, want, woken)
		}
	}) && ok
	ok = c.property(t, "wait-for-next-blocks-while-set", func(t testing.TB) {
		t.Helper()
		get := handles(c, mk)
		e, w := get(t), get(t)
		if e == nil || w == nil {
			return
		}
		if _, ok := setWithin(t, c, e, sample(0)); !ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		type res struct {
			v   T
			err error
		}
		r, returned := within(t, c, "WaitForNext", ctx, func() res {
			v, err := w.WaitForNext(ctx)
			return res{v, err}
		}, nil)
		if !returned {
			_, _ = setWithin(t, c, e, sample(0)) // unblock it
			return
		}
		if !errors.Is(r.err, context.DeadlineExceeded) {
			t.Errorf("expected WaitForNext to wait for the next Set although a value is held, it returned %v, %v", r.v, r.err)
		}
		done := make(chan T, 1)
		started := make(chan struct{})
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			var v T
			close(started)
			_ = safely(func() (err error) { v, err = w.WaitForNext(ctx); return err })
			done <- v
		}()
		<-started // the settle counts from the call, however late it is scheduled
		time.Sleep(c.settle)
		want := sample(2)
		if _, ok := setWithin(t, c, e, want); !ok {
			return
		}
		select {
		case v := <-done:
			if !same(v, want) {
				t.Errorf("expected WaitForNext to return the next value %v, got %v", want, v)
			}
		case <-time.After(2 * c.timeout):
			t.Errorf("expected WaitForNext to return the next value %v, it did not return within %v", want, 2*c.timeout)
			_, _ = setWithin(t, c, e, want)
		}
	}) && ok
	return ok
}

// getResult is what Get returned.
type getResult[T any] struct {
	v   T
	err error
}

// getWithin calls Get within the suite's bounds.
func getWithin[T any](t testing.TB, c *config, e *adapters.Event[T]) (getResult[T], bool) {
	t.Helper()
	return call(t, c, "Get", func() getResult[T] {
		v, err := e.Get()
		return getResult[T]{v, err}
	})
}

// setWithin calls Set (TrySet) within the suite's bounds.
func setWithin[T any](t testing.TB, c *config, e *adapters.Event[T], v T) (error, bool) {
	t.Helper()
	return call(t, c, "Set", func() error { return e.TrySet(v) })
}
