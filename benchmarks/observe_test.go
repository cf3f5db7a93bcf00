package benchmarks

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gomixin/mixin/adapters"
)

// atomicObserver records what a metrics backend would, to atomics only: a
// count and a total duration per operation.
type atomicObserver struct {
	n, ns [16]atomic.Int64
}

func (o *atomicObserver) Observe(_ context.Context, e adapters.Observation) {
	o.n[e.Op&15].Add(1)
	o.ns[e.Op&15].Add(int64(e.Duration))
}

// BenchmarkLockObserved is what an observer costs on the contract's
// uncontended acquire+release of a Lock over *sync.Mutex: mixin is the lock
// with an observer that records to atomics; stats the lock keeping only its
// Stats (WithStats); unobserved the lock as BenchmarkLockAcquireRelease has
// it, with no observer.
func BenchmarkLockObserved(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, opts ...adapters.LockOption) {
		l, err := adapters.NewLock(&sync.Mutex{}, opts...)
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
	}
	b.Run("mixin", func(b *testing.B) { run(b, adapters.WithObserver(&atomicObserver{})) })
	b.Run("stats", func(b *testing.B) { run(b, adapters.WithStats()) })
	b.Run("unobserved", func(b *testing.B) { run(b) })
}

// BenchmarkLockDoObserved is the same for Do, whose body is timed too.
func BenchmarkLockDoObserved(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, opts ...adapters.LockOption) {
		l, err := adapters.NewLock(&sync.Mutex{}, opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = l.Do(ctx, work)
		}
	}
	b.Run("mixin", func(b *testing.B) { run(b, adapters.WithObserver(&atomicObserver{})) })
	b.Run("unobserved", func(b *testing.B) { run(b) })
}
