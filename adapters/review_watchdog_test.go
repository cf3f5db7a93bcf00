package adapters_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gomixin/mixin/adapters"
)

// Watchdog.Check marks every long hold as reported before it tells anyone:
// a report callback that panics for the first hold loses the report of the
// second one for good (a later Check finds it already reported).
func TestReviewWatchdogReportPanicLosesOtherHolds(t *testing.T) {
	var calls atomic.Int32
	w := adapters.NewWatchdog(0, func(adapters.Hold) {
		if calls.Add(1) == 1 {
			panic("report broke")
		}
	})
	ctx := context.Background()
	var locks []*adapters.Lock
	for range 2 {
		l, err := w.Watch(&sync.Mutex{})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := l.Acquire(ctx); !ok || err != nil {
			t.Fatal(ok, err)
		}
		locks = append(locks, l)
	}
	func() {
		defer func() { _ = recover() }()
		w.Check()
	}()
	w.Check()
	if n := calls.Load(); n != 2 {
		t.Errorf("report called %d times for 2 long holds (the first call panicked): a hold's report is lost", n)
	}
	for _, l := range locks {
		_ = l.Release(ctx)
	}
}

// The same with a Watchdog observer that calls runtime.Goexit on
// OpLongHold: the report callback is never called, for either hold, and a
// later Check does not report them either.
func TestReviewWatchdogObserverGoexitLosesReports(t *testing.T) {
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	var calls atomic.Int32
	var armed atomic.Bool
	armed.Store(true)
	o := adapters.ObserverFunc(func(_ context.Context, e adapters.Observation) {
		if e.Op == adapters.OpLongHold && armed.CompareAndSwap(true, false) {
			runtime.Goexit()
		}
	})
	w := adapters.NewWatchdog(0, func(adapters.Hold) { calls.Add(1) }, adapters.WithObserver(o))
	ctx := context.Background()
	l, err := w.Watch(&sync.Mutex{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := l.Acquire(ctx); !ok || err != nil {
		t.Fatal(ok, err)
	}
	runGoroutine(func() { w.Check() })
	w.Check()
	if n := calls.Load(); n != 1 {
		t.Errorf("report called %d times for 1 long hold", n)
	}
	_ = l.Release(ctx)
}
