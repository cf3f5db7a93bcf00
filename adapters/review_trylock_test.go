package adapters_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

type reviewOnceTry struct {
	sync.Mutex
	arm atomic.Bool
}

func (m *reviewOnceTry) TryLock() bool {
	if m.arm.CompareAndSwap(true, false) {
		panic("TryLock broke")
	}
	return m.Mutex.TryLock()
}

// A queued TryLock that panics once: the caller it was made for gets the
// panic, the next queued caller acquires, and the figures end at zero.
func TestReviewQueuedTryLockPanicsOnce(t *testing.T) {
	for _, observed := range []bool{false, true} {
		v := &reviewOnceTry{}
		var opts []adapters.LockOption
		if observed {
			opts = append(opts, adapters.WithStats())
		}
		l, err := adapters.NewLock(v, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if ok, err := l.Acquire(ctx); !ok || err != nil {
			t.Fatal(ok, err)
		}
		var wg sync.WaitGroup
		var got, panicked atomic.Int32
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if recover() != nil {
						panicked.Add(1)
					}
				}()
				wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				if ok, err := l.Acquire(wctx); ok && err == nil {
					got.Add(1)
					time.Sleep(time.Millisecond)
					_ = l.Release(ctx)
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		v.arm.Store(true)
		_ = l.Release(ctx)
		wg.Wait()
		if got.Load()+panicked.Load() != 3 || panicked.Load() > 1 {
			t.Errorf("observed=%v: acquired %d, panicked %d of 3", observed, got.Load(), panicked.Load())
		}
		if l.Locked() {
			t.Errorf("observed=%v: left held", observed)
		}
		s := l.Stats()
		if s.HeldNow != 0 || s.WaitingNow != 0 {
			t.Errorf("observed=%v: HeldNow=%d WaitingNow=%d", observed, s.HeldNow, s.WaitingNow)
		}
	}
}
