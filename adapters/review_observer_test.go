package adapters_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// goexitOn returns an observer that calls runtime.Goexit on op.
func goexitOn(op adapters.Op) adapters.Observer {
	return adapters.ObserverFunc(func(_ context.Context, e adapters.Observation) {
		if e.Op == op {
			runtime.Goexit()
		}
	})
}

// runGoroutine runs fn on its own goroutine and waits for it to end.
func runGoroutine(fn func()) {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	<-done
}

// An observer that calls runtime.Goexit on OpDo (only) must not leave the
// lock held: the promise "an observer never changes what a proxy does".
func TestReviewObserverGoexitOnDoLeavesLockHeld(t *testing.T) {
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	mu := &sync.Mutex{}
	l, err := adapters.NewLock(mu, adapters.WithObserver(goexitOn(adapters.OpDo)))
	if err != nil {
		t.Fatal(err)
	}
	runGoroutine(func() { _ = l.Do(context.Background(), func(context.Context) error { return nil }) })
	if l.Locked() {
		t.Errorf("lock left held after an OpDo observer called runtime.Goexit")
	}
	if s := l.Stats(); s.HeldNow != 0 {
		t.Errorf("Stats().HeldNow = %d after the Do ended, want 0", s.HeldNow)
	}
	if mu.TryLock() {
		mu.Unlock()
	} else {
		t.Errorf("the sync.Mutex itself is still locked")
	}
}

// An observer that calls runtime.Goexit on OpWait must not leave
// Stats().WaitingNow counting a caller that is gone.
func TestReviewObserverGoexitOnWaitLeaksWaitingNow(t *testing.T) {
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	mu := &sync.Mutex{}
	l, err := adapters.NewLock(mu, adapters.WithObserver(goexitOn(adapters.OpWait)))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock() // held outside, so Acquire waits
	runGoroutine(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, _ = l.Acquire(ctx)
	})
	mu.Unlock()
	time.Sleep(10 * time.Millisecond)
	if s := l.Stats(); s.WaitingNow != 0 || s.HeldNow != 0 {
		t.Errorf("after the caller is gone: WaitingNow=%d HeldNow=%d, want 0 0", s.WaitingNow, s.HeldNow)
	}
	if l.Locked() {
		t.Errorf("lock held")
	}
}
