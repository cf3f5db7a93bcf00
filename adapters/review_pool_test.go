package adapters_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// Pool: an observer that exits the Submit caller's goroutine on OpQueue
// (reported after the place was taken) must not keep the place forever:
// a pool of one place then never runs anything again, and Stats().Running
// stays 1.
func TestReviewPoolObserverGoexitOnQueueLeaksPlace(t *testing.T) {
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	var armed = true
	obs := adapters.ObserverFunc(func(_ context.Context, e adapters.Observation) {
		if e.Op == adapters.OpQueue && armed {
			armed = false
			runtime.Goexit()
		}
	})
	p := adapters.NewPool(adapters.WithSize(1), adapters.WithObserver(obs))
	defer p.Close()
	runGoroutine(func() { _ = p.Submit(context.Background(), func() {}) })
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := p.Wait(wctx); err != nil {
		t.Fatalf("Wait for the first function: %v", err)
	}
	if s := p.Stats(); s.Running != 0 {
		t.Errorf("Stats().Running = %d after the submitter's goroutine ended, want 0", s.Running)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ran := make(chan struct{})
	if err := p.Submit(ctx, func() { close(ran) }); err != nil {
		t.Fatalf("the next Submit on a pool of one place: %v (the place is never freed)", err)
	}
	<-ran
	if err := p.Wait(ctx); err != nil {
		t.Errorf("Wait: %v", err)
	}
}
