package mixin_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
)

func TestComposeValueEventIsAnEventAndAnAwaitable(t *testing.T) {
	c, err := mixin.Compose(adapters.NewValueEvent[int](), mixin.Require(mixin.KindEvent, mixin.KindAwaitable))
	require.NoError(t, err)
	assert.Equal(t, []mixin.Kind{mixin.KindEvent, mixin.KindAwaitable}, c.Kinds())
	ev, ok := c.Event()
	require.True(t, ok)
	aw, ok := c.Awaitable()
	require.True(t, ok)

	require.NoError(t, ev.TrySet(3), "Event[any] over Set(int)")
	assert.ErrorIs(t, ev.TrySet("three"), adapters.ErrType)
	v, err := aw.Await(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, v, "the awaitable is the event's Wait")
}
