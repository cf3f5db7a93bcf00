package redis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
	"github.com/gomixin/mixin/contrib/redis"
)

// ownServer starts a redis-server of the test's own, for a test that
// configures it; it skips when the binary is missing.
func ownServer(t *testing.T) *serverproc.Server {
	t.Helper()
	s, err := serverproc.Start(serverproc.Redis)
	if errors.Is(err, serverproc.ErrMissing) {
		t.Skip(err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// lockKey is the key a lock of name holds (names from disttest.Unique need
// no escaping).
func lockKey(name string) string { return "mixin:lock:{" + name + "}" }

// usedMemory is INFO memory's used_memory.
func usedMemory(t *testing.T, c *goredis.Client) int64 {
	info, err := c.Info(context.Background(), "memory").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no used_memory in INFO memory")
	return 0
}

// TestEvictionCannotMakeTwoHolders: on a Redis with a memory limit and the
// volatile-ttl policy, the lock's key (the shortest TTL) is the first
// evicted when memory runs short, in silence: another handle acquired at
// once while the holder still believed it held the lock. A Redis that can
// evict lock keys is refused; with noeviction the lock works.
func TestEvictionCannotMakeTwoHolders(t *testing.T) {
	s := ownServer(t)
	admin := newClient(t, s.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, admin.ConfigSet(ctx, "maxmemory-policy", "volatile-ttl").Err())
	require.NoError(t, admin.ConfigSet(ctx, "maxmemory-samples", "64").Err())
	require.NoError(t, admin.ConfigSet(ctx, "maxmemory", strconv.FormatInt(usedMemory(t, admin)+(2<<20), 10)).Err())

	name := disttest.Unique(t)
	first, err := redis.NewLock(newClient(t, s.Addr()), name, redis.WithExpiry(5*time.Second))
	require.NoError(t, err)
	second, err := redis.NewLock(newClient(t, s.Addr()), name, redis.WithExpiry(5*time.Second))
	require.NoError(t, err)
	hist := &disttest.History{}
	ok, err := first.Acquire(ctx)
	if err != nil {
		assert.ErrorIs(t, err, redis.ErrEvictionPolicy)
		assert.ErrorContains(t, err, "volatile-ttl")
		ok, err = second.TryAcquire(ctx)
		assert.ErrorIs(t, err, redis.ErrEvictionPolicy, "TryAcquire is refused too")
		assert.False(t, ok)
	} else {
		require.True(t, ok)
		firstHold := hist.Acquired("first", first)
		// Memory runs short: keys with a longer TTL than the lock's fill it.
		value := strings.Repeat("x", 16<<10)
		for i := 0; i < 4000; i++ {
			n, err := admin.Exists(ctx, lockKey(name)).Result()
			require.NoError(t, err)
			if n == 0 {
				break
			}
			require.NoError(t, admin.Set(ctx, "fill:"+strconv.Itoa(i), value, time.Hour).Err())
		}
		if ok, err := second.TryAcquire(ctx); assert.NoError(t, err) && ok {
			secondHold := hist.Acquired("second", second)
			assert.True(t, first.IsOwner(ctx), "the first holder still believes it holds the lock")
			require.NoError(t, hist.Release(ctx, secondHold, second))
		}
		_ = hist.Release(ctx, firstHold, first)
	}
	hist.Check(t)

	require.NoError(t, admin.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err())
	third, err := redis.NewLock(newClient(t, s.Addr()), name)
	require.NoError(t, err)
	ok, err = third.Acquire(ctx)
	require.NoError(t, err, "noeviction is safe")
	require.True(t, ok)
	require.NoError(t, third.Release(ctx))

	require.NoError(t, admin.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err())
	fourth, err := redis.NewLock(newClient(t, s.Addr()), name, redis.AllowEviction())
	require.NoError(t, err)
	ok, err = fourth.Acquire(ctx)
	require.NoError(t, err, "AllowEviction takes the risk")
	require.True(t, ok)
	require.NoError(t, fourth.Release(ctx))
}

// TestARefreshOnASilentConnectionIsRetriedOnANewOne: the holder's pooled
// connection goes silent (a NAT dropped the flow: no answer, no reset)
// while the server and new connections are fine. A refresh that waited on
// it until the lease's end lost the lock; each attempt is bounded well
// inside the lease, and the next goes out on a new connection.
func TestARefreshOnASilentConnectionIsRetriedOnANewOne(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	const lease = 600 * time.Millisecond
	name := disttest.Unique(t)
	holder, err := redis.NewLock(newClient(t, p.Addr()), name, redis.WithExpiry(lease))
	require.NoError(t, err)
	other, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithExpiry(lease))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ok, err := holder.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	p.Silence() // the connection the acquire used, pooled for the refreshes

	select {
	case <-holder.Lost():
		at, why := holder.LostAt()
		t.Fatalf("the holder lost its lease at %v: %v", at, why)
	case <-time.After(3 * lease):
	}
	assert.True(t, holder.IsOwner(ctx))
	held, err := holder.HeldContext(ctx)
	require.NoError(t, err)
	assert.True(t, held, "the key is still the holder's")
	ok, err = other.TryAcquire(ctx)
	require.NoError(t, err)
	assert.False(t, ok, "held")
	assert.NoError(t, holder.Release(ctx))
}

// TestEventWaiterNoticesASilentSubscription: a WaitForNext whose pub/sub
// connection goes silent (the flow dropped by a NAT or a load balancer: no
// answer, no reset; new connections fine) never noticed, and a Set made
// afterwards was never seen. The subscription is pinged when silent, and
// made again on a new connection when the ping is not answered; the Set is
// found.
func TestEventWaiterNoticesASilentSubscription(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := disttest.Unique(t)
	const every = 200 * time.Millisecond
	waiter, err := redis.NewEvent[string](newClient(t, p.Addr()), name, redis.WithHealthCheck(every))
	require.NoError(t, err)
	setter, err := redis.NewEvent[string](newClient(t, srv.Addr), name)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		v   string
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := waiter.WaitForNext(ctx)
		got <- result{v, err}
	}()
	time.Sleep(disttest.Settle) // subscribed and waiting
	p.Silence()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, setter.Set("after the silence"))
	select {
	case r := <-got:
		require.NoError(t, r.err)
		assert.Equal(t, "after the silence", r.v)
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter did not see a Set made after its subscription went silent")
	}
}
