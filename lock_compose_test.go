package mixin_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

func TestComposeLocks(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want []mixin.Kind
	}{
		{"*sync.Mutex", &sync.Mutex{}, []mixin.Kind{mixin.KindLock}},
		{"*sync.RWMutex", &sync.RWMutex{}, []mixin.Kind{mixin.KindLock}},
		{"user lock", &shop.Store{}, []mixin.Kind{mixin.KindLock}},
		{"OwnerMutex", adapters.NewOwnerMutex(), []mixin.Kind{mixin.KindOwnerLock, mixin.KindLock}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := mixin.Compose(tt.v)
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Kinds())
			l, ok := c.Lock()
			require.True(t, ok)
			ctx := adapters.WithTask(context.Background())
			require.NoError(t, l.Do(ctx, func(context.Context) error {
				assert.True(t, l.Locked())
				return nil
			}))
			assert.False(t, l.Locked())
		})
	}
}

func TestComposedOwnerLockIsALockThatChecksOwnership(t *testing.T) {
	c, err := mixin.Compose(adapters.NewOwnerMutex(), mixin.Require(mixin.KindOwnerLock, mixin.KindLock))
	require.NoError(t, err)
	o, ok := c.OwnerLock()
	require.True(t, ok)
	l, ok := c.Lock()
	require.True(t, ok)
	assert.Same(t, o.AsLock(), l)
	a := adapters.WithTask(context.Background())
	_, err = l.Enter(a)
	require.NoError(t, err)
	assert.ErrorIs(t, l.Release(adapters.WithTask(context.Background())), adapters.ErrNotOwner)
	assert.NoError(t, l.Exit(a, nil))
}

func TestComposeMutexByValueIsRefusedWithThePointerHint(t *testing.T) {
	_, err := mixin.Compose(sync.Mutex{})
	require.ErrorIs(t, err, validate.ErrAbstract)
	assert.Contains(t, err.Error(), "have pointer receivers (compose &v, a *sync.Mutex)")
	_, err = mixin.Compose(sync.Mutex{}, mixin.Require(mixin.KindLock))
	assert.EqualError(t, err, "mixin: can't compose sync.Mutex as lock (as sync.Locker): methods Lock, Unlock, TryLock have pointer receivers (compose &v, a *sync.Mutex)")
}
