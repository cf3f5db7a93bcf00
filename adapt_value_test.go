package mixin_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/validate"
)

// legacyConn is a type with no Close, adapted by a hand-written closer.
type legacyConn struct{ closed bool }

func (c *legacyConn) Shut() { c.closed = true }

type connCloser struct{ c *legacyConn }

func (a connCloser) Close() error { a.c.Shut(); return nil }

// After Registry.Adapt, a context's body gets the user's value, not the
// adapter (issue 24, item 5); Value says the same.
func TestAdaptedContextHandsTheBodyTheUsersValue(t *testing.T) {
	c := mixin.New()
	for _, kind := range []mixin.Kind{mixin.KindContext, mixin.KindExecContext} {
		require.NoError(t, c.Registry().Adapt(reflect.TypeFor[*legacyConn](), kind, func(v any) (any, error) {
			return connCloser{v.(*legacyConn)}, nil
		}))
	}
	conn := &legacyConn{}
	comp, err := c.Compose(conn, mixin.Require(mixin.KindContext, mixin.KindExecContext))
	require.NoError(t, err)
	ctx := context.Background()

	cm, ok := comp.Context()
	require.True(t, ok)
	assert.Same(t, conn, cm.Value())
	require.NoError(t, cm.Do(ctx, func(_ context.Context, v any) error {
		assert.Same(t, conn, v, "the body gets the user's value")
		return nil
	}))
	assert.True(t, conn.closed, "Exit closed it through the adapter")

	conn.closed = false
	xc, ok := comp.ExecContext()
	require.True(t, ok)
	assert.Same(t, conn, xc.Value())
	require.NoError(t, xc.Do(ctx, func(_ context.Context, v any) error {
		assert.Same(t, conn, v)
		return nil
	}))
	assert.True(t, conn.closed)
}

// A pointer to an interface, as plugin.Lookup returns for a variable of type
// any, is refused with a message that says to compose what it holds
// (issue 24, item 4), by Compose and by validate.Check alike.
func TestPointerToInterfaceSaysToDereference(t *testing.T) {
	var sym any = &legacyConn{}
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"Compose", func() error { _, err := mixin.Compose(&sym); return err }},
		{"Compose with Require", func() error { _, err := mixin.Compose(&sym, mixin.Require(mixin.KindLock)); return err }},
		{"Check", func() error {
			return validate.Check(&sym, validate.Spec{Name: "lock", Methods: []validate.Method{{Name: "Lock", Shapes: []reflect.Type{reflect.TypeFor[func()]()}}}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			require.Error(t, err)
			assert.ErrorIs(t, err, validate.ErrAbstract)
			assert.ErrorContains(t, err, "mixin: can't compose *any")
			assert.ErrorContains(t, err, "a pointer to an interface has no methods")
			assert.ErrorContains(t, err, "compose *p, the *mixin_test.legacyConn it holds")
		})
	}
	var empty any
	_, err := mixin.Compose(&empty)
	assert.ErrorContains(t, err, "it holds nil")
	var ae *validate.AbstractError
	require.True(t, errors.As(err, &ae))
	assert.NotContains(t, fmt.Sprintf("%+v", err), "missing abstract method")
}
