package redis_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/redis"
)

// TestReviewSemaphoreOfHugePermitsReleases (FIXED: NewSemaphore now refuses
// more than MaxPermits. Was: NewSemaphore accepted
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
		if permits > redis.MaxPermits { // refused, with an error: fixed so
			assert.ErrorContains(t, err, "permits")
			continue
		}
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
