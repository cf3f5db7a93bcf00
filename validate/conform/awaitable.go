package conform

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// Awaitable checks that the values make returns are awaitables: the ABC
// check, Await waiting until resolve is called ("waits-until-resolved"), then
// returning ("resolves"; an error result fails unless AllowResultError), and
// a cancelled Await not spoiling the next one ("cancelled-await-then-await"):
// Python's AwaitableMixin, awaited with and without a timeout. Every Await is
// bounded: one that ignores its ctx fails its property, and the suite calls
// resolve to unblock it.
func Awaitable(t testing.TB, make func() (v any, resolve func()), opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	mk := func(t testing.TB) (*adapters.Awaitable[any], func()) {
		t.Helper()
		v, resolve := make()
		a, err := adapters.NewAwaitable[any](v)
		if err != nil {
			resolve()
			t.Errorf("not an awaitable: %+v", err)
			return nil, nil
		}
		return a, resolve
	}
	if !c.property(t, "abc", func(t testing.TB) {
		t.Helper()
		if _, resolve := mk(t); resolve != nil {
			resolve()
		}
	}) {
		return false
	}
	await := func(t testing.TB, a *adapters.Awaitable[any], ctx context.Context, resolve func()) (any, error, bool) {
		type res struct {
			v   any
			err error
		}
		r, returned := within(t, c, "Await", ctx, func() res {
			v, err := a.Await(ctx)
			return res{v, err}
		}, nil)
		if !returned {
			resolve() // unblock it
		}
		return r.v, r.err, returned
	}
	check := func(t testing.TB, a *adapters.Awaitable[any], resolve func()) {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		_, err, returned := await(t, a, ctx, resolve)
		switch {
		case !returned:
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
			t.Errorf("expected Await to return once resolved, it was still waiting after %v", c.timeout)
		case err != nil && !c.allowErr:
			t.Errorf("expected Await to resolve without error, got %v (use AllowResultError if errors are results)", err)
		}
	}
	ok := c.property(t, "waits-until-resolved", func(t testing.TB) {
		t.Helper()
		a, resolve := mk(t)
		if a == nil {
			return
		}
		defer resolve()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if v, err, returned := await(t, a, ctx, resolve); returned && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("expected Await to wait before resolve, it returned %v, %v", v, err)
		}
	})
	ok = c.property(t, "resolves", func(t testing.TB) {
		t.Helper()
		a, resolve := mk(t)
		if a == nil {
			return
		}
		// resolve is the implementation's: its panic fails the property
		// instead of ending the test binary.
		panicked := goRecovered(func() { time.Sleep(5 * time.Millisecond); resolve() })
		check(t, a, resolve)
		select {
		case r := <-panicked:
			if r != nil {
				t.Errorf("resolve panicked: %v", r)
			}
		case <-time.After(c.timeout):
			t.Errorf("resolve did not return within %v", c.timeout)
		}
	}) && ok
	ok = c.property(t, "cancelled-await-then-await", func(t testing.TB) {
		t.Helper()
		a, resolve := mk(t)
		if a == nil {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(5 * time.Millisecond); cancel() }()
		_, _, _ = await(t, a, ctx, resolve)
		resolve()
		check(t, a, resolve)
	}) && ok
	return ok
}

// goRecovered runs fn on a goroutine of its own and delivers what it
// panicked with (nil when it returned) on the returned channel.
func goRecovered(fn func()) <-chan any {
	ch := make(chan any, 1)
	go func() {
		defer func() { ch <- recover() }()
		fn()
	}()
	return ch
}
