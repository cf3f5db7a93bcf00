package mixin_test

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

// variadicLock has the lock methods with a variadic and an extra parameter.
type variadicLock struct{}

func (variadicLock) Acquire(ctx context.Context, opts ...int) (bool, error) { return true, nil }
func (variadicLock) Release(ctx context.Context, force bool) error          { return nil }
func (variadicLock) Locked() bool                                           { return false }

// panicky has every kind's methods, and each panics when called.
type panicky struct{}

func (panicky) Acquire(context.Context) (bool, error)    { panic("acquire") }
func (panicky) Release(context.Context) error            { panic("release") }
func (panicky) Locked() bool                             { panic("locked") }
func (panicky) Exit(error) bool                          { panic("exit") }
func (panicky) Wait(context.Context) (int, error)        { panic("wait") }
func (panicky) Clear()                                   { panic("clear") }
func (panicky) Get() (int, error)                        { panic("get") }
func (panicky) IsSet() bool                              { panic("isset") }
func (panicky) Set(int)                                  { panic("set") }
func (panicky) WaitForNext(context.Context) (int, error) { panic("next") }
func (panicky) IsOwner(context.Context) bool             { panic("owner") }
func (panicky) ReleaseUnchecked(context.Context) error   { panic("unchecked") }
func (panicky) Setup(context.Context) error              { panic("setup") }

type mapType map[string]int

func (mapType) Exit(error) {}

// constructors is every way to compose one value.
var constructors = map[string]func(v any) (any, error){
	"NewLock":        func(v any) (any, error) { return adapters.NewLock(v) },
	"NewOwnerLock":   func(v any) (any, error) { return adapters.NewOwnerLock(v) },
	"NewContext":     func(v any) (any, error) { return adapters.NewContext[any](v) },
	"NewExecContext": func(v any) (any, error) { return adapters.NewExecContext[any](v) },
	"NewAwaitable":   func(v any) (any, error) { return adapters.NewAwaitable[any](v) },
	"NewEvent":       func(v any) (any, error) { return adapters.NewEvent[any](v) },
	"NewGroup":       func(v any) (any, error) { return adapters.NewGroup(v) },
	"Compose":        func(v any) (any, error) { return mixin.New().Compose(v) },
	"Register":       func(v any) (any, error) { return mixin.New().Register("x", v) },
	"Compose+Require": func(v any) (any, error) {
		return mixin.New().Compose(v, mixin.Require(mixin.KindLock, mixin.KindEvent))
	},
	"validate.Check":   func(v any) (any, error) { return nil, validate.Check(v, adapters.LockSpec()) },
	"validate.Missing": func(v any) (any, error) { validate.Missing(v, adapters.EventSpec()); return nil, nil },
}

func TestBadInputGetsAnErrorNeverAPanic(t *testing.T) {
	inputs := []struct {
		name string
		v    any
		// ok lists the constructors that accept the value (documented
		// behaviour); every other one must return an error.
		ok []string
	}{
		{"nil", nil, []string{"NewGroup", "validate.Missing"}},
		{"typed nil pointer", (*shop.Store)(nil), []string{"validate.Missing"}},
		{"pointer-receiver value", sync.Mutex{}, []string{"validate.Missing", "NewGroup"}},
		{"int", 42, []string{"NewGroup", "validate.Missing"}},
		{"func", func() {}, []string{"NewGroup", "validate.Missing"}},
		{"chan", make(chan int), []string{"NewGroup", "validate.Missing"}},
		{"map with a method", mapType{}, []string{"NewGroup", "validate.Missing", "NewContext", "NewExecContext", "Compose", "Register"}},
		{"variadic and extra parameters", variadicLock{}, []string{"NewGroup", "validate.Missing"}},
		{"methods that panic", panicky{}, []string{"NewLock", "NewOwnerLock", "NewContext", "NewExecContext", "NewAwaitable", "NewEvent", "NewGroup", "Compose", "Register", "Compose+Require", "validate.Check", "validate.Missing"}},
	}
	for _, in := range inputs {
		for name, construct := range constructors {
			t.Run(in.name+"/"+name, func(t *testing.T) {
				var err error
				require.NotPanics(t, func() { _, err = construct(in.v) }, "composing never calls the value's methods, and never panics")
				if contains(in.ok, name) {
					assert.NoError(t, err)
					return
				}
				require.Error(t, err)
				assert.ErrorIs(t, err, validate.ErrAbstract)
				assert.NotContains(t, err.Error(), "reflect:", "a clear error, not a reflect message")
			})
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Methods that panic when called: the panic is the value's, and it goes on
// to the caller, with nothing left held or entered.
func TestPanickingMethodsPropagateAndLeaveNothingHeld(t *testing.T) {
	ctx := context.Background()
	l, err := adapters.NewLock(panicky{})
	require.NoError(t, err)
	assert.PanicsWithValue(t, "acquire", func() { _ = l.Do(ctx, func(context.Context) error { return nil }) })

	var mu sync.Mutex
	ml, err := adapters.NewLock(&mu)
	require.NoError(t, err)
	assert.Panics(t, func() { _ = ml.Do(ctx, func(context.Context) error { panic("body") }) })
	assert.True(t, mu.TryLock(), "released after the body panicked")
	mu.Unlock()

	c, err := adapters.NewContext[any](panicky{})
	require.NoError(t, err)
	assert.PanicsWithValue(t, "exit", func() { _ = c.Do(ctx, func(context.Context, any) error { return nil }) })

	ev, err := adapters.NewEvent[int](panicky{})
	require.NoError(t, err)
	assert.PanicsWithValue(t, "set", func() { ev.Set(1) })

	g, err := adapters.NewGroup(panicky{})
	require.NoError(t, err)
	assert.PanicsWithValue(t, "setup", func() { _ = g.Enter(ctx) })
}

func TestVariadicSignatureIsNamedInTheError(t *testing.T) {
	_, err := adapters.NewLock(variadicLock{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Acquire has signature func(context.Context, ...int) (bool, error)")
	assert.Contains(t, err.Error(), "Release has signature func(context.Context, bool) error")
}

func TestDefineRefusesASpecWithNilOrNonFuncShapes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape reflect.Type
		says  string
	}{
		{"nil shape", nil, "shape 0 is nil"},
		{"non-func shape", reflect.TypeFor[int](), "shape 0 is int"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := validate.Spec{Methods: []validate.Method{{Name: "Exit", Shapes: []reflect.Type{tc.shape}}}}
			c := mixin.New()
			err := c.Registry().Define("exiter", spec, nil)
			require.ErrorIs(t, err, validate.ErrBadSpec)
			assert.ErrorContains(t, err, tc.says)
			f := &shop.Gate{}
			assert.NotPanics(t, func() {
				_, err = c.Compose(f)
			}, "the kind was never defined, so nothing later can trip on it")
			assert.NoError(t, err)
			// validate on its own never panics on such a spec either.
			assert.NotPanics(t, func() {
				assert.ErrorIs(t, validate.Check(f, spec), validate.ErrBadSpec)
				_, err := validate.Bind(f, spec)
				assert.ErrorIs(t, err, validate.ErrBadSpec)
				assert.False(t, validate.Satisfies(f, spec))
				assert.Equal(t, []string{"Exit"}, validate.Missing(f, spec))
			})
		})
	}
}

// A nil *Composite (what Compose returns with its error) answers every
// accessor as a composite with nothing attached: no method panics. The
// methods are found by reflection, so a new accessor is covered.
func TestNilCompositeAnswersEveryMethod(t *testing.T) {
	var c *mixin.Composite
	rv := reflect.ValueOf(c)
	for i := range rv.NumMethod() {
		m := rv.Type().Method(i)
		t.Run(m.Name, func(t *testing.T) {
			args := []reflect.Value{}
			for j := 1; j < m.Type.NumIn(); j++ {
				args = append(args, reflect.Zero(m.Type.In(j)))
			}
			var out []reflect.Value
			require.NotPanics(t, func() { out = rv.Method(i).Call(args) })
			for _, o := range out {
				if o.Kind() == reflect.Bool {
					assert.False(t, o.Bool())
				}
			}
		})
	}
	assert.Nil(t, c.Value())
	assert.Empty(t, c.Kinds())
}
