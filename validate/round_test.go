package validate_test

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/validate"
)

// waitSpec is an awaitable-like spec that refuses *sync.Cond.
func waitSpec() validate.Spec {
	return validate.Spec{
		Name:    "waiter",
		Methods: []validate.Method{{Name: "Wait", Shapes: []reflect.Type{validate.Shape[func()]()}}},
		Refused: []validate.Refusal{{Type: reflect.TypeFor[*sync.Cond](), Why: "a Cond's Wait needs its L held"}},
	}
}

type (
	condEmbed    struct{ *sync.Cond }
	condValEmbed struct{ sync.Cond }
	condDeep     struct{ condEmbed }
	condOwn      struct{ *sync.Cond }
	plainWaiter  struct{}
)

func (condOwn) Wait()     {}
func (plainWaiter) Wait() {}

func TestRefusalFollowsAMethodToTheTypeThatDeclaresIt(t *testing.T) {
	cond := sync.NewCond(&sync.Mutex{})
	for _, tc := range []struct {
		name    string
		v       any
		refused bool
	}{
		{"*sync.Cond", cond, true},
		{"embedded *sync.Cond, pointer", &condEmbed{cond}, true},
		{"embedded *sync.Cond, value", condEmbed{cond}, true},
		{"embedded sync.Cond value, pointer", &condValEmbed{}, true},
		{"embedded twice", &condDeep{condEmbed{cond}}, true},
		{"a Wait of its own over an embedded Cond", &condOwn{cond}, false},
		{"a plain waiter", plainWaiter{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validate.Check(tc.v, waitSpec())
			if !tc.refused {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, validate.ErrAbstract)
			assert.Contains(t, err.Error(), "a Cond's Wait needs its L held")
		})
	}
}

func TestSpecValidateNamesEveryProblem(t *testing.T) {
	good := validate.Shape[func()]()
	bad := validate.Spec{
		Name: "broken",
		Methods: []validate.Method{
			{Name: "", Shapes: []reflect.Type{good}},
			{Name: "NoShapes"},
			{Name: "Nil", Shapes: []reflect.Type{nil}},
			{Name: "Int", Shapes: []reflect.Type{reflect.TypeFor[int]()}},
		},
		Alternatives: []validate.Spec{{Name: "alt", Methods: []validate.Method{{Name: "A", Shapes: []reflect.Type{nil}}}}},
		Refused:      []validate.Refusal{{Why: "no type"}},
	}
	err := bad.Validate()
	require.ErrorIs(t, err, validate.ErrBadSpec)
	for _, want := range []string{"method 0 has no name", "method NoShapes has no shapes",
		"method Nil: shape 0 is nil", "method Int: shape 0 is int", "alternative alt: method A: shape 0 is nil",
		"refusal 0 has no type"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NoError(t, waitSpec().Validate())
	assert.ErrorIs(t, validate.Check(plainWaiter{}, bad), validate.ErrBadSpec)
	assert.False(t, validate.Satisfies(plainWaiter{}, bad))
}

// awaited is a shape's result that stands for any type with Done.
type awaited interface {
	validate.Result
	Done() <-chan struct{}
}

type (
	task       struct{}
	badTask    struct{}
	goodStop   struct{}
	badStop    struct{}
	stopSpecOk struct{}
)

func (*task) Done() <-chan struct{}  { return nil }
func (*badTask) Done() chan struct{} { return nil }
func (goodStop) Stop() *task         { return nil }
func (badStop) Stop() *badTask       { return nil }
func (stopSpecOk) Stop() awaited     { return nil }

func TestAResultShapeStandsForAnyTypeWithItsMethods(t *testing.T) {
	spec := validate.Spec{Name: "stopper", Methods: []validate.Method{
		{Name: "Stop", Shapes: []reflect.Type{validate.Shape[func() awaited]()}},
	}}
	assert.NoError(t, validate.Check(goodStop{}, spec))
	assert.NoError(t, validate.Check(stopSpecOk{}, spec))
	err := validate.Check(badStop{}, spec)
	require.ErrorIs(t, err, validate.ErrAbstract)
	assert.Contains(t, err.Error(), "interface { Done() <-chan struct {} }", "the shape is written as the methods it asks for")
}

func TestAPointerToAnInterfaceSaysToDereference(t *testing.T) {
	var v any = plainWaiter{}
	err := validate.Check(&v, waitSpec())
	require.ErrorIs(t, err, validate.ErrAbstract)
	assert.Contains(t, err.Error(), "compose *p")
	var empty any
	assert.Contains(t, validate.Check(&empty, waitSpec()).Error(), "it holds nil")
	var ae *validate.AbstractError
	require.True(t, errors.As(err, &ae))
	for _, p := range ae.Problems {
		assert.True(t, p.Near(), "a pointer to an interface was meant to be composed")
	}
}
