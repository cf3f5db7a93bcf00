package mixin_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gomixin/mixin"
)

func TestRegistryDerivesFromNamesTheParentKind(t *testing.T) {
	r := mixin.NewRegistry()
	p, ok := r.DerivesFrom(mixin.KindLock)
	assert.True(t, ok)
	assert.Equal(t, mixin.KindOwnerLock, p)
	p, ok = r.DerivesFrom(mixin.KindAwaitable)
	assert.True(t, ok)
	assert.Equal(t, mixin.KindEvent, p)
	_, ok = r.DerivesFrom(mixin.KindContext)
	assert.False(t, ok)
	_, ok = r.DerivesFrom("no-such-kind")
	assert.False(t, ok)
}
