package mixin_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
)

// The plugin registry is also package-level, on the default Composer, as
// Compose is (issue 24, item 3): mixin.Register, Lookup, Unregister, All.
func TestPackageLevelRegister(t *testing.T) {
	const name = "issue24/orders"
	mu := &sync.Mutex{}
	c, err := mixin.Register(name, mu, mixin.Require(mixin.KindLock))
	require.NoError(t, err)
	t.Cleanup(func() { mixin.Unregister(name) })
	assert.Same(t, mu, c.Value())

	got, ok := mixin.Lookup(name)
	require.True(t, ok)
	assert.Same(t, c, got)
	got, ok = mixin.Default().Lookup(name)
	require.True(t, ok, "the same registry as Default()'s")
	assert.Same(t, c, got)
	found := false
	for n := range mixin.All() {
		found = found || n == name
	}
	assert.True(t, found)

	_, err = mixin.Register(name, &sync.Mutex{})
	assert.ErrorIs(t, err, mixin.ErrDuplicate)
	assert.True(t, mixin.Unregister(name))
	_, ok = mixin.Lookup(name)
	assert.False(t, ok)
	assert.False(t, mixin.Unregister(name))
}
