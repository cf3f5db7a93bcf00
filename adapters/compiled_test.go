package adapters_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// A proxy whose T is any over a value whose methods use a concrete X binds
// them through the rows compiled for X (RegisterType; the predeclared
// types are registered), else through reflection. The two must behave
// alike: the tests below run one script over both and compare.

// xEvent is a user event over X with the optional Wait and WaitUntil.
type xEvent[X comparable] struct {
	mu   sync.Mutex
	v    X
	set  bool
	next chan struct{}
}

func newXEvent[X comparable]() *xEvent[X] { return &xEvent[X]{next: make(chan struct{})} }

func (e *xEvent[X]) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.set = false
}

func (e *xEvent[X]) Get() (X, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.set {
		var zero X
		return zero, adapters.ErrNoValue
	}
	return e.v, nil
}

func (e *xEvent[X]) IsSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set
}

func (e *xEvent[X]) Set(v X) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.v, e.set = v, true
	close(e.next)
	e.next = make(chan struct{})
}

func (e *xEvent[X]) WaitForNext(ctx context.Context) (X, error) {
	e.mu.Lock()
	ch := e.next
	e.mu.Unlock()
	select {
	case <-ch:
		return e.Get()
	case <-ctx.Done():
		var zero X
		return zero, ctx.Err()
	}
}

func (e *xEvent[X]) WaitUntil(ctx context.Context, match func(X) bool) (X, error) {
	for {
		e.mu.Lock()
		v, set, ch := e.v, e.set, e.next
		e.mu.Unlock()
		if set && match(v) {
			return v, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			var zero X
			return zero, ctx.Err()
		}
	}
}

// xFuture is an awaitable and a context manager over X.
type xFuture[X any] struct{ v X }

func (f *xFuture[X]) Wait(context.Context) (X, error)  { return f.v, nil }
func (f *xFuture[X]) Enter(context.Context) (X, error) { return f.v, nil }
func (f *xFuture[X]) Exit(context.Context, error) (bool, error) {
	return false, nil
}

// unregistered is an int type nobody registers: bound through reflection.
type unregistered int

// script drives an Event[any], an Awaitable[any] and a Context[any] over
// values of X (whose 7 converts from int) and writes what they did, with
// X's name replaced by "X".
func script[X ~int](t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var out strings.Builder
	name := regexp.MustCompile(`\b(github\.com/gomixin/mixin/)?(adapters_test\.unregistered|int)\b`)
	say := func(format string, args ...any) {
		fmt.Fprintln(&out, name.ReplaceAllString(fmt.Sprintf(format, args...), "X"))
	}
	e, err := adapters.NewEvent[any](newXEvent[X]())
	require.NoError(t, err)
	_, err = e.Get()
	say("get empty: %v", err)
	say("set string: %v", e.TrySet("seven"))
	say("set nil: %v", e.TrySet(nil))
	say("set int64: %v", e.TrySet(int64(7)))
	say("set X: %v", e.TrySet(X(7)))
	v, err := e.Get()
	say("get: %v %T %v", v, v, err)
	v, err = e.Wait(ctx)
	say("wait: %v %T %v", v, v, err)
	say("wait for 7: %v", e.WaitForValue(ctx, X(7)))
	ended, cancel := context.WithCancel(ctx)
	cancel()
	say("wait for 8, ended: %v", e.WaitForValue(ended, X(8)))

	a, err := adapters.NewAwaitable[any](&xFuture[X]{v: 7})
	require.NoError(t, err)
	v, err = a.Await(ctx)
	say("await: %v %T %v", v, v, err)

	c, err := adapters.NewContext[any](&xFuture[X]{v: 7})
	require.NoError(t, err)
	say("do: %v", c.Do(ctx, func(_ context.Context, v any) error {
		say("entered: %v %T", v, v)
		return nil
	}))
	return out.String()
}

func TestCompiledBindingBehavesAsReflection(t *testing.T) {
	compiled, reflected := script[int](t), script[unregistered](t)
	assert.Equal(t, reflected, compiled)
	assert.Contains(t, compiled, "set string: mixin: Set on *adapters_test.xEvent[X]: a string is not a X: wrong dynamic type")
	assert.Contains(t, compiled, "get: 7 X <nil>")
}

type pluginResult struct{ n int }

type resultFuture struct{ r *pluginResult }

func (f resultFuture) Wait(context.Context) (*pluginResult, error) { return f.r, nil }

func TestRegisteredTypesAreCalledWithoutReflection(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	ctx := context.Background()
	allocs := func(a *adapters.Awaitable[any]) float64 {
		return testing.AllocsPerRun(100, func() { _, _ = a.Await(ctx) })
	}
	a, err := adapters.NewAwaitable[any](&xFuture[int]{v: 7})
	require.NoError(t, err)
	assert.Zero(t, allocs(a), "int is registered: a direct call")

	viaReflect, err := adapters.NewAwaitable[any](resultFuture{&pluginResult{1}})
	require.NoError(t, err)
	require.NotZero(t, allocs(viaReflect), "*pluginResult is not registered yet: reflection allocates")

	adapters.RegisterType[*pluginResult]()
	adapters.RegisterType[*pluginResult]() // idempotent
	compiled, err := adapters.NewAwaitable[any](resultFuture{&pluginResult{1}})
	require.NoError(t, err)
	assert.Zero(t, allocs(compiled), "registered: a direct call")
	v, err := compiled.Await(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, v.(*pluginResult).n)

	e, err := adapters.NewEvent[any](newXEvent[int]())
	require.NoError(t, err)
	e.Set(7) // (an int below 256 boxes without allocating)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = e.Get() }), "an event's Get over an int")
}

// runes is a named type whose underlying type, []int32, is unnamed: a value
// of it may be passed where a []int32 is taken.
type runes []int32

// bytesOf is a named []byte, as json.RawMessage is.
type bytesOf []byte

func TestCompiledSetTakesWhatReflectionTakes(t *testing.T) {
	// []byte is registered (compiled); []int32 is not (reflection). Each
	// Set takes a value of a named type assignable to its parameter, nil,
	// and refuses any other type, alike.
	for _, tt := range []struct {
		name    string
		event   any
		named   any
		another any
	}{
		{"compiled", adapters.NewValueEvent[[]byte](), bytesOf("x"), "x"},
		{"reflected", adapters.NewValueEvent[[]int32](), runes{'x'}, "x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := adapters.NewEvent[any](tt.event)
			require.NoError(t, err)
			require.NoError(t, e.TrySet(tt.named), "a named type assignable to the parameter")
			got, err := e.Get()
			require.NoError(t, err)
			assert.Len(t, got, 1)
			require.NoError(t, e.TrySet(nil), "nil for a slice")
			assert.ErrorIs(t, e.TrySet(tt.another), adapters.ErrType)
		})
	}
}
