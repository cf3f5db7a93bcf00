package disttest

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

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
// acquisition of the lock, whoever made it.
func BenchContended(b *testing.B, e Engine) {
	for _, n := range []int{2, 8, 32} {
		b.Run("handles-"+strconv.Itoa(n), func(b *testing.B) {
			name := Unique(b)
			handles := make([]Lock, n)
			for i := range handles {
				handles[i] = e.NewLock(b, e.Addr, name, 0, 0)
			}
			ctx := context.Background()
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			b.ResetTimer()
			for _, h := range handles {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						if _, err := h.Acquire(ctx); err != nil {
							b.Error(err)
							return
						}
						if err := h.Release(ctx); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
