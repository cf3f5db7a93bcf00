package adapters_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// tryLock is a canonical lock with a TryAcquire of its own.
type tryLock struct{ rpcLock }

func (l *tryLock) TryAcquire(context.Context) (bool, error) {
	select {
	case l.sem <- struct{}{}:
		return true, nil
	default:
		return false, nil
	}
}

func TestTryAcquireMakesOneAttemptWhereTheValueOffersOne(t *testing.T) {
	ctx := adapters.WithTask(context.Background())
	other := adapters.WithTask(context.Background())
	for _, tc := range []struct {
		name string
		lock func(t *testing.T) *adapters.Lock
	}{
		{"sync.Mutex's TryLock", func(t *testing.T) *adapters.Lock {
			l, err := adapters.NewLock(&sync.Mutex{})
			require.NoError(t, err)
			return l
		}},
		{"TryLock() (bool, error)", func(t *testing.T) *adapters.Lock {
			l, err := adapters.NewLock(&errTryLocker{})
			require.NoError(t, err)
			return l
		}},
		{"TryAcquire(ctx) (bool, error)", func(t *testing.T) *adapters.Lock {
			l, err := adapters.NewLock(&tryLock{rpcLock{sem: make(chan struct{}, 1)}})
			require.NoError(t, err)
			return l
		}},
		{"OwnerMutex", func(t *testing.T) *adapters.Lock {
			o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
			require.NoError(t, err)
			return o.AsLock()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.lock(t)
			ok, err := l.TryAcquire(ctx)
			require.NoError(t, err)
			require.True(t, ok, "a free lock is taken")
			assert.True(t, l.Locked())
			ok, err = l.TryAcquire(other)
			assert.NoError(t, err)
			assert.False(t, ok, "a held lock is not, and the attempt does not wait")
			require.NoError(t, l.Release(ctx))
			assert.False(t, l.Locked())
		})
	}
}

func TestTryAcquireWithoutASingleAttemptSaysSo(t *testing.T) {
	l, err := adapters.NewLock(newFlakyCtxLocker())
	require.NoError(t, err)
	ok, err := l.TryAcquire(context.Background())
	assert.False(t, ok)
	assert.ErrorIs(t, err, adapters.ErrCannotTry)
	assert.False(t, l.Locked())
}
