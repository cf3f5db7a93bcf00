package adapters_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// The broken promises of issue 20, one test each; every one failed (or
// crashed the test binary) before its fix.

// errNet is a network error, as a client's unlock returns when the
// connection breaks.
var errNet = &net.OpError{Op: "write", Net: "tcp", Err: errors.New("connection reset by peer")}

// flakyCtxLocker is etcd's shape, Lock(ctx) error / Unlock(ctx) error, whose
// Unlock fails while fails > 0.
type flakyCtxLocker struct {
	sem   chan struct{}
	fails atomic.Int32
}

func newFlakyCtxLocker() *flakyCtxLocker { return &flakyCtxLocker{sem: make(chan struct{}, 1)} }

func (l *flakyCtxLocker) Lock(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *flakyCtxLocker) Unlock(context.Context) error {
	if l.fails.Add(-1) >= 0 {
		return errNet
	}
	<-l.sem
	return nil
}

// A release that fails on its way (a network error) leaves the hold as it
// was, for Unlock(ctx) error and for Unlock(ctx) (bool, error) saying false:
// not a lost lock, Locked says held, and a retry releases.
func TestAFailedReleaseKeepsTheHoldForARetry(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() (any, *flakyCtxLocker)
	}{
		{"Unlock(ctx) error", func() (any, *flakyCtxLocker) { v := newFlakyCtxLocker(); return v, v }},
		{"Unlock(ctx) (bool, error) says false", func() (any, *flakyCtxLocker) {
			v := &netUnlocker{*newFlakyCtxLocker()}
			return v, &v.flakyCtxLocker
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, state := tc.make()
			p, err := adapters.NewLock(v)
			require.NoError(t, err)
			ctx := context.Background()
			ok, err := p.Acquire(ctx)
			require.True(t, ok)
			require.NoError(t, err)

			state.fails.Store(1)
			err = p.Release(ctx)
			require.ErrorIs(t, err, errNet)
			assert.NotErrorIs(t, err, adapters.ErrLockLost, "the lock may still be held: not lost")
			assert.True(t, p.Locked(), "a failed release leaves the lock held, and Locked says so")
			assert.Len(t, state.sem, 1, "the value still holds the lock")

			require.NoError(t, p.Release(ctx), "the retry calls Unlock again")
			assert.False(t, p.Locked())
			assert.Empty(t, state.sem, "the lock is free")
			assert.ErrorIs(t, p.Release(ctx), adapters.ErrNotLocked, "a second release of one hold is still refused")
		})
	}
}

// rpcLock is a canonical lock whose Release refuses an ended ctx with an
// error of its own (an RPC client's status error), not ctx's.
type rpcLock struct{ sem chan struct{} }

var errStatus = errors.New("rpc error: code = Unknown desc = the call's deadline has passed")

func (l *rpcLock) Acquire(ctx context.Context) (bool, error) {
	select {
	case l.sem <- struct{}{}:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (l *rpcLock) Release(ctx context.Context) error {
	if ctx.Err() != nil {
		return errStatus
	}
	<-l.sem
	return nil
}

func (l *rpcLock) Locked() bool { return len(l.sem) == 1 }

func TestDoWhoseBodyOutlivesItsCtxReleasesWithALiveCtx(t *testing.T) {
	v := &rpcLock{sem: make(chan struct{}, 1)}
	p, err := adapters.NewLock(v)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	err = p.Do(ctx, func(context.Context) error { cancel(); return nil })
	require.NoError(t, err, "the release is made with a ctx of the proxy's own, as Release's is")
	assert.False(t, v.Locked(), "the lock is not left held")
}

func TestSharedLockReleasesEveryReader(t *testing.T) {
	var rw sync.RWMutex
	p, err := adapters.NewLock(rw.RLocker())
	require.NoError(t, err)
	ctx := context.Background()
	for range 2 {
		ok, err := p.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
	}
	require.NoError(t, p.Release(ctx))
	assert.True(t, p.Locked(), "one reader still holds it")
	require.NoError(t, p.Release(ctx), "the second reader's release is not refused")
	assert.False(t, p.Locked())
	require.True(t, rw.TryLock(), "a writer gets the lock: no read lock is left held")
	rw.Unlock()
	assert.ErrorIs(t, p.Release(ctx), adapters.ErrNotLocked)
}

func TestWatchdogForgetsAHoldReleasedWhileUnwatched(t *testing.T) {
	var mu sync.Mutex
	w := adapters.NewWatchdog(0, nil)
	l, err := w.Watch(&mu)
	require.NoError(t, err)
	ctx := adapters.WithTask(context.Background())
	ok, err := l.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	w.Unwatch(l)
	require.NoError(t, l.Release(ctx))
	_, err = w.Watch(l)
	require.NoError(t, err)
	assert.Empty(t, w.Check(), "the hold that ended while unwatched is not reported")

	other := adapters.WithTask(context.Background())
	ok, err = l.Acquire(other)
	require.True(t, ok)
	require.NoError(t, err)
	holds := w.Check()
	require.Len(t, holds, 1)
	require.NoError(t, l.Release(other))
	assert.ErrorIs(t, holds[0].ForceRelease(ctx), adapters.ErrNotLocked, "the reported hold has ended")
	assert.True(t, mu.TryLock(), "nothing was released twice")
	mu.Unlock()
}

// forcedKey marks the ctx of a ForceRelease, with the holder it means.
type forcedKey struct{}

// ledgerLock is a canonical lock that knows its holder (the ctx's task) and
// counts releases made for a hold other than the current one.
type ledgerLock struct {
	sem   chan struct{}
	mu    sync.Mutex
	owner adapters.Task
	wrong atomic.Int32
}

var errNotMine = errors.New("not this holder's hold")

func (l *ledgerLock) Acquire(ctx context.Context) (bool, error) {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	l.mu.Lock()
	l.owner, _ = adapters.TaskOf(ctx)
	l.mu.Unlock()
	return true, nil
}

func (l *ledgerLock) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	want, forced := ctx.Value(forcedKey{}).(adapters.Task)
	if !forced {
		want, _ = adapters.TaskOf(ctx)
	}
	if l.owner != want {
		if forced {
			l.wrong.Add(1)
		}
		return errNotMine
	}
	l.owner = 0
	<-l.sem
	return nil
}

func (l *ledgerLock) Locked() bool { return len(l.sem) == 1 }

func TestWatchdogForceReleaseNeverReleasesTheNextHold(t *testing.T) {
	v := &ledgerLock{sem: make(chan struct{}, 1)}
	w := adapters.NewWatchdog(0, nil)
	l, err := w.Watch(v)
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx := adapters.WithTask(context.Background())
				if ok, _ := l.Acquire(ctx); ok {
					runtime.Gosched()
					_ = l.Release(ctx)
				}
			}
		}()
	}
	forced := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		for _, h := range w.Check() {
			fctx := context.WithValue(context.Background(), forcedKey{}, h.Holder)
			if h.ForceRelease(fctx) == nil {
				forced++
			}
		}
		runtime.Gosched()
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, v.wrong.Load(), "a ForceRelease reached a hold other than the one reported (%d forced)", forced)
}

// condWaiter embeds *sync.Cond: its Wait is the Cond's, promoted.
type condWaiter struct{ *sync.Cond }

// condOwnWait embeds *sync.Cond but declares a Wait of its own.
type condOwnWait struct{ *sync.Cond }

func (condOwnWait) Wait() {}

type deepCond struct{ condWaiter }

func TestEmbeddedCondIsRefusedByItsWaitsOrigin(t *testing.T) {
	cond := sync.NewCond(&sync.Mutex{})
	for _, v := range []any{&condWaiter{cond}, condWaiter{cond}, &deepCond{condWaiter{cond}}} {
		_, err := adapters.NewAwaitable[any](v)
		require.ErrorIs(t, err, validate.ErrAbstract, "%T", v)
		assert.Contains(t, err.Error(), "*sync.Cond's Wait must be called with its L held")
	}
	_, err := adapters.NewAwaitable[any](&condOwnWait{cond})
	assert.NoError(t, err, "a Wait of the type's own is not the Cond's")
}

func TestWaitForValueOfAnUncomparableDynamicValueIsAnError(t *testing.T) {
	type holder struct{ X any }
	ev, err := adapters.NewEvent[holder](adapters.NewValueEvent[holder]())
	require.NoError(t, err)
	ev.Set(holder{X: 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	assert.NotPanics(t, func() {
		err = ev.WaitForValue(ctx, holder{X: []int{1}})
	})
	assert.ErrorIs(t, err, adapters.ErrNotComparable)

	ev.Set(holder{X: []int{2}}) // an uncomparable value held, a comparable one waited for
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	assert.NotPanics(t, func() {
		err = ev.WaitForValue(short, holder{X: 3}, adapters.SetAtTimeout[holder]())
	})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// goexitWaiter's Wait calls runtime.Goexit.
type goexitWaiter struct{}

func (goexitWaiter) Wait(context.Context) (int, error) { runtime.Goexit(); return 0, nil }

func TestAwaitableChanDeliversWhenWaitCallsGoexit(t *testing.T) {
	a, err := adapters.NewAwaitable[int](goexitWaiter{})
	require.NoError(t, err)
	select {
	case r := <-a.Chan(context.Background()):
		assert.ErrorIs(t, r.Err, adapters.ErrGoexit)
	case <-time.After(5 * time.Second):
		t.Fatal("Chan never delivered")
	}
}

func TestGroupEnteredAgainAfterExitRunsAFreshRun(t *testing.T) {
	s := &service{}
	g, err := adapters.NewGroup(s)
	require.NoError(t, err)
	ctx := context.Background()
	boom := errors.New("boom")
	for round := range 2 {
		require.NoError(t, g.Enter(ctx))
		var ran atomic.Bool
		g.Go(func(context.Context) error { ran.Store(true); return boom })
		err := g.Exit(ctx, nil)
		assert.ErrorIs(t, err, boom, "round %d: the task ran and its error is Exit's", round)
		assert.True(t, ran.Load(), "round %d", round)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(t, []string{"setup", "cleanup", "setup", "cleanup"}, s.log)
}

func TestGroupEnterWhileTasksOfTheExitedRunStillRunIsRefused(t *testing.T) {
	g, err := adapters.NewGroup(nil)
	require.NoError(t, err)
	require.NoError(t, g.Enter(context.Background()))
	release := make(chan struct{})
	g.Go(func(context.Context) error { <-release; return nil }) // ignores its cancellation
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, g.Exit(short, nil), adapters.ErrStillRunning)
	assert.ErrorIs(t, g.Enter(context.Background()), adapters.ErrStillRunning)
	close(release)
	require.NoError(t, g.Wait(context.Background()))
	require.NoError(t, g.Enter(context.Background()), "once they have returned, Enter starts a fresh run")
	require.NoError(t, g.Exit(context.Background(), nil))
}

// panickyCleanup's Cleanup panics.
type panickyCleanup struct{}

func (panickyCleanup) Cleanup() { panic("cleanup broke") }

func TestGroupCleanupThatPanicsStillStopsTheTasks(t *testing.T) {
	g, err := adapters.NewGroup(panickyCleanup{})
	require.NoError(t, err)
	require.NoError(t, g.Enter(context.Background()))
	started := make(chan struct{})
	g.Go(func(ctx context.Context) error { close(started); <-ctx.Done(); return ctx.Err() })
	<-started
	assert.PanicsWithValue(t, "cleanup broke", func() { _ = g.Exit(context.Background(), nil) })
	assert.Zero(t, g.RunningTasks(), "the task was cancelled and waited for before the panic went on")
}

func TestAwaitOfAReArmedWaitGroupWaitsAgain(t *testing.T) {
	for _, opts := range [][]adapters.AwaitOption{nil, {adapters.RepeatWait()}} {
		var wg sync.WaitGroup
		wg.Add(1)
		a, err := adapters.NewAwaitable[any](&wg, opts...)
		require.NoError(t, err)
		short, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		_, err = a.Await(short)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded)
		wg.Done()
		// The abandoned Wait returns with nobody waiting.
		require.Eventually(t, func() bool { return !adapters.InFlight(a) }, time.Second, time.Millisecond)
		wg.Add(1) // re-armed
		short, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err = a.Await(short)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the old result is not the re-armed group's")
		wg.Done()
		_, err = a.Await(context.Background())
		assert.NoError(t, err)
	}
}

func TestWaitForTypedNilThroughEventOfAny(t *testing.T) {
	ev, err := adapters.NewEvent[any](adapters.NewValueEvent[*int]())
	require.NoError(t, err)
	ev.Set(nil)
	require.NoError(t, ev.Err())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	assert.NoError(t, ev.WaitForValue(ctx, nil), "Set(nil) stored a nil *int; WaitForValue(nil) waits for it")
}

// untilEvent is an event whose WaitUntil checks and waits in one step; its
// IsSet lags (as a remote event's cache may), and its WaitForNext only ever
// sees later Sets.
type untilEvent struct{ v int }

func (u *untilEvent) Clear()                                       {}
func (u *untilEvent) Get() (int, error)                            { return 0, adapters.ErrNoValue }
func (u *untilEvent) IsSet() bool                                  { return false }
func (u *untilEvent) Set(v int)                                    { u.v = v }
func (u *untilEvent) WaitForNext(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
func (u *untilEvent) WaitUntil(ctx context.Context, match func(int) bool) (int, error) {
	if match(u.v) {
		return u.v, nil
	}
	<-ctx.Done()
	return 0, ctx.Err()
}

func TestEventWaitUsesTheValuesWaitUntil(t *testing.T) {
	ev, err := adapters.NewEvent[int](&untilEvent{v: 5})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := ev.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, v)
}

// netUnlocker is a ctx locker whose Unlock(ctx) (bool, error) says false with
// a network error while fails > 0.
type netUnlocker struct {
	flakyCtxLocker
}

func (l *netUnlocker) Unlock(context.Context) (bool, error) {
	if l.fails.Add(-1) >= 0 {
		return false, errNet
	}
	<-l.sem
	return true, nil
}

// errTryLocker is a sync.Locker that also has TryLock() (bool, error).
type errTryLocker struct{ sync.Mutex }

func (l *errTryLocker) TryLock() (bool, error) { return l.Mutex.TryLock(), nil }

func TestSyncLockerWithAnErrorTryLockComposes(t *testing.T) {
	v := &errTryLocker{}
	p, err := adapters.NewLock(v)
	require.NoError(t, err, "a sync.Locker whose TryLock returns an error too is still a sync.Locker")
	ctx := context.Background()
	require.NoError(t, p.Do(ctx, func(context.Context) error {
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		ok, err := p.Acquire(short)
		assert.False(t, ok)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		return nil
	}))
	assert.True(t, v.Mutex.TryLock(), "free after Do")
	v.Mutex.Unlock()
}

func TestZeroWatchdogWatches(t *testing.T) {
	var w adapters.Watchdog
	var mu sync.Mutex
	l, err := w.Watch(&mu)
	require.NoError(t, err)
	ctx := adapters.WithTask(context.Background())
	ok, err := l.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	assert.Len(t, w.Check(), 1, "threshold 0: the hold is reported")
	require.NoError(t, l.Release(ctx))
}

// The outside review of this round's fixes found these; one test each.

// warnLocker is an error locker whose TryLock reports (true, err) and whose
// Unlock fails while fail is set.
type warnLocker struct{ held, fail atomic.Bool }

func (l *warnLocker) Lock() error { l.held.Store(true); return nil }
func (l *warnLocker) TryLock() (bool, error) {
	if l.held.Load() {
		return false, nil
	}
	l.held.Store(true)
	return true, errors.New("warning")
}
func (l *warnLocker) Unlock() error {
	if l.fail.Swap(false) {
		return errNet
	}
	l.held.Store(false)
	return nil
}

func TestAGiveBackThatFailsKeepsTheHoldForARelease(t *testing.T) {
	v := &warnLocker{}
	v.fail.Store(true)
	l, err := adapters.NewLock(v)
	require.NoError(t, err)
	ok, err := l.TryAcquire(context.Background())
	assert.False(t, ok)
	require.ErrorIs(t, err, errNet, "the give-back of a (true, err) attempt failed")
	assert.True(t, l.Locked(), "the proxy knows the lock is still held")
	require.NoError(t, l.Release(context.Background()))
	assert.False(t, v.held.Load(), "and a Release gives it back")
}

// onceCleanup's first Cleanup panics.
type onceCleanup struct{ n atomic.Int32 }

func (c *onceCleanup) Cleanup() {
	if c.n.Add(1) == 1 {
		panic("cleanup boom")
	}
}

func TestGroupReEnteredCarriesNoErrorOfTheExitedRun(t *testing.T) {
	g, err := adapters.NewGroup(&onceCleanup{})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, g.Enter(ctx))
	g.Go(func(context.Context) error { return errors.New("run-1 failure") })
	_ = g.Wait(ctx)
	assert.Panics(t, func() { _ = g.Exit(ctx, nil) })
	require.NoError(t, g.Enter(ctx))
	g.Go(func(context.Context) error { return nil })
	assert.NoError(t, g.Exit(ctx, nil), "the failure was the exited run's")
}

// panicTask is a stopper whose Stop returns a task whose Wait panics or
// calls Goexit.
type panicTask struct{ goexit bool }

func (p *panicTask) Wait() error {
	if p.goexit {
		runtime.Goexit()
	}
	panic("wait boom")
}

type taskStopper struct{ task *panicTask }

func (s *taskStopper) Stop() *panicTask { return s.task }

func TestStopTaskWhoseWaitPanicsReachesExitsCaller(t *testing.T) {
	c, err := adapters.NewContext[any](&taskStopper{&panicTask{}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.Panics(t, func() { _ = c.Exit(ctx, nil) }, "re-raised in Exit's caller, not the process")
	c, err = adapters.NewContext[any](&taskStopper{&panicTask{goexit: true}})
	require.NoError(t, err)
	assert.ErrorIs(t, c.Exit(context.Background(), nil), adapters.ErrGoexit)
}

// stubbornServer's GracefulStop does not return after Stop.
type stubbornServer struct{ block chan struct{} }

func (s *stubbornServer) GracefulStop() { <-s.block }
func (s *stubbornServer) Stop()         {}

func TestGracefulStopExitReturnsWithItsCtx(t *testing.T) {
	s := &stubbornServer{block: make(chan struct{})}
	defer close(s.block)
	c, err := adapters.NewContext[any](s)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Exit(ctx, nil) }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(2 * time.Second):
		t.Fatal("Exit waited past its ctx for a GracefulStop that ignores Stop")
	}
}

func TestWaitForNilThroughEventOfAnyOverAnInterfaceEvent(t *testing.T) {
	e, err := adapters.NewEvent[any](adapters.NewValueEvent[error]())
	require.NoError(t, err)
	e.Set(nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	assert.NoError(t, e.WaitForValue(ctx, nil))
}

func TestWatchedOwnerLockReleaseRacingForceReleaseNeverTakesTheNextHold(t *testing.T) {
	om := adapters.NewOwnerMutex()
	w := adapters.NewWatchdog(0, nil)
	l, err := w.Watch(om)
	require.NoError(t, err)
	bg := context.Background()
	for range 300 {
		a, b := adapters.WithTask(bg), adapters.WithTask(bg)
		ok, err := l.Acquire(a)
		require.True(t, ok)
		require.NoError(t, err)
		holds := w.Check()
		require.Len(t, holds, 1)
		var okB bool
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); _ = l.Release(a) }()
		go func() { defer wg.Done(); _ = holds[0].ForceRelease(bg) }()
		go func() {
			defer wg.Done()
			short, cancel := context.WithTimeout(bg, time.Second)
			defer cancel()
			okB, _ = l.Acquire(short)
		}()
		wg.Wait()
		if okB {
			require.True(t, om.IsOwner(b), "B acquired, then lost its hold to a release meant for A's")
			require.NoError(t, l.Release(b))
		}
	}
}

func TestUnwatchByOneWatchdogLeavesAnother(t *testing.T) {
	var mu sync.Mutex
	w1, w2 := adapters.NewWatchdog(0, nil), adapters.NewWatchdog(0, nil)
	l, err := w1.Watch(&mu)
	require.NoError(t, err)
	_, err = w2.Watch(l)
	require.NoError(t, err)
	w2.Unwatch(l)
	ctx := adapters.WithTask(context.Background())
	ok, err := l.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	assert.Len(t, w1.Check(), 1)
	require.NoError(t, l.Release(ctx))
}

func TestWatchedSharedLockKeepsItsRecordWhileReadersHold(t *testing.T) {
	var rw sync.RWMutex
	w := adapters.NewWatchdog(0, nil)
	l, err := w.Watch(rw.RLocker())
	require.NoError(t, err)
	ctx := adapters.WithTask(context.Background())
	for range 2 {
		ok, err := l.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
	}
	require.NoError(t, l.Release(ctx))
	assert.Len(t, w.Check(), 1, "a reader still holds it")
	require.NoError(t, l.Release(ctx))
	assert.Empty(t, w.Check())
}
