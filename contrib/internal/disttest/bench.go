package disttest

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomixin/mixin"
)

// BenchDo measures one uncontended Do (acquire, an empty body, release)
// through the Composer's proxy over the engine's handle, beside the same
// round trips made by hand with the engine's own client: byHand maps a
// name to one such acquisition. All run in the one benchmark, so that one
// run compares them.
func BenchDo(b *testing.B, e Engine, byHand map[string]func(ctx context.Context, name string) error) {
	ctx := context.Background()
	b.Run("mixin-proxy", func(b *testing.B) {
		c, err := mixin.Compose(e.NewLock(b, e.Addr, Unique(b), 0, 0))
		if err != nil {
			b.Fatal(err)
		}
		l, _ := c.Lock()
		body := func(context.Context) error { return nil }
		for b.Loop() {
			if err := l.Do(ctx, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, f := range byHand {
		b.Run(name, func(b *testing.B) {
			key := Unique(b)
			for b.Loop() {
				if err := f(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchContended measures acquisitions of one lock by 2, 8 and 32 handles,
// each on a client of its own, all trying at once: ns/op is the time per
// acquisition of the lock, whoever made it. Beside it, each run reports the
// hand-over latency (from a holder's call of Release to the next
// acquisition's return, median and p99, in µs) and the spread of holds
// among the handles: the least served handle's holds over the median's
// ("least/median"; 1 is even, 0 a handle starved).
func BenchContended(b *testing.B, e Engine) {
	for _, n := range []int{2, 8, 32} {
		b.Run("handles-"+strconv.Itoa(n), func(b *testing.B) {
			name := Unique(b)
			contend(b, n, func() Lock { return e.NewLock(b, e.Addr, name, 0, 0) })
		})
	}
}

// BenchSemaphore is BenchContended over a semaphore of permits permits,
// taken by 8 and 32 handles; the hand-over latency is from a Release to the
// next acquisition, whoever's permit it took.
func BenchSemaphore(b *testing.B, e Engine, permits int) {
	if e.NewSemaphore == nil {
		b.Skip("this engine has no semaphore")
	}
	for _, n := range []int{8, 32} {
		b.Run("permits-"+strconv.Itoa(permits)+"/handles-"+strconv.Itoa(n), func(b *testing.B) {
			name := Unique(b)
			contend(b, n, func() Lock { return e.NewSemaphore(b, e.Addr, name, permits, 0, 0) })
		})
	}
}

// contend runs b.N acquisitions spread over n handles made by mk, all
// trying at once, and reports the hand-over latency and the spread.
func contend(b *testing.B, n int, mk func() Lock) {
	handles := make([]Lock, n)
	for i := range handles {
		handles[i] = mk()
	}
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	var released atomic.Int64 // unix ns of the latest call of Release; 0 once an acquisition took it
	holds := make([]int, n)
	waits := make([][]time.Duration, n)
	var wg sync.WaitGroup
	b.ResetTimer()
	for i, h := range handles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if _, err := h.Acquire(ctx); err != nil {
					b.Error(err)
					return
				}
				now := time.Now().UnixNano()
				if r := released.Swap(0); r != 0 {
					waits[i] = append(waits[i], time.Duration(now-r))
				}
				holds[i]++
				released.Store(time.Now().UnixNano())
				if err := h.Release(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	var all []time.Duration
	for _, w := range waits {
		all = append(all, w...)
	}
	if len(all) > 0 {
		slices.Sort(all)
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "handover-p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "handover-p99-µs")
	}
	sorted := slices.Clone(holds)
	slices.Sort(sorted)
	if med := sorted[n/2]; med > 0 {
		b.ReportMetric(float64(sorted[0])/float64(med), "least/median")
	}
}
