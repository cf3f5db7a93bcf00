package benchmarks

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/sync/semaphore"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
)

// BenchmarkComposeMethods composes types with more and more methods: a
// seen type costs the same whatever its size; the first sight (a fresh
// Registry, so no plan is cached) grows with the method count.
func BenchmarkComposeMethods(b *testing.B) {
	values := []struct {
		n int
		v func() any
	}{
		{4, func() any { return &wide4{} }},
		{16, func() any { return &wide16{} }},
		{64, func() any { return &wide64{} }},
	}
	for _, tt := range values {
		b.Run(fmt.Sprintf("N=%d", tt.n), func(b *testing.B) {
			b.Run("seen", func(b *testing.B) {
				c := mixin.New()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Compose(tt.v()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("fresh-registry", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := mixin.New().Compose(tt.v()); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkOwnerMutexContended runs acquire+release from N goroutines.
func BenchmarkOwnerMutexContended(b *testing.B) {
	for _, n := range []int{2, 8, 32} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			run := func(b *testing.B, body func(ctx context.Context)) {
				b.ReportAllocs()
				per := b.N/n + 1
				b.ResetTimer()
				var wg sync.WaitGroup
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ctx := adapters.WithTask(context.Background())
						for range per {
							body(ctx)
						}
					}()
				}
				wg.Wait()
			}
			b.Run("mixin", func(b *testing.B) {
				m := adapters.NewOwnerMutex()
				run(b, func(ctx context.Context) { _, _ = m.Acquire(ctx); sink++; _ = m.ReleaseUnchecked(ctx) })
			})
			b.Run("mutex", func(b *testing.B) {
				var mu sync.Mutex
				run(b, func(context.Context) { mu.Lock(); sink++; mu.Unlock() })
			})
			b.Run("semaphore", func(b *testing.B) {
				s := semaphore.NewWeighted(1)
				run(b, func(ctx context.Context) { _ = s.Acquire(ctx, 1); sink++; s.Release(1) })
			})
		})
	}
}
