package mixin_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
)

// kept is an Observer that keeps what it sees.
type kept struct {
	mu  sync.Mutex
	obs []adapters.Observation
}

func (k *kept) Observe(_ context.Context, e adapters.Observation) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.obs = append(k.obs, e)
}

func (k *kept) all() []adapters.Observation {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]adapters.Observation(nil), k.obs...)
}

func TestComposerObserverSeesRegisteredLockByName(t *testing.T) {
	k := &kept{}
	c := mixin.New(mixin.WithObserver(k))
	comp, err := c.Register("orders", &sync.Mutex{})
	require.NoError(t, err)
	l, ok := comp.Lock()
	require.True(t, ok)
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))

	got := k.all()
	require.Len(t, got, 3, "acquire, body, release")
	for _, e := range got {
		assert.Equal(t, "lock", e.Kind)
		assert.Equal(t, "orders", e.Name)
		assert.Equal(t, adapters.OutcomeOK, e.Outcome)
	}
	assert.Equal(t, []adapters.Op{adapters.OpAcquire, adapters.OpDo, adapters.OpRelease},
		[]adapters.Op{got[0].Op, got[1].Op, got[2].Op})
	assert.Equal(t, int64(1), l.Stats().Acquires)
}

func TestComposeObserveAppliesToEveryProxyOfTheComposite(t *testing.T) {
	composerWide, own := &kept{}, &kept{}
	c := mixin.New(mixin.WithObserver(composerWide))
	comp, err := c.Compose(adapters.NewOwnerMutex(), mixin.Observe(own), mixin.Named("jobs"))
	require.NoError(t, err)
	o, ok := comp.OwnerLock()
	require.True(t, ok)
	l, ok := comp.Lock()
	require.True(t, ok)
	ctx := adapters.WithTask(context.Background())
	require.NoError(t, l.Do(ctx, func(context.Context) error { return nil }))
	assert.ErrorIs(t, o.Release(adapters.WithTask(context.Background())), adapters.ErrNotOwner)

	for _, k := range []*kept{composerWide, own} {
		got := k.all()
		require.Len(t, got, 5, "wait (an OwnerMutex cannot be tried), acquire, body, release, refusal")
		for _, e := range got {
			assert.Equal(t, "owner-lock", e.Kind, "the lock is the owner lock's own")
			assert.Equal(t, "jobs", e.Name)
		}
		assert.Equal(t, adapters.OutcomeNotOwner, got[4].Outcome)
	}
	assert.Equal(t, int64(1), o.Stats().NotOwner)
}

func TestComposeWithoutObserverReportsNothing(t *testing.T) {
	comp, err := mixin.New().Compose(&sync.Mutex{})
	require.NoError(t, err)
	l, _ := comp.Lock()
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Equal(t, adapters.LockStats{}, l.Stats())
}

func TestComposeObserveNopKeepsStatsOnly(t *testing.T) {
	comp, err := mixin.Compose(&sync.Mutex{}, mixin.Observe(adapters.NopObserver{}))
	require.NoError(t, err)
	l, _ := comp.Lock()
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Equal(t, int64(1), l.Stats().Acquires)
}
