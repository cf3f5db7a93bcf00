package conform

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gomixin/mixin/adapters"
)

// Context checks that the values newContext makes are context managers
// yielding T: the ABC check, Enter then Exit succeeding ("enter-exit"), Do
// running its body exactly once with Enter's value and returning the body's
// error unless Exit suppresses it ("do-runs-body-once"), and a panic in the
// body either going on with its own value or being suppressed, never turned
// into another ("panic-in-body"). Each property gets a fresh value, so
// single-use contexts (an *os.File) pass. Every Enter, Exit and Do is
// bounded: one that blocks past the suite's timeout fails its property.
func Context[T any](t testing.TB, newContext func() any, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	mk := func(t testing.TB) *adapters.Context[T] {
		t.Helper()
		x, err := adapters.NewContext[T](newContext())
		if err != nil {
			t.Errorf("not a context manager: %+v", err)
			return nil
		}
		return x
	}
	if !c.property(t, "abc", func(t testing.TB) { t.Helper(); mk(t) }) {
		return false
	}
	return contextProperties(t, c, func(t testing.TB) contextAPI[T] {
		t.Helper()
		if x := mk(t); x != nil {
			return x
		}
		return nil
	})
}

// contextAPI is what the context properties use of a Context or an
// ExecContext.
type contextAPI[T any] interface {
	Enter(context.Context) (T, error)
	Exit(context.Context, error) error
	Do(context.Context, func(context.Context, T) error) error
}

// contextProperties are the properties every context manager has, each call
// bounded by the suite's timeout.
func contextProperties[T any](t testing.TB, c *config, mk func(testing.TB) contextAPI[T]) bool {
	t.Helper()
	ok := c.property(t, "enter-exit", func(t testing.TB) {
		t.Helper()
		x := mk(t)
		if x == nil {
			return
		}
		err, returned := c.bounded(t, "Enter", func(ctx context.Context) error { _, err := x.Enter(ctx); return err })
		if !returned {
			return
		}
		if err != nil {
			t.Errorf("expected Enter to succeed, got %v", err)
			return
		}
		err, returned = c.bounded(t, "Exit", func(ctx context.Context) error { return x.Exit(ctx, nil) })
		switch {
		case returned && errors.Is(err, context.DeadlineExceeded):
			t.Errorf("Exit did not finish within %v: it blocks (an executor-backed proxy returns at its ctx's end while the Exit still runs)", c.timeout)
		case returned && err != nil:
			t.Errorf("expected Exit(nil) after Enter to succeed, got %v", err)
		}
	})
	ok = c.property(t, "do-runs-body-once", func(t testing.TB) {
		t.Helper()
		x := mk(t)
		if x == nil {
			return
		}
		body := errors.New("conform: body error")
		calls := 0
		err, returned := c.bounded(t, "Do", func(ctx context.Context) error {
			return x.Do(ctx, func(context.Context, T) error { calls++; return body })
		})
		if !returned {
			return
		}
		if calls != 1 {
			t.Errorf("expected Do to run its body once, it ran %d times", calls)
		}
		if err != nil && !errors.Is(err, body) {
			t.Errorf("expected Do to return the body's error (or nil, suppressed), got %v", err)
		}
	}) && ok
	ok = c.property(t, "panic-in-body", func(t testing.TB) {
		t.Helper()
		x := mk(t)
		if x == nil {
			return
		}
		type marker struct{}
		var got any
		_, _ = c.bounded(t, "Do", func(ctx context.Context) error {
			defer func() { got = recover() }()
			return x.Do(ctx, func(context.Context, T) error { panic(marker{}) })
		})
		if got != nil && got != (marker{}) {
			t.Errorf("expected a panic in the body to go on with its own value or be suppressed, got panic %v", fmt.Sprint(got))
		}
	}) && ok
	return ok
}
