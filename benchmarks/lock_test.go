// Package benchmarks compares the library against the direct calls it wraps
// and against the peers a Go user would otherwise pick, side by side in one
// run. It is a module of its own so that the peers never become the
// library's dependencies.
package benchmarks

import (
	"context"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sync/semaphore"

	"github.com/gomixin/mixin/adapters"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var sink int

func work(context.Context) error { sink++; return nil }

// reflectLock is what a naive dynamic proxy costs: every call through
// reflect.Value.Call.
type reflectLock struct{ lock, unlock reflect.Value }

func newReflectLock(v any) reflectLock {
	rv := reflect.ValueOf(v)
	return reflectLock{lock: rv.MethodByName("Lock"), unlock: rv.MethodByName("Unlock")}
}

func (r reflectLock) Do(ctx context.Context, fn func(context.Context) error) error {
	r.lock.Call(nil)
	defer r.unlock.Call(nil)
	return fn(ctx)
}

// directDo is the same work written by hand: Lock, defer Unlock, call fn.
func directDo(l sync.Locker, ctx context.Context, fn func(context.Context) error) error {
	l.Lock()
	defer l.Unlock()
	return fn(ctx)
}

func BenchmarkLockDo(b *testing.B) {
	ctx := context.Background()
	b.Run("mixin", func(b *testing.B) {
		l, err := adapters.NewLock(&sync.Mutex{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = l.Do(ctx, work)
		}
	})
	b.Run("direct", func(b *testing.B) {
		mu := through[sync.Locker](&sync.Mutex{})
		b.ReportAllocs()
		for b.Loop() {
			_ = directDo(mu, ctx, work)
		}
	})
	b.Run("direct-static", func(b *testing.B) {
		var mu sync.Locker = &sync.Mutex{} // the compiler sees through this
		b.ReportAllocs()
		for b.Loop() {
			_ = directDo(mu, ctx, work)
		}
	})
	b.Run("reflect-call", func(b *testing.B) {
		r := newReflectLock(&sync.Mutex{})
		b.ReportAllocs()
		for b.Loop() {
			_ = r.Do(ctx, work)
		}
	})
	b.Run("semaphore", func(b *testing.B) {
		s := semaphore.NewWeighted(1)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Fatal(err)
			}
			_ = work(ctx)
			s.Release(1)
		}
	})
}

func BenchmarkOwnerMutex(b *testing.B) {
	for _, contended := range []bool{false, true} {
		name := "uncontended"
		if contended {
			name = "contended-8"
		}
		b.Run(name, func(b *testing.B) {
			run := func(b *testing.B, body func(ctx context.Context)) {
				b.ReportAllocs()
				if !contended {
					ctx := adapters.WithTask(context.Background())
					for b.Loop() {
						body(ctx)
					}
					return
				}
				b.SetParallelism(4) // 2 cores x 4 = 8 goroutines
				b.RunParallel(func(pb *testing.PB) {
					ctx := adapters.WithTask(context.Background())
					for pb.Next() {
						body(ctx)
					}
				})
			}
			b.Run("mixin", func(b *testing.B) {
				m := adapters.NewOwnerMutex()
				run(b, func(ctx context.Context) {
					if ok, err := m.Acquire(ctx); !ok || err != nil {
						panic(err)
					}
					sink++
					_ = m.ReleaseUnchecked(ctx)
				})
			})
			b.Run("mixin-proxy", func(b *testing.B) {
				o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
				if err != nil {
					b.Fatal(err)
				}
				run(b, func(ctx context.Context) {
					if ok, err := o.Acquire(ctx); !ok || err != nil {
						panic(err)
					}
					sink++
					_ = o.Release(ctx)
				})
			})
			b.Run("mutex", func(b *testing.B) {
				var mu sync.Mutex
				run(b, func(context.Context) { mu.Lock(); sink++; mu.Unlock() })
			})
			b.Run("semaphore", func(b *testing.B) {
				s := semaphore.NewWeighted(1)
				run(b, func(ctx context.Context) {
					if err := s.Acquire(ctx, 1); err != nil {
						panic(err)
					}
					sink++
					s.Release(1)
				})
			})
		})
	}
}

// canonical is a lock in the canonical shapes, over a sync.Mutex: the proxy
// needs no held-state tracking for it (its Locked answers).
type canonical struct {
	mu   sync.Mutex
	held bool
}

func (c *canonical) Acquire(context.Context) (bool, error) {
	c.mu.Lock()
	c.held = true
	return true, nil
}
func (c *canonical) Release(context.Context) error { c.held = false; c.mu.Unlock(); return nil }
func (c *canonical) Locked() bool                  { return c.held }

// BenchmarkLockDoCanonical is Lock.Do over the canonical shapes, where the
// proxy adds no atomic operations of its own.
func BenchmarkLockDoCanonical(b *testing.B) {
	ctx := context.Background()
	b.Run("mixin", func(b *testing.B) {
		l, err := adapters.NewLock(&canonical{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = l.Do(ctx, work)
		}
	})
	b.Run("direct", func(b *testing.B) {
		c := through[interface {
			Acquire(context.Context) (bool, error)
			Release(context.Context) error
		}](&canonical{})
		b.ReportAllocs()
		for b.Loop() {
			func() error {
				if ok, err := c.Acquire(ctx); !ok || err != nil {
					return err
				}
				defer func() { _ = c.Release(ctx) }()
				return work(ctx)
			}()
		}
	})
}

// BenchmarkLockAcquireRelease is the contract's uncontended acquire+release
// of a Lock over *sync.Mutex, beside the bare mutex and semaphore.Weighted(1).
func BenchmarkLockAcquireRelease(b *testing.B) {
	ctx := context.Background()
	b.Run("mixin", func(b *testing.B) {
		l, err := adapters.NewLock(&sync.Mutex{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := l.Acquire(ctx); !ok || err != nil {
				b.Fatal(err)
			}
			sink++
			_ = l.Release(ctx)
		}
	})
	b.Run("direct", func(b *testing.B) {
		mu := through[sync.Locker](&sync.Mutex{})
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			sink++
			mu.Unlock()
		}
	})
	b.Run("semaphore", func(b *testing.B) {
		s := semaphore.NewWeighted(1)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Fatal(err)
			}
			sink++
			s.Release(1)
		}
	})
}

// BenchmarkLockContended is Lock.Do over a *sync.Mutex with 8 goroutines
// contending, each holding the lock for 2µs, each with a ctx that can end (a
// deadline far off): the case where the proxy cannot simply block in Lock. Besides ns/op it reports the
// 99th percentile and the longest of the waits for the lock (p99-wait-us,
// max-wait-us) and fairness: the
// fewest holds any goroutine got over the most any got (1 is fair, 0 is a
// goroutine starved).
func BenchmarkLockContended(b *testing.B) {
	const hold = 2 * time.Microsecond
	run := func(b *testing.B, do func(ctx context.Context, fn func(context.Context) error) error) {
		const goroutines = 8
		var (
			mu     sync.Mutex
			waits  []time.Duration
			counts []int
		)
		b.SetParallelism(goroutines / min(goroutines, runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			var mine []time.Duration
			n := 0
			for pb.Next() {
				start := time.Now()
				_ = do(ctx, func(context.Context) error {
					mine = append(mine, time.Since(start))
					for held := time.Now(); time.Since(held) < hold; {
						sink++
					}
					return nil
				})
				n++
			}
			mu.Lock()
			waits = append(waits, mine...)
			counts = append(counts, n)
			mu.Unlock()
		})
		b.StopTimer()
		slices.Sort(waits)
		if len(waits) > 0 {
			b.ReportMetric(float64(waits[len(waits)*99/100].Nanoseconds())/1e3, "p99-wait-us")
			b.ReportMetric(float64(waits[len(waits)-1].Nanoseconds())/1e3, "max-wait-us")
		}
		if lo, hi := slices.Min(counts), slices.Max(counts); hi > 0 {
			b.ReportMetric(float64(lo)/float64(hi), "fairness")
		}
	}
	b.Run("mixin", func(b *testing.B) {
		l, err := adapters.NewLock(&sync.Mutex{})
		if err != nil {
			b.Fatal(err)
		}
		run(b, l.Do)
	})
	b.Run("mutex", func(b *testing.B) {
		mu := through[sync.Locker](&sync.Mutex{})
		run(b, func(ctx context.Context, fn func(context.Context) error) error { return directDo(mu, ctx, fn) })
	})
	b.Run("semaphore", func(b *testing.B) {
		s := semaphore.NewWeighted(1)
		run(b, func(ctx context.Context, fn func(context.Context) error) error {
			if err := s.Acquire(ctx, 1); err != nil {
				return err
			}
			defer s.Release(1)
			return fn(ctx)
		})
	})
}
