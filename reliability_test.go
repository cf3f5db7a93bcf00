package mixin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/stresstest"
	"github.com/gomixin/mixin/validate"
)

// The registry and message items of issue 16; each failed before its fix.

// adaptee is a type with no methods, adapted by hand; not zero-sized, so that
// each value has an address of its own.
type adaptee struct{ _ int }

// adaptedLock is a hand-written lock adapter for adaptee.
type adaptedLock struct{ mu sync.Mutex }

func (a *adaptedLock) Lock()   { a.mu.Lock() }
func (a *adaptedLock) Unlock() { a.mu.Unlock() }

type adaptedCloser struct{}

func (adaptedCloser) Close() error { return nil }

// Item 2: Adapt while another goroutine composes the adapted type.
func TestAdaptConcurrentWithCompose(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[*adaptee]()
	for range 200 {
		c := mixin.New()
		require.NoError(t, c.Registry().Adapt(typ, mixin.KindLock, func(any) (any, error) { return &adaptedLock{}, nil }))
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			assert.NoError(t, c.Registry().Adapt(typ, mixin.KindContext, func(any) (any, error) { return adaptedCloser{}, nil }))
			assert.NoError(t, c.Registry().Define("user-kind", validate.Spec{Methods: []validate.Method{{Name: "Nope", Shapes: []reflect.Type{validate.Shape[func()]()}}}}, nil))
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				comp, err := c.Compose(&adaptee{})
				if assert.NoError(t, err) {
					assert.True(t, comp.Has(mixin.KindLock))
				}
			}
		}()
		wg.Wait()
	}
}

// Item 17: Only of a kind derived from another builds the other.
func TestOnlyLockOnAnOwnerMutex(t *testing.T) {
	comp, err := mixin.New().Compose(adapters.NewOwnerMutex(), mixin.Only(mixin.KindLock))
	require.NoError(t, err, "an owner lock is a lock")
	assert.Equal(t, []mixin.Kind{mixin.KindLock}, comp.Kinds())
	l, ok := comp.Lock()
	require.True(t, ok)
	ctx := adapters.WithTask(context.Background())
	require.NoError(t, l.Do(ctx, func(context.Context) error { return nil }))
	assert.ErrorIs(t, l.Release(adapters.WithTask(context.Background())), adapters.ErrNotOwner, "the derived lock checks ownership")

	comp, err = mixin.New().Compose(adapters.NewOwnerMutex(), mixin.Require(mixin.KindLock), mixin.Only(mixin.KindLock))
	require.NoError(t, err)
	assert.Equal(t, []mixin.Kind{mixin.KindLock}, comp.Kinds())
}

// Item 17: an adapter that fails or returns nil is named.
func TestFailingAdapterIsNamed(t *testing.T) {
	typ := reflect.TypeFor[*adaptee]()
	for _, tc := range []struct {
		name  string
		adapt mixin.AdaptFunc
		want  string
	}{
		{"fails", func(any) (any, error) { return nil, errors.New("no backend") }, "the adapter of *mixin_test.adaptee as lock failed: no backend"},
		{"nil", func(any) (any, error) { return nil, nil }, "the adapter of *mixin_test.adaptee as lock returned nil"},
		{"nil pointer", func(any) (any, error) { return (*adaptedLock)(nil), nil }, "the adapter of *mixin_test.adaptee as lock returned nil (*mixin_test.adaptedLock)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mixin.New()
			require.NoError(t, c.Registry().Adapt(typ, mixin.KindLock, tc.adapt))
			_, err := c.Compose(&adaptee{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			_, err = c.Compose(&adaptee{}, mixin.Require(mixin.KindLock))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// Item 17: Spec returns a copy; Adapt refuses an interface type.
func TestRegistrySpecIsACopy(t *testing.T) {
	r := mixin.NewRegistry()
	s, ok := r.Spec(mixin.KindLock)
	require.True(t, ok)
	s.Methods[0].Name = "Edited"
	s.Methods[0].Shapes[0] = nil
	s.Alternatives[0].Methods[0].Name = "Edited"
	again, _ := r.Spec(mixin.KindLock)
	assert.Equal(t, "Acquire", again.Methods[0].Name)
	assert.NotNil(t, again.Methods[0].Shapes[0])
	assert.Equal(t, "Lock", again.Alternatives[0].Methods[0].Name)
	var mu sync.Mutex
	_, err := mixin.New(mixin.WithRegistry(r)).Compose(&mu, mixin.Require(mixin.KindLock))
	assert.NoError(t, err, "editing the returned spec changed the built-in kind")
}

func TestAdaptRefusesAnInterfaceType(t *testing.T) {
	err := mixin.NewRegistry().Adapt(reflect.TypeFor[io.Reader](), mixin.KindContext, func(v any) (any, error) { return v, nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "io.Reader is an interface type")
}

// Item 17: the messages that misled.
type setOnly struct{}

func (setOnly) Clear()                                   {}
func (setOnly) Get() (int, error)                        { return 0, nil }
func (setOnly) Set(int)                                  {}
func (setOnly) WaitForNext(context.Context) (int, error) { return 0, nil }

type ctxLockPlainUnlock struct{}

func (ctxLockPlainUnlock) Lock(context.Context) error { return nil }
func (ctxLockPlainUnlock) Unlock()                    {}

func TestMessagesThatMisled(t *testing.T) {
	err := validate.Check(setOnly{}, adapters.EventSpec())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing abstract method IsSet")
	assert.NotContains(t, err.Error(), "but does have method Set", "Set serves Set, it is no near miss for IsSet")

	_, err = mixin.New().Compose(ctxLockPlainUnlock{}, mixin.Require(mixin.KindLock))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Unlock has signature func(), want func(context.Context) error",
		"a value with Lock(ctx) is a ctx locker whose Unlock lacks ctx, not a sync.Locker")

	// sync.Mutex{} as a value: its methods have pointer receivers.
	assert.Equal(t, []string{"Lock", "Unlock"}, validate.Missing(reflect.Zero(reflect.TypeFor[sync.Mutex]()).Interface(), adapters.LockSpec()),
		"optional TryLock is not an abstract method")
}

// The stress set-up for Adapt and Define while other goroutines compose:
// every Compose that starts after an Adapt returned sees its adapter.
func TestStressAdaptAndDefineDuringCompose(t *testing.T) {
	d := stresstest.Duration(t)
	types := []reflect.Type{reflect.TypeFor[*adaptee](), reflect.TypeFor[*adaptedCloser](), reflect.TypeFor[*ctxLockPlainUnlock]()}
	values := []any{&adaptee{}, &adaptedCloser{}, &ctxLockPlainUnlock{}}
	lock := func(any) (any, error) { return &adaptedLock{}, nil }
	var composes, adapts int
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		c := mixin.New()
		var adapted [3]atomic.Bool
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i, typ := range types {
				assert.NoError(t, c.Registry().Adapt(typ, mixin.KindLock, lock))
				adapted[i].Store(true)
				assert.NoError(t, c.Registry().Define(mixin.Kind(fmt.Sprintf("user-%d", i)),
					validate.Spec{Methods: []validate.Method{{Name: "Nope", Shapes: []reflect.Type{validate.Shape[func()]()}}}}, nil))
			}
		}()
		go func() {
			defer wg.Done()
			for n := range 60 {
				i := n % len(values)
				was := adapted[i].Load()
				comp, err := c.Compose(values[i])
				if was && assert.NoError(t, err) {
					assert.True(t, comp.Has(mixin.KindLock), "an Adapt that returned before Compose began was not seen")
				}
				composes++
			}
		}()
		wg.Wait()
		adapts += len(types)
	}
	t.Logf("registry/Adapt and Define during Compose: %d composes beside %d adapts in %v; every adapter seen once declared", composes, adapts, d)
}
