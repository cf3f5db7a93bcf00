package benchmarks

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/sourcegraph/conc"
	"golang.org/x/sync/errgroup"

	"github.com/gomixin/mixin/adapters"
)

func trivial(context.Context) error { return nil }

// BenchmarkGroup spawns N trivial tasks and waits for them.
func BenchmarkGroup(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			ctx := context.Background()
			b.Run("mixin", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					g, _ := adapters.NewGroup(nil)
					_ = g.Enter(ctx)
					for range n {
						g.Go(trivial)
					}
					_ = g.Wait(ctx)
				}
			})
			b.Run("errgroup", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					g, gctx := errgroup.WithContext(ctx)
					for range n {
						g.Go(func() error { return trivial(gctx) })
					}
					_ = g.Wait()
				}
			})
			b.Run("conc", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var wg conc.WaitGroup
					for range n {
						wg.Go(func() { _ = trivial(ctx) })
					}
					wg.Wait()
				}
			})
		})
	}
}

// BenchmarkPoolSubmit runs N trivial functions through a Pool and through
// bare go statements.
func BenchmarkPoolSubmit(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	b.Run("mixin", func(b *testing.B) {
		p := adapters.NewPool(adapters.WithSize(64))
		defer p.Close()
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(n)
			for range n {
				_ = p.Submit(ctx, wg.Done)
			}
			wg.Wait()
		}
	})
	b.Run("go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(n)
			for range n {
				go wg.Done()
			}
			wg.Wait()
		}
	})
}
