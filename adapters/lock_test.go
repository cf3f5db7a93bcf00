package adapters_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

// Lock shapes, one type each, all built on a sync.Mutex.
type (
	canonLock struct {
		mu   sync.Mutex
		held atomic.Bool
	}
	errLock   struct{ canonLock }
	boolLock  struct{ canonLock }
	plainLock struct{ canonLock }
	ctxLocker struct{ ch chan struct{} }
)

func (l *canonLock) Acquire(ctx context.Context) (bool, error) {
	l.mu.Lock()
	l.held.Store(true)
	return true, nil
}
func (l *canonLock) Release(context.Context) error { l.held.Store(false); l.mu.Unlock(); return nil }
func (l *canonLock) Locked() bool                  { return l.held.Load() }

func (l *errLock) Acquire(ctx context.Context) error { _, err := l.canonLock.Acquire(ctx); return err }
func (l *errLock) Release() error                    { return l.canonLock.Release(context.TODO()) }

func (l *boolLock) Acquire() bool { ok, _ := l.canonLock.Acquire(context.TODO()); return ok }
func (l *boolLock) Release()      { _ = l.canonLock.Release(context.TODO()) }

func (l *plainLock) Acquire() { _, _ = l.canonLock.Acquire(context.TODO()) }

func newCtxLocker() *ctxLocker { return &ctxLocker{ch: make(chan struct{}, 1)} }
func (l *ctxLocker) Lock(ctx context.Context) error {
	select {
	case l.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (l *ctxLocker) Unlock(context.Context) error { <-l.ch; return nil }

func lockShapes() []struct {
	name string
	v    func() any
} {
	return []struct {
		name string
		v    func() any
	}{
		{"Acquire(ctx) (bool, error)", func() any { return &canonLock{} }},
		{"Acquire(ctx) error / Release() error", func() any { return &errLock{} }},
		{"Acquire() bool / Release()", func() any { return &boolLock{} }},
		{"Acquire()", func() any { return &plainLock{} }},
		{"*sync.Mutex", func() any { return &sync.Mutex{} }},
		{"*sync.RWMutex", func() any { return &sync.RWMutex{} }},
		{"ctx locker", func() any { return newCtxLocker() }},
		{"OwnerMutex", func() any { return adapters.NewOwnerMutex() }},
	}
}

func newAnyLock(t *testing.T, v any) *adapters.Lock {
	t.Helper()
	if m, ok := v.(*adapters.OwnerMutex); ok {
		o, err := adapters.NewOwnerLock(m)
		require.NoError(t, err)
		return o.AsLock()
	}
	l, err := adapters.NewLock(v)
	require.NoError(t, err)
	return l
}

func TestLockDoIsMutuallyExclusiveForEveryShape(t *testing.T) {
	for _, tt := range lockShapes() {
		t.Run(tt.name, func(t *testing.T) {
			l := newAnyLock(t, tt.v())
			var inside, maxInside, total atomic.Int32
			var wg sync.WaitGroup
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := adapters.WithTask(context.Background())
					for range 50 {
						err := l.Do(ctx, func(context.Context) error {
							raise32(&maxInside, inside.Add(1))
							assert.True(t, l.Locked())
							total.Add(1)
							inside.Add(-1)
							return nil
						})
						assert.NoError(t, err)
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, int32(1), maxInside.Load(), "never two holders at once")
			assert.Equal(t, int32(32*50), total.Load())
			assert.False(t, l.Locked())
		})
	}
}

func TestLockCancelledAcquireLeavesLockFree(t *testing.T) {
	for _, tt := range lockShapes() {
		t.Run(tt.name, func(t *testing.T) {
			l := newAnyLock(t, tt.v())
			holder := adapters.WithTask(context.Background())
			ok, err := l.Acquire(holder)
			require.NoError(t, err)
			require.True(t, ok)

			// Hundreds of acquires blocked behind the holder, cancelled at
			// random moments, some before and some after the release.
			const n = 300
			var wg sync.WaitGroup
			var got atomic.Int32
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(adapters.WithTask(context.Background()), time.Duration(rand.IntN(3000))*time.Microsecond)
					defer cancel()
					ok, err := l.Acquire(ctx)
					if err != nil {
						assert.ErrorIs(t, err, context.DeadlineExceeded)
						assert.False(t, ok)
						return
					}
					if ok {
						got.Add(1)
						if i%7 == 0 {
							time.Sleep(50 * time.Microsecond)
						}
						assert.NoError(t, l.Release(ctx))
					}
				}()
			}
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			require.NoError(t, l.Release(holder))
			wg.Wait()
			require.Eventually(t, func() bool { return !l.Locked() }, 2*time.Second, time.Millisecond)
			// The lock is free: a fresh acquire gets it at once.
			ctx, cancel := context.WithTimeout(adapters.WithTask(context.Background()), time.Second)
			defer cancel()
			ok, err = l.Acquire(ctx)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, l.Release(ctx))
			goleak.VerifyNone(t)
			t.Logf("%d of %d acquired before their deadline", got.Load(), n)
		})
	}
}

func TestLockPanicInDoReleasesAndGoesOn(t *testing.T) {
	var mu sync.Mutex
	l, err := adapters.NewLock(&mu)
	require.NoError(t, err)
	assert.PanicsWithValue(t, "boom", func() {
		_ = l.Do(context.Background(), func(context.Context) error { panic("boom") })
	})
	assert.False(t, l.Locked())
	assert.True(t, mu.TryLock(), "the mutex was unlocked")
	mu.Unlock()
}

func TestLockDoReturnsTheBodysError(t *testing.T) {
	l, err := adapters.NewLock(&sync.Mutex{})
	require.NoError(t, err)
	err = l.Do(context.Background(), func(context.Context) error { return errBody })
	assert.ErrorIs(t, err, errBody)
	assert.False(t, l.Locked())
}

type refusingLock struct{ canonLock }

func (*refusingLock) Acquire() bool { return false }

func TestLockNotAcquired(t *testing.T) {
	l, err := adapters.NewLock(&refusingLock{})
	require.NoError(t, err)
	_, err = l.Enter(context.Background())
	assert.ErrorIs(t, err, adapters.ErrNotAcquired)
	assert.EqualError(t, err, "mixin: *adapters_test.refusingLock: failed to acquire lock")
	ran := false
	err = l.Do(context.Background(), func(context.Context) error { ran = true; return nil })
	assert.ErrorIs(t, err, adapters.ErrNotAcquired)
	assert.False(t, ran)
}

func TestLockFactory(t *testing.T) {
	var mu sync.Mutex
	l, err := adapters.NewLock(&mu, adapters.WithLockFactory(func(v any) any { return v.(*sync.Mutex) == &mu }))
	require.NoError(t, err)
	got, err := l.Enter(context.Background())
	require.NoError(t, err)
	assert.Equal(t, true, got)
	assert.NoError(t, l.Exit(context.Background(), nil))
}

func TestLockReleaseOfUnlockedMutexIsAnErrorNotACrash(t *testing.T) {
	l, err := adapters.NewLock(&sync.Mutex{})
	require.NoError(t, err)
	assert.ErrorIs(t, l.Release(context.Background()), adapters.ErrNotLocked)
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	assert.ErrorIs(t, l.Release(context.Background()), adapters.ErrNotLocked, "double release")
}

func TestLockAcquireWithEndedCtx(t *testing.T) {
	var mu sync.Mutex
	l, err := adapters.NewLock(&mu)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// As with semaphore.Weighted: a free lock is taken at once even so.
	ok, err := l.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	// Held: the ended ctx returns at once, and the lock stays as it was.
	ok, err = l.Acquire(ctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, l.Locked())
	require.NoError(t, l.Release(context.Background()))

	b, err := adapters.NewLock(&boolLock{}) // context-less, no TryLock
	require.NoError(t, err)
	ok, err = b.Acquire(ctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.Canceled, "a blocking Acquire is not started for an ended ctx")
	assert.False(t, b.Locked())
}

type panicLock struct{ canonLock }

func (*panicLock) Acquire() { panic("acquire broke") }

func TestLockPanicInContextlessAcquireReachesTheCaller(t *testing.T) {
	l, err := adapters.NewLock(&panicLock{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer func() {
		var pe *adapters.PanicError
		require.ErrorAs(t, recover().(error), &pe)
		assert.Equal(t, "acquire broke", pe.Value)
	}()
	_, _ = l.Acquire(ctx)
	t.Fatal("no panic")
}

func TestLockRefusals(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"sync.Mutex by value", sync.Mutex{}, "mixin: can't compose sync.Mutex as lock (as sync.Locker): methods Lock, Unlock, TryLock have pointer receivers (compose &v, a *sync.Mutex)"},
		{"near miss", &shop.Cache{}, "mixin: can't compose *shop.Cache as lock: missing abstract methods Release (but does have method Unlock), Locked; Acquire has signature func() int, want func(context.Context) (bool, error) or one of func(context.Context) error | func() bool | func()"},
		{"pointer receiver", shop.Store{}, "mixin: can't compose shop.Store as lock: methods Acquire, Release, Locked have pointer receivers (compose &v, a *shop.Store)"},
		{"typo", shop.Typo{}, "mixin: can't compose shop.Typo as lock: missing abstract method Release (Relase: did you mean Release?)"},
		{"nil", nil, "mixin: can't compose nil as lock: value is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := adapters.NewLock(tt.v)
			assert.Nil(t, l)
			assert.ErrorIs(t, err, validate.ErrAbstract)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestZeroLockIsAnErrorNotAPanic(t *testing.T) {
	var l *adapters.Lock
	_, err := l.Acquire(context.Background())
	assert.ErrorIs(t, err, adapters.ErrUnusable)
	assert.ErrorIs(t, l.Release(context.Background()), adapters.ErrUnusable)
	assert.ErrorIs(t, l.Do(context.Background(), func(context.Context) error { return nil }), adapters.ErrUnusable)
	assert.False(t, l.Locked())
	var o adapters.OwnerLock
	assert.ErrorIs(t, o.Release(context.Background()), adapters.ErrUnusable)
	assert.False(t, o.IsOwner(context.Background()))
}

func TestOwnerLockRefusesAnotherTask(t *testing.T) {
	o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
	require.NoError(t, err)
	a := adapters.WithTask(context.Background())
	b := adapters.WithTask(context.Background())
	ok, err := o.Acquire(a)
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, o.IsOwner(a))
	assert.False(t, o.IsOwner(b))

	err = o.Release(b)
	assert.ErrorIs(t, err, adapters.ErrNotOwner)
	assert.EqualError(t, err, "mixin: *adapters.OwnerMutex is not acquired by current task")
	assert.True(t, o.Locked(), "a refused release leaves it held")

	err = o.Release(context.Background())
	assert.ErrorIs(t, err, adapters.ErrNotOwner)
	assert.ErrorIs(t, err, adapters.ErrNoTask, "a ctx with no task is told so")

	assert.ErrorIs(t, o.AsLock().Release(b), adapters.ErrNotOwner, "the Lock view checks ownership too")
	require.NoError(t, o.Release(a))
	assert.False(t, o.Locked())
}

func TestOwnerMutexNeedsATask(t *testing.T) {
	m := adapters.NewOwnerMutex()
	ok, err := m.Acquire(context.Background())
	assert.False(t, ok)
	assert.ErrorIs(t, err, adapters.ErrNoTask)
	assert.False(t, m.Locked())
	assert.ErrorIs(t, m.ReleaseUnchecked(context.Background()), adapters.ErrNotLocked)
	_, ok = adapters.TaskOf(context.Background())
	assert.False(t, ok)
	t1, ok := adapters.TaskOf(adapters.WithTask(context.Background()))
	require.True(t, ok)
	t2, _ := adapters.TaskOf(adapters.WithTask(context.Background()))
	assert.NotEqual(t, t1, t2)
	assert.Contains(t, t1.String(), "task-")
}

func TestOwnerMutexIsOwnerExactUnderConcurrency(t *testing.T) {
	m := adapters.NewOwnerMutex()
	var wg sync.WaitGroup
	var holders atomic.Int32
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := adapters.WithTask(context.Background())
			for range 200 {
				ok, err := m.Acquire(ctx)
				if !assert.NoError(t, err) || !assert.True(t, ok) {
					return
				}
				assert.Equal(t, int32(1), holders.Add(1))
				assert.True(t, m.IsOwner(ctx))
				assert.True(t, m.Locked())
				holders.Add(-1)
				assert.NoError(t, m.ReleaseUnchecked(ctx))
				assert.False(t, m.IsOwner(ctx))
			}
		}()
	}
	wg.Wait()
	assert.False(t, m.Locked())
}

type shyLock struct{ canonLock }

func (*shyLock) AcknowledgeLocksmith(adapters.Locksmith) bool { return false }

func TestWatchdogReportsALongHoldAndForceReleasesIt(t *testing.T) {
	var reports []adapters.Hold
	var mu sync.Mutex
	dog := adapters.NewWatchdog(10*time.Millisecond, func(h adapters.Hold) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, h)
	})
	o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
	require.NoError(t, err)
	l, err := dog.Watch(o)
	require.NoError(t, err)

	stuck := adapters.WithTask(context.Background())
	task, _ := adapters.TaskOf(stuck)
	ok, err := l.Acquire(stuck)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Empty(t, dog.Check(), "not yet over the threshold")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dog.Run(ctx, time.Millisecond) }()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) == 1 }, time.Second, time.Millisecond)
	cancel()
	<-done
	assert.Empty(t, dog.Check(), "a hold is reported once")

	h := reports[0]
	assert.Same(t, l, h.Lock)
	assert.True(t, h.HasHolder)
	assert.Equal(t, task, h.Holder)
	assert.GreaterOrEqual(t, h.For, 10*time.Millisecond)

	other := adapters.WithTask(context.Background())
	require.NoError(t, h.ForceRelease(other), "force-release bypasses the owner check")
	assert.False(t, l.Locked())
	assert.ErrorIs(t, h.ForceRelease(other), adapters.ErrNotLocked, "that hold is over")
	ok, err = l.Acquire(other)
	require.NoError(t, err)
	assert.True(t, ok)

	_, err = dog.Watch(&shyLock{})
	assert.ErrorIs(t, err, adapters.ErrDeclined)
	_, err = dog.Watch(42)
	assert.ErrorIs(t, err, validate.ErrAbstract, "the preliminary check")
	dog.Unwatch(l)
	assert.Equal(t, 10*time.Millisecond, dog.Threshold())
}

func TestWatchdogOverSyncMutex(t *testing.T) {
	var got atomic.Int32
	dog := adapters.NewWatchdog(time.Millisecond, func(h adapters.Hold) {
		got.Add(1)
		assert.False(t, h.HasHolder, "no task in the holder's ctx")
	})
	var mu sync.Mutex
	l, err := dog.Watch(&mu)
	require.NoError(t, err)
	require.NoError(t, l.Do(context.Background(), func(context.Context) error {
		time.Sleep(5 * time.Millisecond)
		assert.Len(t, dog.Check(), 1)
		return nil
	}))
	assert.Equal(t, int32(1), got.Load())
	assert.True(t, mu.TryLock())
}

func TestTaskSurvivesDerivedContexts(t *testing.T) {
	ctx := adapters.WithTask(context.Background())
	want, ok := adapters.TaskOf(ctx)
	require.True(t, ok)
	type key struct{}
	derived, cancel := context.WithTimeout(context.WithValue(ctx, key{}, 1), time.Second)
	defer cancel()
	got, ok := adapters.TaskOf(derived)
	require.True(t, ok)
	assert.Equal(t, want, got)
	assert.Equal(t, 1, derived.Value(key{}))
	cancel()
	<-derived.Done() // cancellation still propagates through the task ctx
}
