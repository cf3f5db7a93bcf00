package benchmarks

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// wakeRound sets up one round of n waiters (untimed) and returns the wake-up
// to time: it wakes them all and returns once every one has returned.
type wakeRound func(n int) (wake func())

// BenchmarkEventWake measures one Set waking N blocked waiters, against
// closing a channel that N goroutines wait on. Each round starts the N
// goroutines and waits until they have started (untimed), then times the
// wake-up and the join by hand. The waiters use Wait, which, like a receive
// from a closed channel, returns at once for a goroutine that arrives after
// the Set.
//
// A round's setup costs far more than its timed part, so the rounds are
// capped and the framework's timer stays stopped: its usual ramp would run
// hundreds of thousands of setups, for minutes. ns/op is the mean timed
// wake-up of a round, reported with ReportMetric; Set makes one allocation
// (the box of the value), shown by BenchmarkEventSet.
func BenchmarkEventWake(b *testing.B) {
	event := func(n int) func() {
		e := adapters.NewValueEvent[int]()
		done := start(n, func() { _, _ = e.Wait(context.Background()) })
		return func() { e.Set(1); done.Wait() }
	}
	channel := func(n int) func() {
		ch := make(chan struct{})
		done := start(n, func() { <-ch })
		return func() { close(ch); done.Wait() }
	}
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			b.Run("mixin", func(b *testing.B) { rounds(b, n, event) })
			b.Run("chan", func(b *testing.B) { rounds(b, n, channel) })
		})
	}
}

// start starts n goroutines running wait, returns once all have started, and
// gives a WaitGroup that is done when all have returned.
func start(n int, wait func()) *sync.WaitGroup {
	var ready sync.WaitGroup
	done := &sync.WaitGroup{}
	ready.Add(n)
	done.Add(n)
	for range n {
		go func() {
			ready.Done()
			wait()
			done.Done()
		}()
	}
	ready.Wait()
	return done
}

func rounds(b *testing.B, n int, round wakeRound) {
	b.StopTimer()
	limit := 2000
	if n >= 10000 {
		limit = 30
	} else if n >= 100 {
		limit = 300
	}
	count := min(b.N, limit)
	var total time.Duration
	for range count {
		wake := round(n)
		t0 := time.Now()
		wake()
		total += time.Since(t0)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(count), "ns/op")
}

func BenchmarkEventSet(b *testing.B) {
	b.Run("mixin", func(b *testing.B) {
		e := adapters.NewValueEvent[int]()
		b.ReportAllocs()
		for b.Loop() {
			e.Set(1)
		}
	})
	b.Run("atomic", func(b *testing.B) {
		var p atomic.Pointer[int]
		b.ReportAllocs()
		for b.Loop() {
			v := 1
			p.Store(&v)
		}
	})
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
