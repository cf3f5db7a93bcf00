package benchmarks

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gomixin/mixin/adapters"
)

// BenchmarkEventWake measures one Set waking N blocked waiters, against
// closing a channel that N goroutines wait on. Each iteration starts the N
// goroutines, waits until they have started, then times the wake-up and the
// join. The waiters use Wait, which, like a receive from a closed channel,
// returns at once for a goroutine that arrives after the Set.
func BenchmarkEventWake(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			b.Run("mixin", func(b *testing.B) {
				b.ReportAllocs()
				ctx := context.Background()
				for b.Loop() {
					b.StopTimer()
					e := adapters.NewValueEvent[int]()
					var ready, done sync.WaitGroup
					ready.Add(n)
					done.Add(n)
					for range n {
						go func() {
							ready.Done()
							_, _ = e.Wait(ctx)
							done.Done()
						}()
					}
					ready.Wait()
					b.StartTimer()
					e.Set(1)
					done.Wait()
				}
			})
			b.Run("chan", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					ch := make(chan struct{})
					var ready, done sync.WaitGroup
					ready.Add(n)
					done.Add(n)
					for range n {
						go func() {
							ready.Done()
							<-ch
							done.Done()
						}()
					}
					ready.Wait()
					b.StartTimer()
					close(ch)
					done.Wait()
				}
			})
		})
	}
}

func BenchmarkEventGet(b *testing.B) {
	b.Run("mixin", func(b *testing.B) {
		e := adapters.NewValueEvent[int]()
		e.Set(1)
		b.ReportAllocs()
		for b.Loop() {
			v, _ := e.Get()
			sink += v
		}
	})
	b.Run("mixin-proxy", func(b *testing.B) {
		ev, err := adapters.NewEvent[int](adapters.NewValueEvent[int]())
		if err != nil {
			b.Fatal(err)
		}
		ev.Set(1)
		b.ReportAllocs()
		for b.Loop() {
			v, _ := ev.Get()
			sink += v
		}
	})
	b.Run("atomic", func(b *testing.B) {
		var p atomic.Pointer[int]
		one := 1
		p.Store(&one)
		b.ReportAllocs()
		for b.Loop() {
			sink += *p.Load()
		}
	})
}
