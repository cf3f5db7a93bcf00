package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/stresstest"
)

// The stress suite: go test -run Stress -race ./...
//
// Each test drives one kind's proxy from many goroutines for a while (2s by
// default, MIXIN_STRESS=10m for longer), with random ctx deadlines and
// cancellations and with panics and errors injected into the user methods
// being wrapped, then checks the invariants and that no goroutine leaked.

func stressFor(t *testing.T) time.Duration { return stresstest.Duration(t) }

// stats counts what a stress run did, for its log line and the README.
type stats struct {
	ops, cancels, panics, errs atomic.Int64
}

func (s *stats) log(t *testing.T, what string, d time.Duration) {
	t.Logf("%s: %d operations in %v, %d ended by ctx, %d panics and %d errors injected; invariants held, no goroutine leaked",
		what, s.ops.Load(), d, s.cancels.Load(), s.panics.Load(), s.errs.Load())
}

// randomCtx returns a ctx that ends at a random moment soon, or never (a
// Background ctx, which takes the proxies' inline paths).
func randomCtx(r *rand.Rand) (context.Context, context.CancelFunc) {
	base := adapters.WithTask(context.Background())
	switch r.IntN(5) {
	case 0:
		return base, func() {}
	case 1:
		return context.WithCancel(base)
	case 2:
		ctx, cancel := context.WithCancel(base)
		cancel()
		return ctx, cancel
	default:
		return endingCtx(r)
	}
}

// endingCtx returns a ctx that surely ends within 2ms, for waits that nobody
// may ever satisfy.
func endingCtx(r *rand.Rand) (context.Context, context.CancelFunc) {
	return context.WithTimeout(adapters.WithTask(context.Background()), time.Duration(r.IntN(2000))*time.Microsecond)
}

// run drives body from workers goroutines until d has passed.
func run(t *testing.T, workers int, d time.Duration, body func(r *rand.Rand)) {
	t.Helper()
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for time.Now().Before(deadline) {
				body(r)
			}
		}()
	}
	wg.Wait()
}

var errInjected = errors.New("injected")

// recoverInjected, deferred, stops a panic whose value is one of those the
// test injected, and lets any other go on.
func recoverInjected(injected ...any) {
	if p := recover(); p != nil && !slices.Contains(injected, p) {
		panic(p)
	}
}

// faultyLock is a canonical lock over a mutex whose Acquire sometimes fails
// with an error and whose Release sometimes panics after releasing: the
// proxy must still never let two holders in, and never leave it held.
type faultyLock struct {
	mu      sync.Mutex
	holders atomic.Int32
	worst   atomic.Int32
	st      *stats
}

func (l *faultyLock) Acquire(ctx context.Context) (bool, error) {
	if rand.IntN(20) == 0 {
		l.st.errs.Add(1)
		return false, errInjected
	}
	done := make(chan struct{})
	go func() { l.mu.Lock(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		go func() { <-done; l.mu.Unlock() }() // give back a late acquisition
		return false, ctx.Err()
	}
	if n := l.holders.Add(1); n > l.worst.Load() {
		l.worst.Store(n)
	}
	return true, nil
}

func (l *faultyLock) Release(context.Context) error {
	l.holders.Add(-1)
	l.mu.Unlock()
	if rand.IntN(30) == 0 {
		l.st.panics.Add(1)
		panic("release broke")
	}
	return nil
}

func (l *faultyLock) Locked() bool { return l.holders.Load() > 0 }

func TestStressLock(t *testing.T) {
	d := stressFor(t)
	for _, tt := range []struct {
		name string
		v    func(st *stats) any
	}{
		{"sync.Mutex", func(*stats) any { return &sync.Mutex{} }},
		{"faulty canonical lock", func(st *stats) any { return &faultyLock{st: st} }},
		{"context-less Acquire", func(*stats) any { return &plainLock{} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var st stats
			v := tt.v(&st)
			l, err := adapters.NewLock(v)
			require.NoError(t, err)
			var inside, worst atomic.Int32
			run(t, 16, d, func(r *rand.Rand) {
				ctx, cancel := randomCtx(r)
				defer cancel()
				st.ops.Add(1)
				func() {
					defer recoverInjected("body broke", "release broke")
					err := l.Do(ctx, func(context.Context) error {
						raise32(&worst, inside.Add(1))
						defer inside.Add(-1)
						switch r.IntN(10) {
						case 0:
							st.panics.Add(1)
							panic("body broke")
						case 1:
							st.errs.Add(1)
							return errInjected
						}
						return nil
					})
					if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
						st.cancels.Add(1)
					}
				}()
			})
			assert.Equal(t, int32(1), worst.Load(), "never two holders")
			if f, ok := v.(*faultyLock); ok {
				assert.LessOrEqual(t, f.worst.Load(), int32(1), "never two holders of the underlying lock")
				require.Eventually(t, func() bool { return f.mu.TryLock() }, 2*time.Second, time.Millisecond, "left held")
				f.mu.Unlock()
			} else {
				require.Eventually(t, func() bool { return !l.Locked() }, 2*time.Second, time.Millisecond, "left held")
			}
			goleak.VerifyNone(t)
			st.log(t, "lock/"+tt.name, d)
		})
	}
}

func TestStressOwnerMutex(t *testing.T) {
	d := stressFor(t)
	var st stats
	o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
	require.NoError(t, err)
	var holder atomic.Uint64
	var overlaps atomic.Int32
	run(t, 16, d, func(r *rand.Rand) {
		ctx, cancel := randomCtx(r)
		defer cancel()
		st.ops.Add(1)
		ok, err := o.Acquire(ctx)
		if err != nil {
			st.cancels.Add(1)
			return
		}
		require.True(t, ok)
		me, _ := adapters.TaskOf(ctx)
		if !holder.CompareAndSwap(0, uint64(me)) {
			overlaps.Add(1)
		}
		if r.IntN(5) == 0 { // a stranger tries to release it
			st.errs.Add(1)
			assert.ErrorIs(t, o.Release(adapters.WithTask(context.Background())), adapters.ErrNotOwner)
		}
		assert.True(t, o.IsOwner(ctx))
		holder.Store(0)
		assert.NoError(t, o.Release(ctx))
	})
	assert.Zero(t, overlaps.Load(), "never two holders")
	assert.False(t, o.Locked())
	goleak.VerifyNone(t)
	st.log(t, "owner-lock", d)
}

// pairing is a context manager that counts Enters and Exits, and sometimes
// fails or panics in either.
type pairing struct {
	entered, exited atomic.Int64
	slow            bool
	st              *stats
}

func (p *pairing) Enter(ctx context.Context) (int, error) {
	if rand.IntN(15) == 0 {
		p.st.errs.Add(1)
		return 0, errInjected
	}
	if p.slow {
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
	}
	return int(p.entered.Add(1)), nil
}

func (p *pairing) Exit(_ context.Context, err error) (bool, error) {
	p.exited.Add(1)
	var pe *adapters.PanicError
	return errors.As(err, &pe) && rand.IntN(2) == 0, nil // suppress some panics
}

func TestStressContextAndExecContext(t *testing.T) {
	d := stressFor(t)
	for _, execd := range []bool{false, true} {
		name := "context"
		if execd {
			name = "exec-context"
		}
		t.Run(name, func(t *testing.T) {
			var st stats
			p := &pairing{slow: execd, st: &st}
			var do func(ctx context.Context, fn func(context.Context, int) error) error
			var pool *adapters.Pool
			if execd {
				pool = adapters.NewPool(adapters.WithSize(4))
				x, err := adapters.NewExecContext[int](p, adapters.WithExecutor(pool))
				require.NoError(t, err)
				do = x.Do
			} else {
				c, err := adapters.NewContext[int](p)
				require.NoError(t, err)
				do = c.Do
			}
			run(t, 16, d, func(r *rand.Rand) {
				ctx, cancel := randomCtx(r)
				defer cancel()
				st.ops.Add(1)
				func() {
					defer recoverInjected("body broke")
					err := do(ctx, func(context.Context, int) error {
						if r.IntN(10) == 0 {
							st.panics.Add(1)
							panic("body broke")
						}
						return nil
					})
					if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
						st.cancels.Add(1)
					}
				}()
			})
			if pool != nil {
				require.NoError(t, pool.Wait(context.Background()))
				pool.Close()
			}
			// An Enter that completed just as its caller's ctx ended is
			// exited on a goroutine of the proxy's own (an Exit may block;
			// the caller must not wait for it), which may still be running.
			assert.Eventually(t, func() bool { return p.entered.Load() == p.exited.Load() },
				5*time.Second, time.Millisecond, "every Enter matched by exactly one Exit")
			assert.Equal(t, p.entered.Load(), p.exited.Load(), "and none twice")
			goleak.VerifyNone(t)
			st.log(t, name, d)
		})
	}
}

func TestStressAwaitable(t *testing.T) {
	d := stressFor(t)
	var st stats
	// A context-less Wait that must never run twice at once, finishing at
	// random, sometimes with a panic.
	var running, calls, delivered atomic.Int64
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	w := waitFunc(func() (int, error) {
		if running.Add(1) != 1 {
			t.Error("Wait called while another call is in flight")
		}
		defer running.Add(-1)
		n := calls.Add(1)
		mu.Lock()
		sleep, boom := time.Duration(rng.IntN(400))*time.Microsecond, rng.IntN(25) == 0
		mu.Unlock()
		time.Sleep(sleep)
		if boom {
			st.panics.Add(1)
			panic("wait broke")
		}
		return int(n), nil
	})
	a, err := adapters.NewAwaitable[int](w, adapters.RepeatWait())
	require.NoError(t, err)
	run(t, 16, d, func(r *rand.Rand) {
		ctx, cancel := randomCtx(r)
		defer cancel()
		st.ops.Add(1)
		func() {
			defer func() {
				if v := recover(); v != nil {
					var pe *adapters.PanicError
					require.ErrorAs(t, v.(error), &pe)
				}
			}()
			if _, err := a.Await(ctx); err != nil {
				st.cancels.Add(1)
			} else {
				delivered.Add(1)
			}
		}()
	})
	// Drain: the last call may still be in flight.
	_, _ = func() (int, error) {
		defer func() { _ = recover() }()
		return a.Await(context.Background())
	}()
	assert.GreaterOrEqual(t, delivered.Load(), int64(1))
	goleak.VerifyNone(t)
	st.log(t, "awaitable", d)
}

type waitFunc func() (int, error)

func (f waitFunc) Wait() (int, error) { return f() }

// faultyEvent is a user-written event over a ValueEvent whose Get and
// WaitForNext sometimes fail and whose Set sometimes panics after setting.
// It has no Wait or Stream of its own, so the proxy derives them from these.
type faultyEvent struct {
	e  *adapters.ValueEvent[int]
	st *stats
}

func (f *faultyEvent) Clear()      { f.e.Clear() }
func (f *faultyEvent) IsSet() bool { return f.e.IsSet() }
func (f *faultyEvent) Set(v int) {
	f.e.Set(v)
	if rand.IntN(25) == 0 {
		f.st.panics.Add(1)
		panic("set broke")
	}
}
func (f *faultyEvent) Get() (int, error) {
	if rand.IntN(20) == 0 {
		f.st.errs.Add(1)
		return 0, errInjected
	}
	return f.e.Get()
}
func (f *faultyEvent) WaitForNext(ctx context.Context) (int, error) {
	if rand.IntN(20) == 0 {
		f.st.errs.Add(1)
		return 0, errInjected
	}
	return f.e.WaitForNext(ctx)
}

func TestStressEvent(t *testing.T) {
	for _, faulty := range []bool{false, true} {
		name := "ValueEvent"
		if faulty {
			name = "faulty user event"
		}
		t.Run(name, func(t *testing.T) {
			d := stressFor(t)
			var st stats
			var v any = adapters.NewValueEvent[int]()
			var injected []any // a panic may only come from the faulty Set
			if faulty {
				v = &faultyEvent{e: adapters.NewValueEvent[int](), st: &st}
				injected = []any{"set broke"}
			}
			ev, err := adapters.NewEvent[int](v)
			require.NoError(t, err)
			var waiting, wrong atomic.Int64
			wait := func(r *rand.Rand, op func(ctx context.Context) error) {
				ctx, cancel := endingCtx(r)
				defer cancel()
				waiting.Add(1)
				defer waiting.Add(-1)
				switch err := op(ctx); {
				case err == nil:
				case errors.Is(err, errInjected):
				case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
					st.cancels.Add(1)
				default:
					wrong.Add(1)
					t.Errorf("unexpected error: %v", err)
				}
			}
			run(t, 16, d, func(r *rand.Rand) {
				st.ops.Add(1)
				defer recoverInjected(injected...)
				want := r.IntN(10)
				switch r.IntN(6) {
				case 0:
					ev.Set(want)
				case 1:
					ev.Clear()
				case 2:
					wait(r, func(ctx context.Context) error { _, err := ev.WaitForNext(ctx); return err })
				case 3:
					wait(r, func(ctx context.Context) error {
						return ev.WaitForValue(ctx, want, adapters.SetAtTimeout[int]())
					})
				case 4:
					ctx, cancel := endingCtx(r)
					for range ev.Stream(ctx) {
						if r.IntN(3) == 0 {
							break
						}
					}
					cancel()
				default:
					wait(r, func(ctx context.Context) error { _, err := ev.Wait(ctx); return err })
				}
			})
			assert.Zero(t, waiting.Load(), "every waiter returned")
			assert.Zero(t, wrong.Load(), "every error was the ctx's or an injected one")
			goleak.VerifyNone(t)
			st.log(t, "event/"+name, d)
		})
	}
}

func TestStressGroup(t *testing.T) {
	d := stressFor(t)
	var st stats
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		r := rand.New(rand.NewPCG(uint64(st.ops.Load()), 7))
		var live atomic.Int64
		var opts []adapters.GroupOption
		if r.IntN(2) == 0 {
			opts = append(opts, adapters.ContinueOnError())
		}
		g, err := adapters.NewGroup(nil, opts...)
		require.NoError(t, err)
		require.NoError(t, g.Enter(context.Background()))
		for range 1 + r.IntN(50) {
			st.ops.Add(1)
			kind := r.IntN(10)
			g.Go(func(ctx context.Context) error {
				live.Add(1)
				defer live.Add(-1)
				switch kind {
				case 0:
					st.panics.Add(1)
					panic(fmt.Sprintf("task %d broke", kind))
				case 1:
					st.errs.Add(1)
					return errInjected
				case 2, 3:
					<-ctx.Done()
					st.cancels.Add(1)
					return ctx.Err()
				}
				time.Sleep(time.Duration(kind) * time.Microsecond)
				return nil
			})
		}
		func() {
			defer func() {
				if v := recover(); v != nil {
					var pe *adapters.PanicError
					require.ErrorAs(t, v.(error), &pe)
				}
			}()
			err := g.Exit(context.Background(), nil)
			assert.NotErrorIs(t, err, context.Canceled, "Exit's own cancellations are left out")
		}()
		assert.Zero(t, live.Load(), "no task outlives Exit")
		assert.Zero(t, g.RunningTasks())
	}
	goleak.VerifyNone(t)
	st.log(t, "group", d)
}
