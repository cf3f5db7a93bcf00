package conform

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// ExecContext checks that the values newContext makes are context managers
// whose blocking Enter and Exit may run on an executor (Python's
// ExecutorRequiredAsyncContextMixin): the ABC check, Enter then Exit on the
// executor ("enter-exit"), Do running its body once between them and
// returning its error unless Exit suppresses it ("do-runs-body-once"), a
// panic in the body going on with its own value or suppressed
// ("panic-in-body"), the runner running work and re-raising its panic
// ("runner"), and several values entered and exited at once from the
// executor's goroutines ("concurrent-use"). The suite runs them on a Pool of
// its own; every Enter, Exit and Do is bounded, so one that blocks past the
// suite's timeout fails its property instead of hanging.
func ExecContext[T any](t testing.TB, newContext func() any, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	pool := adapters.NewPool(adapters.WithSize(4))
	defer pool.Close()
	mk := func(t testing.TB) *adapters.ExecContext[T] {
		t.Helper()
		x, err := adapters.NewExecContext[T](newContext(), adapters.WithExecutor(pool))
		if err != nil {
			t.Errorf("not an exec-context: %+v", err)
			return nil
		}
		return x
	}
	if !c.property(t, "abc", func(t testing.TB) { t.Helper(); mk(t) }) {
		return false
	}
	ok := contextProperties(t, c, func(t testing.TB) contextAPI[T] {
		t.Helper()
		if x := mk(t); x != nil {
			return x
		}
		return nil
	})
	ok = c.property(t, "runner", func(t testing.TB) {
		t.Helper()
		x := mk(t)
		if x == nil {
			return
		}
		ran := false
		if err, returned := c.bounded(t, "Runner", func(ctx context.Context) error {
			return x.Runner()(ctx, func() { ran = true })
		}); returned && (err != nil || !ran) {
			t.Errorf("expected the runner to run the work and wait for it, got %v (ran: %v)", err, ran)
		}
		var got any
		_, _ = c.bounded(t, "Runner", func(ctx context.Context) error {
			defer func() { got = recover() }()
			return x.Runner()(ctx, func() { panic("conform: work broke") })
		})
		if pe, isPE := got.(*adapters.PanicError); !isPE || pe.Value != "conform: work broke" {
			t.Errorf("expected the runner to re-raise the work's panic, got %v", fmt.Sprint(got))
		}
	}) && ok
	ok = c.property(t, "concurrent-use", func(t testing.TB) {
		t.Helper()
		var wg sync.WaitGroup
		var calls fold
		ctx, cancel := context.WithTimeout(context.Background(), 2*c.timeout)
		defer cancel()
		for range c.waiters {
			x := mk(t)
			if x == nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				calls.add(safely(func() error {
					return x.Do(ctx, func(context.Context, T) error { time.Sleep(time.Millisecond); return nil })
				}))
			}()
		}
		waitAll(t, c, &wg, ctx, "Do", nil)
		calls.report(t, "Do calls on the executor")
	}) && ok
	wctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := pool.Wait(wctx); err != nil {
		t.Errorf("Enter or Exit still running on the suite's executor %v after the last property: %v", c.timeout, err)
	}
	return ok
}
