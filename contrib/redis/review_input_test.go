package redis_test

import (
	"context"
	"math"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/redis"
)

// TestReviewSemaphoreOfHugePermitsReleases (DEFECT: NewSemaphore accepts
// permits = math.MaxInt, but every Release then fails with "ERR value is not
// an integer or out of range": the release script's wake passes
// permits - holders - 1, a Lua double near 2^63, to ZRANGE): NewSemaphore accepts any
// permits >= 1; a semaphore it accepted must be usable: acquired, released,
// acquired again.
func TestReviewSemaphoreOfHugePermitsReleases(t *testing.T) {
	srv.Need(t)
	for _, permits := range []int{1 << 20, 1<<53 + 1, math.MaxInt} {
		name := disttest.Unique(t)
		s, err := redis.NewSemaphore(newClient(t, srv.Addr), name, permits, redis.WithExpiry(2*time.Second))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ok, err := s.Acquire(ctx)
		require.NoError(t, err, "permits %d", permits)
		require.True(t, ok)
		assert.NoError(t, s.Release(ctx), "permits %d: release", permits)
		ok, err = s.TryAcquire(ctx)
		assert.NoError(t, err, "permits %d: again", permits)
		assert.True(t, ok, "permits %d: again", permits)
		if ok {
			assert.NoError(t, s.Release(ctx), "permits %d: second release", permits)
		}
		locked, err := s.LockedContext(ctx)
		assert.NoError(t, err)
		assert.False(t, locked)
		cancel()
	}
}

// TestReviewWeirdNames: names with the characters the keys escape, spaces,
// newlines, non-UTF-8 bytes and a long name: acquired, excluded, released.
func TestReviewWeirdNames(t *testing.T) {
	srv.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := disttest.Unique(t)
	for _, n := range []string{"a:b", "{x}", "%41", "a b\nc", "\xff\xfe", string(make([]byte, 4096)), "*", "?[]"} {
		name := base + n
		a, err := redis.NewLock(newClient(t, srv.Addr), name)
		require.NoError(t, err)
		b, err := redis.NewLock(newClient(t, srv.Addr), name)
		require.NoError(t, err)
		ok, err := a.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = b.TryAcquire(ctx)
		require.NoError(t, err)
		assert.False(t, ok, "%q: excluded", n)
		require.NoError(t, a.Release(ctx))
		ok, err = b.TryAcquire(ctx)
		require.NoError(t, err)
		assert.True(t, ok, "%q", n)
		require.NoError(t, b.Release(ctx))
	}
}

// TestReviewClosedClientSemaphore: a semaphore (and a lock) on a client
// closed after the handle was made: Acquire fails at once, not when its
// ctx ends; a nil client, typed or not, is refused.
func TestReviewClosedClientSemaphore(t *testing.T) {
	srv.Need(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
	s, err := redis.NewSemaphore(c, disttest.Unique(t), 2)
	require.NoError(t, err)
	l, err := redis.NewLock(c, disttest.Unique(t))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, h := range []interface {
		Acquire(context.Context) (bool, error)
	}{s, l} {
		start := time.Now()
		ok, err := h.Acquire(ctx)
		assert.False(t, ok)
		assert.ErrorIs(t, err, goredis.ErrClosed)
		assert.Less(t, time.Since(start), 3*time.Second, "Acquire on a closed client waited")
	}
	var typed *goredis.Client
	_, err = redis.NewSemaphore(typed, "x", 1)
	assert.Error(t, err)
	_, err = redis.NewSemaphore(nil, "x", 1)
	assert.Error(t, err)
}
