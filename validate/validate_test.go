package validate_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockSpec mirrors the lock kind's spec, kept here so that validate's tests
// do not depend on adapters.
var lockSpec = validate.Spec{
	Name: "lock",
	Methods: []validate.Method{
		{Name: "Acquire", Shapes: []reflect.Type{
			validate.Shape[func(context.Context) (bool, error)](),
			validate.Shape[func(context.Context) error](),
			validate.Shape[func() bool](),
			validate.Shape[func()](),
		}, Hints: []string{"Lock"}},
		{Name: "Release", Shapes: []reflect.Type{
			validate.Shape[func(context.Context) error](),
			validate.Shape[func() error](),
			validate.Shape[func()](),
		}, Hints: []string{"Unlock"}},
		{Name: "Locked", Shapes: []reflect.Type{validate.Shape[func() bool]()}},
	},
	Alternatives: []validate.Spec{{
		Name: "sync.Locker",
		Methods: []validate.Method{
			{Name: "Lock", Shapes: []reflect.Type{validate.Shape[func()]()}},
			{Name: "Unlock", Shapes: []reflect.Type{validate.Shape[func()]()}},
		},
	}},
}

var eventSpec = validate.Spec{
	Name: "event",
	Methods: []validate.Method{
		{Name: "Get", Shapes: []reflect.Type{validate.Shape[func() (validate.T, error)]()}},
		{Name: "Set", Shapes: []reflect.Type{validate.Shape[func(validate.T)]()}},
	},
}

type intEvent struct{ v int }

func (e *intEvent) Get() (int, error) { return e.v, nil }
func (e *intEvent) Set(v int)         { e.v = v }

type mixedEvent struct{}

func (mixedEvent) Get() (int, error) { return 0, nil }
func (mixedEvent) Set(string)        {}

func TestCheckMessages(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"wrong signature, missing, hint", &shop.Cache{}, "mixin: can't compose *shop.Cache as lock: missing abstract methods Release (but does have method Unlock), Locked; " +
			"Acquire has signature func() int, want func(context.Context) (bool, error) or one of func(context.Context) error | func() bool | func()"},
		{"closest alternative form", new(unlockOnly), "mixin: can't compose *validate_test.unlockOnly as lock (as sync.Locker): missing abstract method Lock"},
		{"pointer receiver", shop.Store{}, "mixin: can't compose shop.Store as lock: methods Acquire, Release, Locked have pointer receivers (compose &v, a *shop.Store)"},
		{"typo", shop.Typo{}, "mixin: can't compose shop.Typo as lock: missing abstract method Release (Relase: did you mean Release?)"},
		{"int", 42, "mixin: can't compose int as lock: missing abstract methods Acquire, Release, Locked, or instead Lock and Unlock (sync.Locker)"},
		{"func", func() {}, "mixin: can't compose func() as lock: missing abstract methods Acquire, Release, Locked, or instead Lock and Unlock (sync.Locker)"},
		{"chan", make(chan int), "mixin: can't compose chan int as lock: missing abstract methods Acquire, Release, Locked, or instead Lock and Unlock (sync.Locker)"},
		{"nil", nil, "mixin: can't compose nil as lock: value is nil"},
		{"typed nil", (*shop.Store)(nil), "mixin: can't compose (*shop.Store)(nil) as lock: value is a nil pointer"},
		{"T conflict", mixedEvent{}, "mixin: can't compose validate_test.mixedEvent as event: Set has signature func(string), want func(int) (T is int (from Get))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate.Check(tt.v, pick(tt.v)...)
			require.Error(t, err)
			assert.ErrorIs(t, err, validate.ErrAbstract)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func pick(v any) []validate.Spec {
	if _, ok := v.(mixedEvent); ok {
		return []validate.Spec{eventSpec}
	}
	return []validate.Spec{lockSpec}
}

type unlockOnly struct{}

func (*unlockOnly) Unlock() {}

func TestCheckReportsTheClosestForm(t *testing.T) {
	// *shop.Cache has Acquire and Unlock: 1 method of each form by name; on a
	// tie the main form is reported. *unlockOnly has only Unlock: the
	// sync.Locker form is closer.
	var ae *validate.AbstractError
	require.ErrorAs(t, validate.Check(&shop.Cache{}, lockSpec), &ae)
	assert.Equal(t, "", ae.Problems[0].Form)
	require.ErrorAs(t, validate.Check(new(unlockOnly), lockSpec), &ae)
	assert.Equal(t, "sync.Locker", ae.Problems[0].Form)
	assert.Equal(t, []string{"Lock"}, ae.Missing)
}

func TestCheckSignatureAndHintOnMainForm(t *testing.T) {
	err := validate.Check(&shop.Cache{}, lockSpec)
	require.Error(t, err)
	assert.Equal(t, "mixin: can't compose *shop.Cache as lock: missing abstract methods Release (but does have method Unlock), Locked; "+
		"Acquire has signature func() int, want func(context.Context) (bool, error) or one of func(context.Context) error | func() bool | func()", err.Error())
	var ae *validate.AbstractError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, reflect.TypeFor[*shop.Cache](), ae.Type)
	assert.Equal(t, []string{"lock"}, ae.Kinds)
	assert.Equal(t, []string{"Release", "Locked"}, ae.Missing)
	require.Len(t, ae.Problems, 3)
	assert.Equal(t, validate.ReasonSignature, ae.Problems[2].Reason)
	assert.Equal(t, reflect.TypeFor[func() int](), ae.Problems[2].Have)
}

func TestCheckListsEveryProblemOfEverySpec(t *testing.T) {
	spec := lockSpec
	spec.Alternatives = nil
	err := validate.Check(42, spec, eventSpec)
	require.Error(t, err)
	var ae *validate.AbstractError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, []string{"lock", "event"}, ae.Kinds)
	assert.Equal(t, []string{"Acquire", "Release", "Locked", "Get", "Set"}, ae.Missing)
	assert.Equal(t, "mixin: can't compose int as lock: missing abstract methods Acquire, Release, Locked; as event: missing abstract methods Get, Set", err.Error())

	itemised := fmt.Sprintf("%+v", err)
	assert.Equal(t, strings.Join([]string{
		"mixin: can't compose int:",
		"    lock: missing abstract method Acquire",
		"    lock: missing abstract method Release",
		"    lock: missing abstract method Locked",
		"    event: missing abstract method Get",
		"    event: missing abstract method Set",
	}, "\n"), itemised)
}

func TestItemisedNamesThePackage(t *testing.T) {
	out := fmt.Sprintf("%+v", validate.Check(shop.Store{}, lockSpec))
	assert.Contains(t, out, "mixin: can't compose shop.Store (package github.com/gomixin/mixin/internal/shop):")
	assert.Contains(t, out, "\n    lock: method Release has pointer receiver (compose &v, a *shop.Store)")
}

func TestNilValueMatchesErrNilValue(t *testing.T) {
	for _, v := range []any{nil, (*shop.Store)(nil)} {
		err := validate.Check(v, lockSpec)
		assert.ErrorIs(t, err, validate.ErrNilValue)
		assert.ErrorIs(t, err, validate.ErrAbstract)
		assert.False(t, validate.Satisfies(v, lockSpec))
		assert.Equal(t, []string{"Acquire", "Release", "Locked"}, validate.Missing(v, lockSpec))
	}
	assert.NotErrorIs(t, validate.Check(42, lockSpec), validate.ErrNilValue)
}

func TestSatisfiesAndMissing(t *testing.T) {
	assert.True(t, validate.Satisfies(&shop.Store{}, lockSpec))
	assert.Empty(t, validate.Missing(&shop.Store{}, lockSpec))
	assert.True(t, validate.Satisfies(new(lockerOnly), lockSpec), "sync.Locker form")
	assert.Equal(t, []string{"Acquire", "Release", "Locked"}, validate.Missing(shop.Store{}, lockSpec))
	spec := lockSpec
	spec.Alternatives = nil
	assert.Equal(t, []string{"Acquire", "Release", "Locked"}, validate.Missing(&shop.Cache{}, spec))
}

type lockerOnly struct{}

func (*lockerOnly) Lock()   {}
func (*lockerOnly) Unlock() {}

func TestBindSaysHowTheSpecIsServed(t *testing.T) {
	m, err := validate.Bind(new(lockerOnly), lockSpec)
	require.NoError(t, err)
	assert.Equal(t, 1, m.Form)
	b, ok := m.Method("Unlock")
	require.True(t, ok)
	assert.Equal(t, 0, b.Shape)
	assert.Equal(t, "Unlock", reflect.TypeFor[*lockerOnly]().Method(b.Index).Name)
	_, ok = m.Method("Acquire")
	assert.False(t, ok)

	m, err = validate.Bind(&intEvent{}, eventSpec)
	require.NoError(t, err)
	assert.Equal(t, reflect.TypeFor[int](), m.Bound)
	assert.True(t, m.Has())
}

func TestFixedT(t *testing.T) {
	s := eventSpec
	s.T = reflect.TypeFor[int]()
	assert.True(t, validate.Satisfies(&intEvent{}, s))
	s.T = reflect.TypeFor[string]()
	err := validate.Check(&intEvent{}, s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Get has signature func() (int, error), want func() (string, error)")
	s.T = reflect.TypeFor[fmt.Stringer]()
	assert.False(t, validate.Satisfies(&intEvent{}, s), "int does not implement fmt.Stringer")
	s.T = reflect.TypeFor[any]()
	assert.True(t, validate.Satisfies(&intEvent{}, s), "an interface T accepts what implements it")
}

func TestSecondValueOfASeenTypeIsNotScanned(t *testing.T) {
	type fresh struct{ lockerOnly }
	before := validate.Scans()
	require.NoError(t, validate.Check(&fresh{}, lockSpec))
	afterFirst := validate.Scans()
	assert.LessOrEqual(t, afterFirst-before, int64(1), "first sight scans at most once (none on a -count rerun)")
	for range 10 {
		require.NoError(t, validate.Check(&fresh{}, lockSpec))
		assert.Empty(t, validate.Missing(&fresh{}, lockSpec))
	}
	assert.Equal(t, afterFirst, validate.Scans(), "a seen type is not scanned again")
}

func TestJoinKeepsEveryProblem(t *testing.T) {
	a := validate.Check(42, lockSpec)
	b := validate.Check(42, eventSpec)
	j := validate.Join(a, errors.New("other"), b)
	require.NotNil(t, j)
	assert.Equal(t, []string{"lock", "event"}, j.Kinds)
	assert.Len(t, j.Problems, 5)
	assert.Nil(t, validate.Join(errors.New("x")))
}

func TestRefuse(t *testing.T) {
	err := validate.Refuse(42, "context", "is not a %s", "string")
	assert.ErrorIs(t, err, validate.ErrAbstract)
	assert.Equal(t, "mixin: can't compose int as context: is not a string", err.Error())
}

// recorder is a testing.TB stand-in that records failures.
type recorder struct{ msgs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func TestImplements(t *testing.T) {
	assert.True(t, validate.Implements(t, &shop.Store{}, lockSpec))
	var rec recorder
	assert.False(t, validate.Implements(&rec, shop.Store{}, lockSpec))
	require.Len(t, rec.msgs, 1)
	assert.Contains(t, rec.msgs[0], "lock: method Acquire has pointer receiver (compose &v, a *shop.Store)")
}
