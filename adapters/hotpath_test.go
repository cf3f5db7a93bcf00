package adapters_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// The hot paths: a sync.Locker with TryLock, unobserved (its TryLock, then
// one count; a *sync.Mutex called concretely), and an Await over a Wait()
// with no result called in place. These tests hold them to what the slow
// paths promise.

// hotLockers are the values the hot path covers.
func hotLockers() []struct {
	name string
	v    func() any
} {
	return []struct {
		name string
		v    func() any
	}{
		{"*sync.Mutex", func() any { return &sync.Mutex{} }},
		{"*sync.RWMutex", func() any { return &sync.RWMutex{} }},
		{"a TryLock locker", func() any { return &faultyTryLocker{} }},
	}
}

func TestLockHotPathReleasesOneHoldOnceUnderConcurrentReleases(t *testing.T) {
	ctx := context.Background()
	for _, tt := range hotLockers() {
		t.Run(tt.name, func(t *testing.T) {
			l, err := adapters.NewLock(tt.v())
			require.NoError(t, err)
			rounds := 200
			if testing.Short() {
				rounds = 50
			}
			for range rounds {
				ok, err := l.Acquire(ctx)
				require.NoError(t, err)
				require.True(t, ok)
				var released, refused atomic.Int32
				var wg sync.WaitGroup
				for range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						switch err := l.Release(ctx); {
						case err == nil:
							released.Add(1)
						case errors.Is(err, adapters.ErrNotLocked):
							refused.Add(1)
						default:
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				require.Equal(t, int32(1), released.Load(), "one release of one hold")
				require.Equal(t, int32(3), refused.Load())
				require.False(t, l.Locked())
			}
		})
	}
}

func TestLockHotPathTurnsAsideForAnObserverAttachedLater(t *testing.T) {
	// The Composer attaches its observer after the proxy is made: the
	// unobserved hot path must not outlive that.
	var seen atomic.Int32
	obs := adapters.ObserverFunc(func(context.Context, adapters.Observation) { seen.Add(1) })
	l, err := adapters.NewLock(&sync.Mutex{})
	require.NoError(t, err)
	require.True(t, adapters.AttachObserver(l, obs, "late"))
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Equal(t, int64(1), l.Stats().Acquires)
	assert.Equal(t, int32(3), seen.Load(), "acquire, body, release")

	wg := &sync.WaitGroup{}
	a, err := adapters.NewAwaitable[any](wg)
	require.NoError(t, err)
	require.True(t, adapters.AttachObserver(a, obs, "late"))
	_, err = a.Await(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(4), seen.Load(), "the Await")
}

func TestAwaitInPlacePanicGoesOnUnchanged(t *testing.T) {
	// A Wait() called in place is a direct call on the caller's goroutine.
	a, err := adapters.NewAwaitable[any](panicWaiter{})
	require.NoError(t, err)
	assert.PanicsWithValue(t, "wait broke", func() { _, _ = a.Await(context.Background()) })
}

type panicWaiter struct{}

func (panicWaiter) Wait() { panic("wait broke") }

func TestHotPathsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	ctx := context.Background()
	valued := context.WithValue(ctx, ctxKey{}, 1) // a ctx that never ends, not Background
	body := func(context.Context) error { return nil }
	for _, tt := range hotLockers() {
		l, err := adapters.NewLock(tt.v())
		require.NoError(t, err)
		assert.Zero(t, testing.AllocsPerRun(100, func() {
			_, _ = l.Acquire(ctx)
			_ = l.Release(ctx)
		}), "%s: Acquire and Release", tt.name)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = l.Do(ctx, body) }), "%s: Do", tt.name)
	}
	a, err := adapters.NewAwaitable[any](&sync.WaitGroup{})
	require.NoError(t, err)
	for _, c := range []context.Context{ctx, valued} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = a.Await(c) }), "Await over a *sync.WaitGroup")
	}
}

type ctxKey struct{}
