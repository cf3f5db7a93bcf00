package redis_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/redis"
	"github.com/gomixin/mixin/validate/conform"
)

// handles returns a factory of handles on one lock, each on a client of its
// own, as conform's Handles mode wants.
func handles(t *testing.T, opts ...redis.Option) func() any {
	name := unique(t)
	return func() any {
		l, err := redis.NewLock(newClient(t, addr), name, opts...)
		require.NoError(t, err)
		return l
	}
}

func TestLockConformsAcrossClients(t *testing.T) {
	need(t)
	conform.Lock(t, handles(t), conform.Handles(), conform.WithWaiters(8))
}

func TestOwnerLockConformsAcrossClients(t *testing.T) {
	need(t)
	conform.OwnerLock(t, handles(t), conform.Handles(), conform.WithWaiters(8))
}

func TestSharedHandleIsALock(t *testing.T) {
	need(t)
	l, err := redis.NewLock(newClient(t, addr), unique(t))
	require.NoError(t, err)
	conform.Lock(t, func() any { return l }, conform.WithWaiters(8))
}

func TestLockComposesWithNoAdapter(t *testing.T) {
	need(t)
	l, err := redis.NewLock(newClient(t, addr), unique(t))
	require.NoError(t, err)
	c, err := mixin.Compose(l)
	require.NoError(t, err)
	assert.True(t, c.Has(mixin.KindLock), "kinds: %v", c.Kinds())
	assert.True(t, c.Has(mixin.KindOwnerLock), "kinds: %v", c.Kinds())
}

// TestCounterAcrossClients is the test a lock exists for: two clients, eight
// goroutines each with a handle of its own, a read-modify-write of a Redis
// key that loses updates without the lock.
func TestCounterAcrossClients(t *testing.T) {
	need(t)
	name, counter := unique(t), unique(t)
	clients := []*goredis.Client{newClient(t, addr), newClient(t, addr)}
	const perClient, rounds = 8, 10
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2*perClient*rounds)
	for _, c := range clients {
		for range perClient {
			h, err := redis.NewLock(c, name)
			require.NoError(t, err)
			proxy, err := adapters.NewLock(h)
			require.NoError(t, err)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					errs <- proxy.Do(ctx, func(ctx context.Context) error {
						n, err := c.Get(ctx, counter).Int()
						if err != nil && !errors.Is(err, goredis.Nil) {
							return err
						}
						return c.Set(ctx, counter, n+1, 0).Err()
					})
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	n, err := clients[0].Get(ctx, counter).Int()
	require.NoError(t, err)
	assert.Equal(t, 2*perClient*rounds, n, "every increment made under the lock")
}

func TestFencingTokensGrowWithEveryHold(t *testing.T) {
	need(t)
	name := unique(t)
	a, err := redis.NewLock(newClient(t, addr), name)
	require.NoError(t, err)
	b, err := redis.NewLock(newClient(t, addr), name)
	require.NoError(t, err)
	ctx := context.Background()
	_, held := a.Token()
	assert.False(t, held, "no token without a hold")
	var last int64
	for i := range 6 {
		h := []*redis.Lock{a, b}[i%2]
		ok, err := h.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
		tok, held := h.Token()
		require.True(t, held)
		assert.Greater(t, tok, last, "hold %d", i)
		last = tok
		require.NoError(t, h.Release(ctx))
	}
}

func TestLockedAndIsOwnerAskTheServer(t *testing.T) {
	need(t)
	name := unique(t)
	a, err := redis.NewLock(newClient(t, addr), name)
	require.NoError(t, err)
	b, err := redis.NewLock(newClient(t, addr), name)
	require.NoError(t, err)
	task := adapters.WithTask(context.Background())
	ok, err := a.Acquire(task)
	require.True(t, ok)
	require.NoError(t, err)
	assert.True(t, b.Locked(), "another handle sees the hold")
	assert.True(t, a.IsOwner(task))
	assert.False(t, b.IsOwner(task), "the task holds it through a, not b")
	assert.False(t, a.IsOwner(adapters.WithTask(context.Background())), "another task")
	require.NoError(t, a.Release(task))
	assert.False(t, b.Locked())
	assert.ErrorIs(t, a.Release(task), adapters.ErrNotLocked)
}

func TestNewLockRefusesBadInput(t *testing.T) {
	noTimeouts := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer noTimeouts.Close()
	_, err := redis.NewLock(noTimeouts, "x")
	assert.ErrorIs(t, err, redis.ErrNoContextTimeout)
	_, err = redis.NewEvent[int](noTimeouts, "x")
	assert.ErrorIs(t, err, redis.ErrNoContextTimeout)
	_, err = redis.NewLock(nil, "x")
	assert.ErrorContains(t, err, "nil client")
	ok := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer ok.Close()
	_, err = redis.NewLock(ok, "")
	assert.ErrorContains(t, err, "empty name")
}
