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
// single-use contexts (an *os.File) pass.
func Context[T any](t testing.TB, newContext func() any, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	mk := func(t testing.TB) *adapters.Context[T] {
		x, err := adapters.NewContext[T](newContext())
		if err != nil {
			t.Errorf("not a context manager: %+v", err)
			return nil
		}
		return x
	}
	if !c.property(t, "abc", func(t testing.TB) { mk(t) }) {
		return false
	}
	ctx := context.Background()
	ok := c.property(t, "enter-exit", func(t testing.TB) {
		x := mk(t)
		if x == nil {
			return
		}
		if _, err := x.Enter(ctx); err != nil {
			t.Errorf("expected Enter to succeed, got %v", err)
			return
		}
		if err := x.Exit(ctx, nil); err != nil {
			t.Errorf("expected Exit(nil) after Enter to succeed, got %v", err)
		}
	})
	ok = c.property(t, "do-runs-body-once", func(t testing.TB) {
		x := mk(t)
		if x == nil {
			return
		}
		body := errors.New("conform: body error")
		calls := 0
		err := x.Do(ctx, func(context.Context, T) error { calls++; return body })
		if calls != 1 {
			t.Errorf("expected Do to run its body once, it ran %d times", calls)
		}
		if err != nil && !errors.Is(err, body) {
			t.Errorf("expected Do to return the body's error (or nil, suppressed), got %v", err)
		}
	}) && ok
	ok = c.property(t, "panic-in-body", func(t testing.TB) {
		x := mk(t)
		if x == nil {
			return
		}
		type marker struct{}
		var got any
		func() {
			defer func() { got = recover() }()
			_ = x.Do(ctx, func(context.Context, T) error { panic(marker{}) })
		}()
		if got != nil && got != (marker{}) {
			t.Errorf("expected a panic in the body to go on with its own value or be suppressed, got panic %v", fmt.Sprint(got))
		}
	}) && ok
	return ok
}
