package adapters_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/gomixin/mixin/adapters"
)

// countingCtx is a context-manager value counting Enter and Exit.
type countingCtx struct{ entered, exited atomic.Int32 }

func (c *countingCtx) Enter() (int, error) { c.entered.Add(1); return 1, nil }
func (c *countingCtx) Exit(error) bool     { c.exited.Add(1); return false }

func reviewContextGoexit(t *testing.T, op adapters.Op, body func(context.Context, int) error) {
	t.Helper()
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	v := &countingCtx{}
	c, err := adapters.NewContext[int](v, adapters.WithObserver(goexitOn(op)))
	if err != nil {
		t.Fatal(err)
	}
	runGoroutine(func() { _ = c.Do(context.Background(), body) })
	if e, x := v.entered.Load(), v.exited.Load(); e != x {
		t.Errorf("observer Goexit on %v: Enter called %d times, Exit %d: the context is left entered", op, e, x)
	}
}

// Context.Do: an OpDo observer that exits the goroutine after a body that
// returned must not skip the value's Exit.
func TestReviewContextDoObserverGoexitOnDo(t *testing.T) {
	reviewContextGoexit(t, adapters.OpDo, func(context.Context, int) error { return nil })
}

// Context.Do: a body that panics, then an OpDo observer that exits the
// goroutine: Exit must still run (doorDoBody's promise: "the context exited").
func TestReviewContextDoPanicObserverGoexitOnDo(t *testing.T) {
	reviewContextGoexit(t, adapters.OpDo, func(context.Context, int) error { panic(errors.New("body")) })
}

// Context.Do: an OpEnter observer that exits the goroutine right after the
// Enter: Do never reaches its body nor Exit; the Enter nobody received
// must be undone (as a Lock's hold is after an OpAcquire observer's Goexit).
func TestReviewContextDoObserverGoexitOnEnter(t *testing.T) {
	reviewContextGoexit(t, adapters.OpEnter, func(context.Context, int) error { return nil })
}
