package analysis

import (
	"go/types"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"

	"github.com/gomixin/mixin/validate"
)

// TestSameTypeMatchesReflectIdentity compares go/types types with the
// reflect types the compiler makes of them, generic instances included.
func TestSameTypeMatchesReflectIdentity(t *testing.T) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedTypes}, "sync/atomic")
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	ptr := pkgs[0].Types.Scope().Lookup("Pointer").Type().(*types.Named)
	inst, err := types.Instantiate(nil, ptr, []types.Type{types.Typ[types.Int]}, true)
	require.NoError(t, err)
	other, err := types.Instantiate(nil, ptr, []types.Type{types.Typ[types.String]}, true)
	require.NoError(t, err)

	want := reflect.TypeFor[atomic.Pointer[int]]()
	assert.True(t, sameType(inst, want))
	assert.False(t, sameType(other, want))
	assert.Equal(t, want.String(), rstring(inst))
	assert.True(t, sameType(types.NewPointer(inst), reflect.TypeFor[*atomic.Pointer[int]]()))
	assert.False(t, sameType(types.Typ[types.Int], reflect.TypeFor[int64]()))
	assert.True(t, sameType(types.Universe.Lookup("byte").Type(), reflect.TypeFor[uint8]()))
	assert.True(t, sameType(types.NewInterfaceType(nil, nil), reflect.TypeFor[any]()))
	assert.False(t, sameType(types.NewSlice(types.Typ[types.Int]), reflect.TypeFor[[1]int]()))
	assert.True(t, sameType(types.NewArray(types.Typ[types.Int], 1), reflect.TypeFor[[1]int]()))
	assert.True(t, sameType(types.NewMap(types.Typ[types.String], types.Typ[types.Bool]), reflect.TypeFor[map[string]bool]()))
	assert.True(t, sameType(types.NewChan(types.SendOnly, types.Typ[types.Int]), reflect.TypeFor[chan<- int]()))
	assert.False(t, sameType(types.NewChan(types.SendRecv, types.Typ[types.Int]), reflect.TypeFor[chan<- int]()))
}

// TestResultShapesReadAsTheirMethods checks how a Result-embedding result
// type is recognised and written, as validate writes it in a wanted shape.
func TestResultShapesReadAsTheirMethods(t *testing.T) {
	done := reflect.TypeFor[interface {
		validate.Result
		Done() <-chan struct{}
	}]()
	assert.True(t, resultLike(done))
	assert.False(t, resultLike(reflect.TypeFor[validate.Result]()))
	assert.False(t, resultLike(reflect.TypeFor[interface{ Done() <-chan struct{} }]()))
	assert.Equal(t, "func() interface { Done() <-chan struct {} }", shapeString(reflect.FuncOf(nil, []reflect.Type{done}, false), ""))
}
