package reflectx_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/internal/reflectx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestArgValue(t *testing.T) {
	v, err := reflectx.ArgValue(3, reflect.TypeFor[int]())
	require.NoError(t, err)
	assert.Equal(t, 3, v.Interface())
	_, err = reflectx.ArgValue("x", reflect.TypeFor[int]())
	assert.EqualError(t, err, "a string is not a int")
	_, err = reflectx.ArgValue(nil, reflect.TypeFor[int]())
	assert.EqualError(t, err, "nil is not a int")
	v, err = reflectx.ArgValue(nil, reflect.TypeFor[error]())
	require.NoError(t, err)
	assert.True(t, v.IsNil())
}

func TestIsNilPointer(t *testing.T) {
	assert.True(t, reflectx.IsNilPointer((*int)(nil)))
	assert.False(t, reflectx.IsNilPointer(new(int)))
	assert.False(t, reflectx.IsNilPointer(nil))
	assert.False(t, reflectx.IsNilPointer(3))
}
