package adapters_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// Group: an observer that exits the goroutine on OpTaskStart must not make
// Wait hang (the task is never counted done) nor leave Stats().Running at 1.
func TestReviewGroupObserverGoexitOnTaskStart(t *testing.T) {
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	g, err := adapters.NewGroup(nil, adapters.WithObserver(goexitOn(adapters.OpTaskStart)))
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Bool
	g.Go(func(context.Context) error { ran.Store(true); return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	// The task's goroutine ended before it ran: Wait says so (ErrGoexit),
	// at once, not at its deadline.
	werr := g.Wait(ctx)
	if werr != nil && !errors.Is(werr, adapters.ErrGoexit) {
		t.Errorf("Wait: %v (ran %v): the task whose observer exited is never counted done", werr, ran.Load())
	}
	if s := g.Stats(); s.Running != 0 {
		t.Errorf("Stats().Running = %d after the task's goroutine ended, want 0", s.Running)
	}
	if n := g.RunningTasks(); n != 0 {
		t.Errorf("RunningTasks() = %d, want 0", n)
	}
}

// Group: an observer that exits the goroutine on OpTaskEnd.
func TestReviewGroupObserverGoexitOnTaskEnd(t *testing.T) {
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	g, err := adapters.NewGroup(nil, adapters.WithObserver(goexitOn(adapters.OpTaskEnd)))
	if err != nil {
		t.Fatal(err)
	}
	g.Go(func(context.Context) error { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if werr := g.Wait(ctx); werr != nil {
		t.Errorf("Wait: %v", werr)
	}
	if s := g.Stats(); s.Running != 0 {
		t.Errorf("Stats().Running = %d, want 0", s.Running)
	}
}
