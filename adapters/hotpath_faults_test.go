package adapters_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
)

// The hot paths under faults and load (lock.go tookFast, releaseFast,
// doFast, doCanonical; awaitable.go plainAwait; group.go groupTask): an
// outside review's tests, kept. The longer runs are a quarter as long under
// -short.

// soak is d, or a quarter of it under -short.
func soak(d time.Duration) time.Duration {
	if testing.Short() {
		return d / 4
	}
	return d
}

// faultyTryLocker is a sync.Locker with TryLock whose methods can be made to
// misbehave: panic, Goexit.
type faultyTryLocker struct {
	mu           sync.Mutex
	tryPanics    atomic.Int32
	tryGoexits   atomic.Int32
	unlockPanics atomic.Int32 // panics before unlocking
	unlockGoexit atomic.Int32 // Goexit before unlocking
	lateUnlock   atomic.Int32 // panics after unlocking
}

func (l *faultyTryLocker) Lock() { l.mu.Lock() }
func (l *faultyTryLocker) TryLock() bool {
	if l.tryPanics.Add(-1) >= 0 {
		panic("trylock broke")
	}
	if l.tryGoexits.Add(-1) >= 0 {
		runtime.Goexit()
	}
	return l.mu.TryLock()
}
func (l *faultyTryLocker) Unlock() {
	if l.unlockPanics.Add(-1) >= 0 {
		panic("unlock broke")
	}
	if l.unlockGoexit.Add(-1) >= 0 {
		runtime.Goexit()
	}
	l.mu.Unlock()
	if l.lateUnlock.Add(-1) >= 0 {
		panic("unlock broke late")
	}
}

func faultyTryLockers() map[string]func() any {
	return map[string]func() any{
		"*sync.Mutex":     func() any { return &sync.Mutex{} },
		"*sync.RWMutex":   func() any { return &sync.RWMutex{} },
		"faultyTryLocker": func() any { return &faultyTryLocker{} },
	}
}

// Mixed concurrent Acquire/TryAcquire/Do/Release with ctxs that end, plus
// stray releases by goroutines that hold nothing: no crash, no hang, and
// once everyone stops the lock is free and Locked says so.
func TestHotPathMixedOpsWithStrayReleases(t *testing.T) {
	for name, mk := range faultyTryLockers() {
		t.Run(name, func(t *testing.T) {
			l, err := adapters.NewLock(mk())
			require.NoError(t, err)
			var wg sync.WaitGroup
			deadline := time.Now().Add(soak(700 * time.Millisecond))
			var ops atomic.Int64
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; time.Now().Before(deadline); i++ {
						ops.Add(1)
						switch (g + i) % 5 {
						case 0:
							if ok, err := l.Acquire(context.Background()); ok && err == nil {
								_ = l.Release(context.Background())
							}
						case 1:
							ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%3)*time.Millisecond)
							if ok, err := l.Acquire(ctx); ok && err == nil {
								_ = l.Release(ctx)
							}
							cancel()
						case 2:
							if ok, _ := l.TryAcquire(context.Background()); ok {
								_ = l.Release(context.Background())
							}
						case 3:
							ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
							_ = l.Do(ctx, func(context.Context) error { return nil })
							cancel()
						case 4:
							if g == 5 { // the stray releaser
								err := l.Release(context.Background())
								if err != nil {
									assert.ErrorIs(t, err, adapters.ErrNotLocked)
								}
							}
						}
					}
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("hang")
			}
			// Stray releases may have freed someone else's hold (the proxy
			// does not know its holder), after which that holder's release
			// says ErrNotLocked: still, nothing is left held.
			assert.False(t, l.Locked(), "after %d ops", ops.Load())
			ok, err := l.TryAcquire(context.Background())
			require.NoError(t, err)
			require.True(t, ok, "the lock is free")
			require.NoError(t, l.Release(context.Background()))
		})
	}
	goleak.VerifyNone(t)
}

// Two goroutines hammer the lock with ctx.Background (the hot path; once
// the queue is hungry, the slow path) or with deadlines; callers with a
// deadline queue in the tryQueue and must still get the lock ("no caller
// starves"). With Background holders they did not: a Background caller
// turned away by the hunger flag blocked in the value's Lock, past the
// tryQueue, and sync.Mutex hands the lock to blocked Lock callers (its
// starvation mode makes every TryLock fail), so the queued caller's TryLock
// never won; 9 of 10 timed out. A Background caller now queues behind
// callers with a ctx.
func TestHotPathDeadlineCallerNotStarved(t *testing.T) {
	background := func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }
	deadline := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Minute)
	}
	for _, tt := range []struct {
		name string
		v    func() any
		hot  func() (context.Context, context.CancelFunc)
	}{
		{"*sync.Mutex, Background holders", func() any { return &sync.Mutex{} }, background},
		{"TryLock locker, Background holders", func() any { return &faultyTryLocker{} }, background},
		{"*sync.Mutex, deadline holders", func() any { return &sync.Mutex{} }, deadline},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, err := adapters.NewLock(tt.v())
			require.NoError(t, err)
			var stops []func()
			for range 2 {
				stops = append(stops, repeat(func() {
					ctx, cancel := tt.hot()
					defer cancel()
					_ = l.Do(ctx, func(context.Context) error {
						time.Sleep(200 * time.Microsecond)
						return nil
					})
				}))
			}
			failed := 0
			var worst time.Duration
			for range 10 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				start := time.Now()
				ok, err := l.Acquire(ctx)
				worst = max(worst, time.Since(start))
				if err != nil || !ok {
					failed++
				} else {
					require.NoError(t, l.Release(ctx))
				}
				cancel()
				time.Sleep(time.Millisecond)
			}
			for _, s := range stops {
				s()
			}
			assert.Zero(t, failed, "%d of 10 deadline callers starved for 1s (worst %v)", failed, worst)
		})
	}
}

// A TryLock that panics or exits the goroutine on the hot path: nothing
// is counted as held, and the lock still works.
func TestHotPathTryLockPanicAndGoexitOnHotPath(t *testing.T) {
	v := &faultyTryLocker{}
	l, err := adapters.NewLock(v)
	require.NoError(t, err)
	v.tryPanics.Store(1)
	require.PanicsWithValue(t, "trylock broke", func() { _, _ = l.Acquire(context.Background()) })
	assert.False(t, l.Locked())
	v.tryPanics.Store(1)
	require.Panics(t, func() { _ = l.Do(context.Background(), func(context.Context) error { return nil }) })
	assert.False(t, l.Locked())
	v.tryGoexits.Store(1)
	done := make(chan struct{})
	go func() { defer close(done); _, _ = l.Acquire(context.Background()) }()
	<-done
	assert.False(t, l.Locked())
	v.tryGoexits.Store(1)
	done = make(chan struct{})
	ran := false
	go func() {
		defer close(done)
		_ = l.Do(context.Background(), func(context.Context) error { ran = true; return nil })
	}()
	<-done
	assert.False(t, ran)
	assert.False(t, l.Locked())
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	assert.False(t, l.Locked())
}

// Unlock that panics before unlocking / Goexits before unlocking: Release
// and Do keep the hold (Locked true), a retry releases it.
func TestHotPathUnlockFaultsOnHotPath(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		arm     func(v *faultyTryLocker)
		release func(t *testing.T, l *adapters.Lock) // a release that fails by the fault armed
	}{
		{"panic in Release", func(v *faultyTryLocker) { v.unlockPanics.Store(1) }, func(t *testing.T, l *adapters.Lock) {
			require.Panics(t, func() { _ = l.Release(ctx) })
		}},
		{"goexit in Release", func(v *faultyTryLocker) { v.unlockGoexit.Store(1) }, func(t *testing.T, l *adapters.Lock) {
			done := make(chan struct{})
			go func() { defer close(done); _ = l.Release(ctx) }()
			<-done
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := &faultyTryLocker{}
			l, _ := adapters.NewLock(v)
			ok, err := l.Acquire(ctx)
			require.True(t, ok)
			require.NoError(t, err)
			tt.arm(v)
			tt.release(t, l)
			assert.True(t, l.Locked(), "a release that failed ended no hold")
			require.NoError(t, l.Release(ctx), "and a retry releases it")
			assert.False(t, l.Locked())
			assert.True(t, v.mu.TryLock(), "the value's mutex is free")
		})
	}
	t.Run("panic in Do's release, fn panicked too", func(t *testing.T) {
		v := &faultyTryLocker{}
		l, _ := adapters.NewLock(v)
		v.unlockPanics.Store(1)
		require.Panics(t, func() {
			_ = l.Do(ctx, func(context.Context) error { panic("fn") })
		})
		assert.True(t, l.Locked())
		require.NoError(t, l.Release(ctx))
		assert.False(t, l.Locked())
	})
	t.Run("user panic in fn propagates unchanged", func(t *testing.T) {
		l, _ := adapters.NewLock(&sync.Mutex{})
		require.PanicsWithValue(t, "fn", func() {
			_ = l.Do(ctx, func(context.Context) error { panic("fn") })
		})
		assert.False(t, l.Locked())
		var fnErr = errors.New("fn err")
		require.ErrorIs(t, l.Do(ctx, func(context.Context) error { return fnErr }), fnErr)
		assert.False(t, l.Locked())
	})
	t.Run("goexit in fn", func(t *testing.T) {
		l, _ := adapters.NewLock(&sync.Mutex{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = l.Do(ctx, func(context.Context) error { runtime.Goexit(); return nil })
		}()
		<-done
		assert.False(t, l.Locked())
	})
}

// A WaitGroup awaited by Background callers (in place) and cancellable
// ones (a call in flight, joined), some of which give up, over several
// arms: every caller that stays returns nil once its arm is done, none
// early, none hangs.
func TestHotPathAwaitWaitGroupMixedCtxsOverArms(t *testing.T) {
	var wg sync.WaitGroup
	a, err := adapters.NewAwaitable[any](&wg)
	require.NoError(t, err)
	for arm := range 30 {
		wg.Add(1)
		var armDone atomic.Bool
		var callers sync.WaitGroup
		for i := range 8 {
			callers.Add(1)
			go func() {
				defer callers.Done()
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				switch i % 4 {
				case 1:
					ctx, cancel = context.WithCancel(ctx)
				case 2:
					ctx, cancel = context.WithTimeout(ctx, time.Duration(i)*100*time.Microsecond) // gives up
				case 3:
					ctx = context.WithoutCancel(ctx)
				}
				defer cancel()
				_, err := a.Await(ctx)
				if err != nil {
					assert.ErrorIs(t, err, context.DeadlineExceeded, "arm %d", arm)
					return
				}
				assert.True(t, armDone.Load(), "arm %d: Await returned before the WaitGroup's count reached zero", arm)
			}()
		}
		time.Sleep(2 * time.Millisecond)
		armDone.Store(true)
		wg.Done()
		ch := make(chan struct{})
		go func() { callers.Wait(); close(ch) }()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("arm %d: an Await hangs", arm)
		}
		// Let any call left in flight by a caller that gave up finish
		// before the next Add (WaitGroup's reuse rule).
		_, err := a.Await(context.Background())
		require.NoError(t, err)
		time.Sleep(time.Millisecond)
	}
	goleak.VerifyNone(t)
}

type panicWaitOf struct{ v any }

func (p panicWaitOf) Wait() { panic(p.v) }

// A Wait() with no result that panics: unchanged in place, *PanicError
// through a call in flight; Goexit in place ends only the caller.
func TestHotPathAwaitPlainPanics(t *testing.T) {
	a, err := adapters.NewAwaitable[any](panicWaitOf{"boom"})
	require.NoError(t, err)
	require.PanicsWithValue(t, "boom", func() { _, _ = a.Await(context.Background()) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	func() {
		defer func() {
			r := recover()
			var pe *adapters.PanicError
			require.ErrorAs(t, r.(error), &pe)
		}()
		_, _ = a.Await(ctx)
	}()
	// observed: same
	ao, err := adapters.NewAwaitable[any](panicWaitOf{"boom"}, adapters.WithStats())
	require.NoError(t, err)
	require.PanicsWithValue(t, "boom", func() { _, _ = ao.Await(context.Background()) })
	// typed T
	at, err := adapters.NewAwaitable[int](&sync.WaitGroup{})
	require.NoError(t, err)
	v, err := at.Await(context.Background())
	require.NoError(t, err)
	require.Zero(t, v)
	var zero adapters.Awaitable[int]
	_, err = zero.Await(context.Background())
	require.ErrorIs(t, err, adapters.ErrUnusable)
	var nilA *adapters.Awaitable[int]
	_, err = nilA.Await(context.Background())
	require.ErrorIs(t, err, adapters.ErrUnusable)
}

// Group tasks: each has a task identity of its own, kept by derived ctxs,
// cancelled with the group; panics recorded; nothing leaks.
func TestHotPathGroupTaskIdentity(t *testing.T) {
	g, err := adapters.NewGroup(nil)
	require.NoError(t, err)
	require.NoError(t, g.Enter(context.Background()))
	const n = 200
	var mu sync.Mutex
	seen := map[adapters.Task]int{}
	for i := range n {
		g.Go(func(ctx context.Context) error {
			id, ok := adapters.TaskOf(ctx)
			assert.True(t, ok)
			assert.NotZero(t, id)
			c2, cancel := context.WithCancel(ctx)
			defer cancel()
			id2, ok2 := adapters.TaskOf(c2)
			assert.True(t, ok2)
			assert.Equal(t, id, id2)
			id3, _ := adapters.TaskOf(adapters.WithTask(ctx))
			assert.NotEqual(t, id, id3)
			mu.Lock()
			seen[id] = i
			mu.Unlock()
			return nil
		})
	}
	require.NoError(t, g.Wait(context.Background()))
	assert.Len(t, seen, n)
	boom := errors.New("boom")
	var cancelled atomic.Int32
	for range 10 {
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			if context.Cause(ctx) != nil {
				cancelled.Add(1)
			}
			return ctx.Err()
		})
	}
	g.Go(func(ctx context.Context) error { return boom })
	err = g.Exit(context.Background(), nil)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, int32(10), cancelled.Load())
	goleak.VerifyNone(t)
}

// Watchdog Watch/Unwatch/Check/ForceRelease racing Do and Acquire/Release
// on the hot path: no crash, no hang, the lock ends free.
func TestHotPathWatchdogRacesHotPath(t *testing.T) {
	for name, mk := range faultyTryLockers() {
		t.Run(name, func(t *testing.T) {
			l, err := adapters.NewLock(mk())
			require.NoError(t, err)
			dog := adapters.NewWatchdog(0, nil)
			deadline := time.Now().Add(soak(500 * time.Millisecond))
			var wg sync.WaitGroup
			var forced atomic.Int64
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := adapters.WithTask(context.Background())
					for i := 0; time.Now().Before(deadline); i++ {
						switch g {
						case 0:
							_ = l.Do(ctx, func(context.Context) error { return nil })
						case 1:
							c, cancel := context.WithTimeout(ctx, time.Millisecond)
							if ok, err := l.Acquire(c); ok && err == nil {
								err := l.Release(c)
								if err != nil {
									assert.ErrorIs(t, err, adapters.ErrNotLocked)
								}
							}
							cancel()
						case 2:
							if i%2 == 0 {
								_, err := dog.Watch(l)
								assert.NoError(t, err)
							} else {
								dog.Unwatch(l)
							}
						case 3:
							for _, h := range dog.Check() {
								if h.ForceRelease(ctx) == nil {
									forced.Add(1)
								}
							}
						}
					}
				}()
			}
			wg.Wait()
			dog.Unwatch(l)
			t.Logf("%d forced", forced.Load())
			// after force-releases, a holder's late release may have
			// freed another's hold: still, the lock must not stay held
			ok, err := l.TryAcquire(context.Background())
			require.NoError(t, err)
			require.True(t, ok, "the lock is free once everyone stopped (Locked=%v)", l.Locked())
			require.NoError(t, l.Release(context.Background()))
			require.False(t, l.Locked())
		})
	}
}

// An observed lock (WithStats: the hot paths turned aside) under mixed
// concurrent use with ctxs that end: Acquires counts every success, and
// HeldNow and WaitingNow come back to zero.
func TestHotPathObservedStatsExactUnderMixedUse(t *testing.T) {
	for name, mk := range faultyTryLockers() {
		t.Run(name, func(t *testing.T) {
			l, err := adapters.NewLock(mk(), adapters.WithStats())
			require.NoError(t, err)
			var wins atomic.Int64
			var wg sync.WaitGroup
			deadline := time.Now().Add(soak(400 * time.Millisecond))
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; time.Now().Before(deadline); i++ {
						switch (g + i) % 3 {
						case 0:
							if ok, err := l.Acquire(context.Background()); ok && err == nil {
								wins.Add(1)
								assert.NoError(t, l.Release(context.Background()))
							}
						case 1:
							ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%3)*time.Millisecond)
							_ = l.Do(ctx, func(context.Context) error { wins.Add(1); return nil })
							cancel()
						case 2:
							ctx, cancel := context.WithTimeout(context.Background(), time.Second)
							if ok, err := l.Acquire(ctx); ok && err == nil {
								wins.Add(1)
								assert.NoError(t, l.Release(ctx))
							}
							cancel()
						}
					}
				}()
			}
			wg.Wait()
			s := l.Stats()
			assert.Equal(t, wins.Load(), s.Acquires)
			assert.Zero(t, s.HeldNow)
			assert.Zero(t, s.WaitingNow)
			assert.False(t, l.Locked())
		})
	}
}

// A TryAcquire on an observed lock is a hold like any other: it was not
// counted, but its Release was, so the held count went to -1 (Stats shows
// 0) and every later hold read one low: HeldNow 0 while held.
func TestHotPathObservedHeldNowAfterTryAcquire(t *testing.T) {
	ctx := context.Background()
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithStats())
	require.NoError(t, err)
	ok, err := l.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, l.Release(ctx))
	ok, err = l.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, l.Locked())
	assert.Equal(t, int64(1), l.Stats().HeldNow, "one hold, not released")
	assert.Equal(t, int64(2), l.Stats().Acquires, "the TryAcquire and the Acquire")
	require.NoError(t, l.Release(ctx))
}
