package adapters_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// leased is a lease-backed lock in the canonical shape, as the contrib
// modules' handles are: one hold at a time, the holding task recorded, a Lost
// channel per hold that lose closes (as a lease that could not be refreshed
// would).
type leased struct {
	gate chan struct{}
	mu   sync.Mutex
	held bool
	task adapters.Task
	lost chan struct{}
}

func newLeased() *leased { return &leased{gate: make(chan struct{}, 1)} }

func (l *leased) Acquire(ctx context.Context) (bool, error) {
	select {
	case l.gate <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held, l.lost = true, make(chan struct{})
	l.task, _ = adapters.TaskOf(ctx)
	return true, nil
}

func (l *leased) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.lost)
}

func (l *leased) Lost() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return nil
	}
	return l.lost
}

func (l *leased) isLost() bool {
	select {
	case <-l.lost:
		return true
	default:
		return false
	}
}

func (l *leased) Release(ctx context.Context) error { return l.ReleaseUnchecked(ctx) }

func (l *leased) ReleaseUnchecked(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return adapters.ErrNotLocked
	}
	l.held = false
	<-l.gate
	if l.isLost() {
		return adapters.ErrLockLost
	}
	return nil
}

func (l *leased) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held && !l.isLost()
}

func (l *leased) IsOwner(ctx context.Context) bool {
	task, _ := adapters.TaskOf(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held && !l.isLost() && task == l.task
}

func TestLockDoCancelsBodyWhenLeaseIsLost(t *testing.T) {
	l := newLeased()
	proxy, err := adapters.NewLock(l)
	require.NoError(t, err)

	var cause error
	err = proxy.Do(context.Background(), func(ctx context.Context) error {
		l.lose()
		select {
		case <-ctx.Done():
			cause = context.Cause(ctx)
			return ctx.Err()
		case <-time.After(5 * time.Second):
			return errors.New("the body's ctx was not cancelled when the lease was lost")
		}
	})
	assert.ErrorIs(t, cause, adapters.ErrLockLost, "the cause of the body's cancellation")
	assert.ErrorIs(t, err, context.Canceled, "Do returns the body's error")
	assert.ErrorIs(t, err, adapters.ErrLockLost, "joined with the release's")
	assert.False(t, l.Locked())
}

func TestLockDoWithLeaseKeepsBodyCtxWhileHeld(t *testing.T) {
	l := newLeased()
	proxy, err := adapters.NewLock(l)
	require.NoError(t, err)
	for range 3 { // each hold has its own channel; nothing is left running
		err = proxy.Do(context.Background(), func(ctx context.Context) error { return ctx.Err() })
		require.NoError(t, err)
	}
}

func TestOwnerLockReleaseAfterLostLeaseReportsLoss(t *testing.T) {
	l := newLeased()
	o, err := adapters.NewOwnerLock(l)
	require.NoError(t, err)
	owner, other := adapters.WithTask(context.Background()), adapters.WithTask(context.Background())
	ok, err := o.Acquire(owner)
	require.True(t, ok)
	require.NoError(t, err)

	assert.ErrorIs(t, o.Release(other), adapters.ErrNotOwner, "before the loss, another task is refused")
	l.lose()
	assert.False(t, o.IsOwner(owner), "a lost lease is nobody's")
	err = o.Release(owner)
	assert.ErrorIs(t, err, adapters.ErrLockLost, "the release reports the loss, not ErrNotOwner")
	assert.NotErrorIs(t, err, adapters.ErrNotOwner)

	ok, err = o.Acquire(other) // the hold was freed
	require.NoError(t, err)
	assert.True(t, ok)
	assert.NoError(t, o.Release(other))
}

// fallible is an event whose Set and Clear can fail, as a distributed
// event's do when its server is away.
type fallible struct {
	*adapters.ValueEvent[int]
	down bool
}

var errDown = errors.New("server away")

func (f *fallible) Set(v int) error {
	if f.down {
		return errDown
	}
	f.ValueEvent.Set(v)
	return nil
}

func (f *fallible) Clear() error {
	if f.down {
		return errDown
	}
	f.ValueEvent.Clear()
	return nil
}

func TestEventOverFallibleSetAndClearReturnsTheirErrors(t *testing.T) {
	f := &fallible{ValueEvent: adapters.NewValueEvent[int]()}
	e, err := adapters.NewEvent[int](f)
	require.NoError(t, err)

	require.NoError(t, e.TrySet(1))
	got, err := e.Get()
	require.NoError(t, err)
	assert.Equal(t, 1, got)

	f.down = true
	assert.ErrorIs(t, e.TrySet(2), errDown)
	assert.ErrorIs(t, e.TryClear(), errDown)
	assert.NoError(t, e.Err(), "Try* return their errors without keeping them")
	e.Set(3)
	assert.ErrorIs(t, e.Err(), errDown, "Set keeps the error it cannot return")

	f.down = false
	e.Clear()
	assert.False(t, e.IsSet())
}

// fallibleString is a fallible event of a concrete type, for an Event[any].
type fallibleString struct {
	*adapters.ValueEvent[string]
	down bool
}

func (f *fallibleString) Set(v string) error {
	if f.down {
		return errDown
	}
	f.ValueEvent.Set(v)
	return nil
}

func TestEventAnyOverFallibleSetOfConcreteType(t *testing.T) {
	f := &fallibleString{ValueEvent: adapters.NewValueEvent[string]()}
	e, err := adapters.NewEvent[any](f)
	require.NoError(t, err)
	require.NoError(t, e.TrySet("a"))
	assert.ErrorIs(t, e.TrySet(1), adapters.ErrType)
	f.down = true
	assert.ErrorIs(t, e.TrySet("b"), errDown)
	got, err := e.Get()
	require.NoError(t, err)
	assert.Equal(t, "a", got)
}

// stringEvent is what untilOnly shows of a ValueEvent: its exported event
// methods only, as a distributed event of another package has them.
type stringEvent interface {
	Clear()
	Get() (string, error)
	IsSet() bool
	Set(string)
	WaitForNext(context.Context) (string, error)
	WaitUntil(context.Context, func(string) bool) (string, error)
}

// untilOnly is an event of strings whose WaitUntil checks and waits in one
// step, counting its calls, as a distributed event's does.
type untilOnly struct {
	stringEvent
	calls atomic.Int32
}

func (u *untilOnly) WaitUntil(ctx context.Context, match func(string) bool) (string, error) {
	u.calls.Add(1)
	return u.stringEvent.WaitUntil(ctx, match)
}

func TestEventAnyUsesWaitUntilOfConcreteType(t *testing.T) {
	u := &untilOnly{stringEvent: adapters.NewValueEvent[string]()}
	e, err := adapters.NewEvent[any](u)
	require.NoError(t, err)
	u.Set("ready")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	require.NoError(t, e.WaitForValue(ctx, "ready"))
	assert.Equal(t, int32(1), u.calls.Load(), "WaitForValue went through the value's WaitUntil")

	done := make(chan error, 1)
	go func() { done <- e.WaitForValue(ctx, "later") }()
	time.Sleep(10 * time.Millisecond)
	u.Set("later")
	require.NoError(t, <-done)
}
