package mixin_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
)

// Through the Composer: a lock composed by mixin.New(mixin.WithObserver(o))
// whose observer calls runtime.Goexit on OpDo is left held after the Do's
// goroutine ended.
func TestReviewComposerObserverGoexitOnDo(t *testing.T) {
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	o := adapters.ObserverFunc(func(_ context.Context, e adapters.Observation) {
		if e.Op == adapters.OpDo {
			runtime.Goexit()
		}
	})
	c, err := mixin.New(mixin.WithObserver(o)).Compose(&sync.Mutex{})
	if err != nil {
		t.Fatal(err)
	}
	l, ok := c.Lock()
	if !ok {
		t.Fatal("no lock")
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Do(context.Background(), func(context.Context) error { return nil }) }()
	<-done
	if l.Locked() || l.Stats().HeldNow != 0 {
		t.Errorf("composed lock left held: Locked=%v HeldNow=%d", l.Locked(), l.Stats().HeldNow)
	}
}
