package adapters_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

func TestValueEventSetWakesEveryWaiter(t *testing.T) {
	e := adapters.NewValueEvent[int]()
	const n = 250
	var ready sync.WaitGroup
	var wg sync.WaitGroup
	got := make([]int, n)
	for i := range n {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ready.Done()
			v, err := e.WaitForNext(ctx)
			assert.NoError(t, err)
			got[i] = v
		}()
	}
	ready.Wait()
	time.Sleep(10 * time.Millisecond) // let the waiters block
	e.Set(42)
	wg.Wait()
	for i, v := range got {
		assert.Equal(t, 42, v, "waiter %d", i)
	}
}

func TestValueEventWaitForNextBlocksWhileSet(t *testing.T) {
	e := adapters.NewValueEvent[string]()
	e.Set("old")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := e.WaitForNext(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a held value does not satisfy WaitForNext")

	done := make(chan string)
	go func() {
		v, _ := e.WaitForNext(context.Background())
		done <- v
	}()
	time.Sleep(5 * time.Millisecond)
	e.Set("new")
	assert.Equal(t, "new", <-done)
}

func TestValueEventGetClearIsSet(t *testing.T) {
	e := adapters.NewValueEvent[int]()
	_, err := e.Get()
	assert.ErrorIs(t, err, adapters.ErrNoValue)
	assert.False(t, e.IsSet())
	e.Set(0)
	v, err := e.Get()
	require.NoError(t, err)
	assert.Equal(t, 0, v, "a zero value is a value")
	assert.True(t, e.IsSet())
	e.Clear()
	assert.False(t, e.IsSet())
	_, err = e.Get()
	assert.ErrorIs(t, err, adapters.ErrNoValue)

	var zero adapters.ValueEvent[int] // the zero value is ready
	zero.Set(1)
	v, _ = zero.Get()
	assert.Equal(t, 1, v)
}

func TestEventWaitReturnsHeldValueElseNext(t *testing.T) {
	ev, err := adapters.NewEvent[int](adapters.NewValueEvent[int]())
	require.NoError(t, err)
	done := make(chan int)
	go func() { v, _ := ev.Wait(context.Background()); done <- v }()
	time.Sleep(5 * time.Millisecond)
	ev.Set(5)
	assert.Equal(t, 5, <-done)
	v, err := ev.Await(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 5, v, "held: Wait returns at once")
}

func TestEventWaitForValue(t *testing.T) {
	ev, err := adapters.NewEvent[int](adapters.NewValueEvent[int]())
	require.NoError(t, err)
	done := make(chan error)
	go func() { done <- ev.WaitForValue(context.Background(), 3) }()
	for i := 1; i <= 3; i++ {
		time.Sleep(2 * time.Millisecond)
		ev.Set(i)
	}
	assert.NoError(t, <-done)
	assert.NoError(t, ev.WaitForValue(context.Background(), 3), "already held")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = ev.WaitForValue(ctx, 9)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	v, _ := ev.Get()
	assert.Equal(t, 3, v, "without SetAtTimeout nothing is set")
}

func TestEventWaitForValueSetAtTimeoutWakesWaiters(t *testing.T) {
	ev, err := adapters.NewEvent[int](adapters.NewValueEvent[int]())
	require.NoError(t, err)
	woken := make(chan int)
	go func() { v, _ := ev.WaitForNext(context.Background()); woken <- v }()
	time.Sleep(2 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = ev.WaitForValue(ctx, 7, adapters.SetAtTimeout[int]())
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the deadline error is still returned")
	assert.Equal(t, 7, <-woken, "every waiter was woken with the value")
	v, err := ev.Get()
	require.NoError(t, err)
	assert.Equal(t, 7, v, "the value persists")

	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	assert.ErrorIs(t, ev.WaitForValue(cctx, 8, adapters.SetAtTimeout[int]()), context.Canceled)
	v, _ = ev.Get()
	assert.Equal(t, 7, v, "a cancel is not a timeout: nothing set")
}

func TestEventWaitForValueEquality(t *testing.T) {
	ev, err := adapters.NewEvent[[]int](adapters.NewValueEvent[[]int]())
	require.NoError(t, err)
	err = ev.WaitForValue(context.Background(), []int{1})
	assert.ErrorIs(t, err, adapters.ErrNotComparable, "a clear error, not a panic")

	ev.Set([]int{1, 2})
	err = ev.WaitForValue(context.Background(), []int{1, 2}, adapters.WithEqual(slices.Equal[[]int]))
	assert.NoError(t, err)

	anyEv, err := adapters.NewEvent[any](adapters.NewValueEvent[any]())
	require.NoError(t, err)
	anyEv.Set([]int{1})
	assert.ErrorIs(t, anyEv.WaitForValue(context.Background(), []int{1}), adapters.ErrNotComparable)
	anyEv.Set("x")
	assert.NoError(t, anyEv.WaitForValue(context.Background(), "x"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	go func() { time.Sleep(time.Millisecond); anyEv.Set([]int{2}) }()
	assert.ErrorIs(t, anyEv.WaitForValue(ctx, "y"), context.DeadlineExceeded, "an uncomparable value set meanwhile compares unequal, no panic")
}

func TestEventStreamSeesEverySetInOrder(t *testing.T) {
	ve := adapters.NewValueEvent[int]()
	ev, err := adapters.NewEvent[int](ve)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	started := make(chan struct{})
	go func() {
		<-started
		for i := 1; i <= 20; i++ {
			ev.Set(i)
			if i%5 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var got []int
	for v := range streamStarting(ev, ctx, started) {
		got = append(got, v)
		if v == 20 {
			break
		}
		time.Sleep(100 * time.Microsecond) // a slow consumer misses nothing
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, got)
}

// streamStarting runs the stream and, shortly after it has registered its
// waiter, signals the setter to start.
func streamStarting(ev *adapters.Event[int], ctx context.Context, started chan struct{}) func(func(int) bool) {
	seq := ev.Stream(ctx)
	return func(yield func(int) bool) {
		go func() { time.Sleep(5 * time.Millisecond); close(started) }()
		seq(yield)
	}
}

func TestEventStreamEndsWithCtxAndBreak(t *testing.T) {
	ev, err := adapters.NewEvent[int](adapters.NewValueEvent[int]())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	n := 0
	for range ev.Stream(ctx) {
		n++
	}
	assert.Zero(t, n, "ctx ended with nothing set")
}

// userEvent is a user-written event: Get reports presence with a bool, and
// it has no Wait of its own, so the proxy derives one.
type userEvent struct {
	mu    sync.Mutex
	v     int
	set   bool
	waits []chan int
}

func (u *userEvent) Clear() { u.mu.Lock(); u.set = false; u.mu.Unlock() }
func (u *userEvent) Get() (int, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.v, u.set
}
func (u *userEvent) IsSet() bool { u.mu.Lock(); defer u.mu.Unlock(); return u.set }
func (u *userEvent) Set(v int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.v, u.set = v, true
	for _, w := range u.waits {
		w <- v
	}
	u.waits = nil
}
func (u *userEvent) WaitForNext(ctx context.Context) (int, error) {
	ch := make(chan int, 1)
	u.mu.Lock()
	u.waits = append(u.waits, ch)
	u.mu.Unlock()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

type halfEvent struct{ userEvent }

func (*halfEvent) WaitForNext() {} // wrong shape

func TestUserEventComposedAndValidated(t *testing.T) {
	u := &userEvent{}
	ev, err := adapters.NewEvent[int](u)
	require.NoError(t, err)
	_, err = ev.Get()
	assert.ErrorIs(t, err, adapters.ErrNoValue, "Get() (T, false) becomes ErrNoValue")
	done := make(chan int)
	go func() { v, _ := ev.Wait(context.Background()); done <- v }()
	require.Eventually(t, func() bool { u.mu.Lock(); defer u.mu.Unlock(); return len(u.waits) == 1 }, time.Second, time.Millisecond)
	ev.Set(11)
	assert.Equal(t, 11, <-done)
	v, err := ev.Wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 11, v)

	_, err = adapters.NewEvent[int](&halfEvent{})
	require.ErrorIs(t, err, validate.ErrAbstract)
	assert.EqualError(t, err, "mixin: can't compose *adapters_test.halfEvent as event: WaitForNext has signature func(), want func(context.Context) (int, error)")

	_, err = adapters.NewEvent[int](&shop.Session{})
	var ae *validate.AbstractError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, []string{"Clear", "Get", "IsSet", "Set", "WaitForNext"}, ae.Missing)
}

func TestEventOfAnyOverAConcreteSet(t *testing.T) {
	ev, err := adapters.NewEvent[any](&userEvent{})
	require.NoError(t, err)
	require.NoError(t, ev.TrySet(4))
	v, err := ev.Get()
	require.NoError(t, err)
	assert.Equal(t, 4, v)

	err = ev.TrySet("four")
	assert.ErrorIs(t, err, adapters.ErrType)
	assert.EqualError(t, err, "mixin: Set on *adapters_test.userEvent: a string is not a int: wrong dynamic type")
	assert.NotPanics(t, func() { ev.Set("four") })
	assert.ErrorIs(t, ev.Err(), adapters.ErrType, "Set reports through Err")
	v, _ = ev.Get()
	assert.Equal(t, 4, v, "nothing was set")
}

func TestEventAsAwaitable(t *testing.T) {
	ev, err := adapters.NewEvent[int](adapters.NewValueEvent[int]())
	require.NoError(t, err)
	a := ev.AsAwaitable()
	ev.Set(8)
	v, err := a.Await(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 8, v)
}

func TestZeroEventIsAnErrorNotAPanic(t *testing.T) {
	var e *adapters.Event[int]
	_, err := e.Wait(context.Background())
	assert.ErrorIs(t, err, adapters.ErrUnusable)
	assert.ErrorIs(t, e.TrySet(1), adapters.ErrUnusable)
	assert.NotPanics(t, func() { e.Set(1); e.Clear() })
	assert.False(t, e.IsSet())
	assert.ErrorIs(t, e.WaitForValue(context.Background(), 1), adapters.ErrUnusable)
	for range e.Stream(context.Background()) {
		t.Fatal("a zero event streams nothing")
	}
	assert.Nil(t, e.AsAwaitable())
}

func TestValueEventConcurrentSetsAndWaits(t *testing.T) {
	e := adapters.NewValueEvent[int]()
	var waiters, setters sync.WaitGroup
	var woke atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for range 50 {
		waiters.Add(1)
		setters.Add(1)
		go func() {
			defer waiters.Done()
			if _, err := e.Wait(ctx); err == nil {
				woke.Add(1)
			}
		}()
		go func() {
			defer setters.Done()
			e.Set(1)
			e.Clear()
		}()
	}
	setters.Wait()
	e.Set(2) // wakes whoever still waits; later Waits see the value held
	waiters.Wait()
	assert.Equal(t, int32(50), woke.Load(), "no waiter lost a wake-up")
	assert.False(t, errors.Is(ctx.Err(), context.DeadlineExceeded))
}

// Over an event without a Stream of its own, the proxy streams by waiting
// for each next Set; a setter that waits for the stream to be waiting again
// sees every value arrive, and breaking out leaves no waiter behind.
func TestEventStreamOverAUserEvent(t *testing.T) {
	u := &userEvent{}
	ev, err := adapters.NewEvent[int](u)
	require.NoError(t, err)
	waiting := func() bool { u.mu.Lock(); defer u.mu.Unlock(); return len(u.waits) == 1 }
	go func() {
		for i := 1; i <= 5; i++ {
			if !assert.Eventually(t, waiting, 5*time.Second, 100*time.Microsecond) {
				return
			}
			ev.Set(i)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []int
	for v := range ev.Stream(ctx) {
		got = append(got, v)
		if v == 5 {
			break
		}
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5}, got)

	short, cancelShort := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancelShort()
	for range ev.Stream(short) {
		t.Fatal("nothing is set after the stream starts")
	}
}
