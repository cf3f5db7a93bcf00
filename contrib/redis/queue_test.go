package redis_test

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
	"github.com/gomixin/mixin/contrib/redis"
)

// waiters returns the ids queued on the lock name, first first.
func waiters(t *testing.T, c *goredis.Client, name string) []string {
	t.Helper()
	ids, err := c.ZRange(context.Background(), lockKey(name)+":waiters", 0, -1).Result()
	require.NoError(t, err)
	return ids
}

// queueLen waits until the lock name has n waiters queued.
func queueLen(t *testing.T, c *goredis.Client, name string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(waiters(t, c, name)) == n },
		10*time.Second, time.Millisecond, "%d waiters queued", n)
}

// TestWaitersTakeTheLockInTheOrderTheyCame: four handles queue one after
// the other behind a holder; each release goes to the first of them, and
// the holder that released, trying again at once, comes after them all.
// Before the queue, every waiter woke on each release and the first to
// reach Redis took it.
func TestWaitersTakeTheLockInTheOrderTheyCame(t *testing.T) {
	srv.Need(t)
	admin := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	holder, err := redis.NewLock(newClient(t, srv.Addr), name)
	require.NoError(t, err)
	ok, err := holder.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)

	const n = 4
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range n {
		l, err := redis.NewLock(newClient(t, srv.Addr), name)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := l.Acquire(ctx)
			if !assert.NoError(t, err) || !assert.True(t, ok) {
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			assert.NoError(t, l.Release(ctx))
		}()
		queueLen(t, admin, name, i+1)
	}
	require.NoError(t, holder.Release(ctx))
	ok, err = holder.TryAcquire(ctx)
	require.NoError(t, err)
	assert.False(t, ok, "the handle that released does not take the lock back ahead of the queue")
	ok, err = holder.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	wg.Wait()
	assert.Equal(t, []int{0, 1, 2, 3}, order, "the waiters took the lock in the order they came")
	assert.Empty(t, waiters(t, admin, name))
	require.NoError(t, holder.Release(ctx))
}

// TestAWaiterThatGivesUpLeavesTheQueue: a waiter whose ctx ends is taken
// out of the queue at once, so the one behind it takes the lock on the
// next release, not after the first waiter's place has aged out (the
// lease: a minute here, past the second waiter's ctx).
func TestAWaiterThatGivesUpLeavesTheQueue(t *testing.T) {
	srv.Need(t)
	admin := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	newLock := func() *redis.Lock {
		l, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithExpiry(time.Minute))
		require.NoError(t, err)
		return l
	}
	holder, quitter, next := newLock(), newLock(), newLock()
	ok, err := holder.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)

	qctx, qcancel := context.WithCancel(ctx)
	quit := make(chan error, 1)
	go func() {
		_, err := quitter.Acquire(qctx)
		quit <- err
	}()
	queueLen(t, admin, name, 1)
	got := make(chan error, 1)
	go func() {
		nctx, ncancel := context.WithTimeout(ctx, 20*time.Second)
		defer ncancel()
		ok, err := next.Acquire(nctx)
		assert.True(t, ok)
		got <- err
	}()
	queueLen(t, admin, name, 2)
	qcancel()
	assert.ErrorIs(t, <-quit, context.Canceled)
	queueLen(t, admin, name, 1)
	require.NoError(t, holder.Release(ctx))
	require.NoError(t, <-got, "the waiter behind the one that gave up took the lock")
	require.NoError(t, next.Release(ctx))
	assert.Empty(t, waiters(t, admin, name), "nothing queued")
	assert.False(t, holder.Locked(), "nothing held")
}

// TestAWaiterWhoseClientDiedAgesOut: a waiter whose client is cut off from
// Redis (its traffic held by a proxy, as for a process frozen or gone)
// stops moving its deadline on; its place ages out within a lease, and the
// waiter behind it takes the lock.
func TestAWaiterWhoseClientDiedAgesOut(t *testing.T) {
	srv.Need(t)
	admin := newClient(t, srv.Addr)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const lease = 600 * time.Millisecond
	holder, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithExpiry(lease))
	require.NoError(t, err)
	dead, err := redis.NewLock(newClient(t, p.Addr()), name, redis.WithExpiry(lease))
	require.NoError(t, err)
	next, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithExpiry(lease))
	require.NoError(t, err)
	ok, err := holder.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)

	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()
	deadDone := make(chan struct{})
	go func() {
		defer close(deadDone)
		_, _ = dead.Acquire(dctx)
	}()
	queueLen(t, admin, name, 1)
	first := waiters(t, admin, name)[0]
	p.Stall() // the dead waiter's client: nothing it sends reaches Redis
	got := make(chan error, 1)
	go func() {
		ok, err := next.Acquire(ctx)
		assert.True(t, ok)
		got <- err
	}()
	queueLen(t, admin, name, 2)
	require.NoError(t, holder.Release(ctx))
	require.NoError(t, <-got, "the waiter behind a dead one took the lock")
	assert.NotContains(t, waiters(t, admin, name), first, "the dead waiter's place aged out")
	require.NoError(t, next.Release(ctx))
	dcancel()
	p.Resume()
	<-deadDone
}

// TestASemaphoreAdmitsPermitsHoldersAtOnce: eight handles on clients of
// their own take a semaphore of three permits in turns; never more than
// three hold it at once (by their own knowledge), three do at some moment,
// each handle's tokens rise and no two holds share one, Locked says whether
// all permits are taken, and a release admits a waiter.
func TestASemaphoreAdmitsPermitsHoldersAtOnce(t *testing.T) {
	srv.Need(t)
	name := disttest.Unique(t)
	const permits, handles, rounds = 3, 8, 6
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	holding, most := 0, 0
	tokens := map[int64]bool{}
	var wg sync.WaitGroup
	rising := true // each handle's tokens rise
	for range handles {
		s, err := redis.NewSemaphore(newClient(t, srv.Addr), name, permits)
		require.NoError(t, err)
		assert.Equal(t, permits, s.Permits())
		wg.Add(1)
		go func() {
			defer wg.Done()
			var prev int64
			for range rounds {
				ok, err := s.Acquire(ctx)
				if !assert.NoError(t, err) || !assert.True(t, ok) {
					return
				}
				tok, _ := s.Token()
				mu.Lock()
				holding++
				most = max(most, holding)
				tokens[tok] = true
				rising = rising && tok > prev
				prev = tok
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
				mu.Lock()
				holding--
				mu.Unlock()
				assert.NoError(t, s.Release(ctx))
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, most, permits, "never more holders than permits")
	assert.Equal(t, permits, most, "all permits were taken at once at some moment")
	assert.Len(t, tokens, handles*rounds, "every hold has a token of its own")
	assert.True(t, rising, "each handle's tokens rise")

	// Locked: all permits taken; a release admits the waiter.
	all := make([]*redis.Semaphore, permits+1)
	for i := range all {
		var err error
		all[i], err = redis.NewSemaphore(newClient(t, srv.Addr), name, permits)
		require.NoError(t, err)
	}
	for i, s := range all[:permits] {
		assert.False(t, s.Locked(), "%d of %d permits taken", i, permits)
		ok, err := s.TryAcquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
	}
	assert.True(t, all[0].Locked(), "every permit taken")
	ok, err := all[permits].TryAcquire(ctx)
	require.NoError(t, err)
	assert.False(t, ok, "no permit left")
	got := make(chan error, 1)
	go func() {
		ok, err := all[permits].Acquire(ctx)
		assert.True(t, ok)
		got <- err
	}()
	require.NoError(t, all[1].Release(ctx))
	require.NoError(t, <-got, "a release admits the waiter")
	for _, s := range append(all[:1], all[2:]...) {
		require.NoError(t, s.Release(ctx))
	}
	assert.False(t, all[0].Locked())
}

// TestASemaphoreHoldersLeaseIsItsOwn: one holder's lease running out (its
// refreshes cut off) loses that hold only, and frees its permit; the other
// holder keeps its own.
func TestASemaphoreHoldersLeaseIsItsOwn(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const lease = 600 * time.Millisecond
	cut, err := redis.NewSemaphore(newClient(t, p.Addr()), name, 2, redis.WithExpiry(lease))
	require.NoError(t, err)
	kept, err := redis.NewSemaphore(newClient(t, srv.Addr), name, 2, redis.WithExpiry(lease))
	require.NoError(t, err)
	third, err := redis.NewSemaphore(newClient(t, srv.Addr), name, 2, redis.WithExpiry(lease))
	require.NoError(t, err)
	for _, s := range []*redis.Semaphore{cut, kept} {
		ok, err := s.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
	}
	p.Stall()
	<-cut.Lost()
	ok, err := third.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok, "the lost hold's permit is free")
	assert.True(t, kept.IsOwner(ctx))
	held, err := kept.HeldContext(ctx)
	require.NoError(t, err)
	assert.True(t, held, "the other holder keeps its hold")
	p.Resume()
	assert.ErrorIs(t, cut.Release(ctx), adapters.ErrLockLost)
	require.NoError(t, kept.Release(ctx))
	require.NoError(t, third.Release(ctx))
}

// TestNewSemaphoreRefusesBadInput: permits below one or above MaxPermits,
// an empty name, a nil
// client (typed or not) are errors, never a panic.
func TestNewSemaphoreRefusesBadInput(t *testing.T) {
	ok := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer ok.Close()
	for _, permits := range []int{0, -1, redis.MaxPermits + 1, math.MaxInt} {
		_, err := redis.NewSemaphore(ok, "x", permits)
		assert.ErrorContains(t, err, "permits", "permits %d", permits)
	}
	_, err := redis.NewSemaphore(ok, "", 2)
	assert.ErrorContains(t, err, "empty name")
	assert.NotPanics(t, func() {
		_, err = redis.NewSemaphore(nil, "x", 2)
		assert.ErrorContains(t, err, "nil client")
		_, err = redis.NewSemaphore((*goredis.Client)(nil), "x", 2)
		assert.ErrorContains(t, err, "nil client")
	})
	noTimeouts := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer noTimeouts.Close()
	_, err = redis.NewSemaphore(noTimeouts, "x", 2)
	assert.ErrorIs(t, err, redis.ErrNoContextTimeout)
}

// pubsubConns counts the server's connections named name: all of them, and
// those subscribed to something.
func pubsubConns(t *testing.T, admin *goredis.Client, name string) (all, subscribed int) {
	t.Helper()
	list, err := admin.ClientList(context.Background()).Result()
	require.NoError(t, err)
	for _, line := range splitLines(list) {
		if !containsField(line, "name", name) {
			continue
		}
		all++
		if !containsField(line, "sub", "0") || !containsField(line, "psub", "0") {
			subscribed++
		}
	}
	return all, subscribed
}

// TestConnectionsDoNotGrowWithWaitingHandles: 1, 100 and (with
// MIXIN_STRESS set) 10,000 handles on one client, each waiting on a lock name of its own
// (held by another client), and as many event waiters, keep one pub/sub
// connection open, and none once the waits have ended. Before, each handle
// that waited opened one of its own (300 waits on 300 names: 321
// connections, 151 left open after).
func TestConnectionsDoNotGrowWithWaitingHandles(t *testing.T) {
	srv.Need(t)
	counts := []int{1, 100}
	if os.Getenv("MIXIN_STRESS") != "" && !testing.Short() { // 10,000 take a minute under -race
		counts = append(counts, 10000)
	}
	admin := newClient(t, srv.Addr)
	for _, n := range counts {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			id := disttest.Unique(t)
			opts := &goredis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1, ClientName: "waiters-" + strconv.Itoa(n)}
			c := goredis.NewClient(opts)
			defer c.Close()
			holder := newClient(t, srv.Addr)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			bg := context.Background()
			holders := make([]*redis.Lock, n)
			for i := range holders {
				l, err := redis.NewLock(holder, id+"/"+strconv.Itoa(i), redis.WithExpiry(time.Hour))
				require.NoError(t, err)
				ok, err := l.TryAcquire(bg)
				require.NoError(t, err)
				require.True(t, ok)
				holders[i] = l
			}
			wctx, wcancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			for i := range n {
				// Long leases and a slow poll: the test counts connections,
				// and 10,000 waiters polling every 32 ms would load the
				// machine, not the connections.
				l, err := redis.NewLock(c, id+"/"+strconv.Itoa(i), redis.WithExpiry(time.Hour), redis.WithRetry(time.Second, 2*time.Second))
				require.NoError(t, err)
				ev, err := redis.NewEvent[string](c, id+"/"+strconv.Itoa(i))
				require.NoError(t, err)
				wg.Add(2)
				go func() {
					defer wg.Done()
					_, err := l.Acquire(wctx)
					assert.ErrorIs(t, err, context.Canceled)
				}()
				go func() {
					defer wg.Done()
					_, err := ev.WaitForNext(wctx)
					assert.ErrorIs(t, err, context.Canceled)
				}()
			}
			// Every lock waiter is queued and every event waiter subscribed.
			require.Eventually(t, func() bool {
				locks, err := admin.PubSubChannels(bg, "mixin:lock:{"+id+"/*}:released:*").Result()
				require.NoError(t, err)
				if len(locks) < n {
					return false
				}
				events, err := admin.PubSubNumSub(bg, eventChannels(id, n)...).Result()
				require.NoError(t, err)
				for _, v := range events {
					if v == 0 {
						return false
					}
				}
				return true
			}, time.Minute, 10*time.Millisecond, "every waiter subscribed")
			all, subscribed := pubsubConns(t, admin, opts.ClientName)
			t.Logf("%d lock waiters and %d event waiters on one client: %d connections, %d of them subscribed", n, n, all, subscribed)
			assert.Equal(t, 1, subscribed, "one pub/sub connection")
			assert.LessOrEqual(t, all, c.Options().PoolSize+1, "the client's pool and one pub/sub connection")
			wcancel()
			wg.Wait()
			assert.Eventually(t, func() bool {
				all, subscribed := pubsubConns(t, admin, opts.ClientName)
				return subscribed == 0 && all <= c.Options().PoolSize
			}, 30*time.Second, 10*time.Millisecond, "no pub/sub connection left once the waits ended, only the client's pool")
			for _, l := range holders {
				require.NoError(t, l.Release(bg))
			}
		})
	}
}

// eventChannels are the channels the event waiters of
// TestConnectionsDoNotGrow subscribe to.
func eventChannels(id string, n int) []string {
	chans := make([]string, 0, n)
	for i := range n {
		chans = append(chans, "mixin:event:{"+id+"/"+strconv.Itoa(i)+"}")
	}
	return chans
}

// TestNamesUsedOnceLeaveNoKeyWithoutExpiry: a lock acquired and released
// (and one contended, with a waiter), a semaphore, and an event set and
// cleared leave no key without an expiry. Before, each lock's fence and
// each event's number stayed for good.
func TestNamesUsedOnceLeaveNoKeyWithoutExpiry(t *testing.T) {
	srv.Need(t)
	prefix := "expiry-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	c := newClient(t, srv.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 30 {
		name := strconv.Itoa(i)
		a, err := redis.NewLock(c, name, redis.WithPrefix(prefix))
		require.NoError(t, err)
		b, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithPrefix(prefix))
		require.NoError(t, err)
		ok, err := a.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
		if i%3 == 0 { // contended: b waits in the queue
			got := make(chan error, 1)
			go func() {
				_, err := b.Acquire(ctx)
				got <- err
			}()
			require.Eventually(t, func() bool {
				n, _ := c.Exists(ctx, prefix+":lock:{"+name+"}:waiters").Result()
				return n == 1
			}, 10*time.Second, time.Millisecond)
			require.NoError(t, a.Release(ctx))
			require.NoError(t, <-got)
			require.NoError(t, b.Release(ctx))
		} else {
			require.NoError(t, a.Release(ctx))
		}
		s, err := redis.NewSemaphore(c, name, 2, redis.WithPrefix(prefix))
		require.NoError(t, err)
		ok, err = s.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
		require.NoError(t, s.Release(ctx))
		ev, err := redis.NewEvent[int](c, name, redis.WithPrefix(prefix))
		require.NoError(t, err)
		require.NoError(t, ev.Set(i))
		require.NoError(t, ev.Clear())
	}
	var keys []string
	iter := c.Scan(ctx, 0, prefix+":*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	require.NoError(t, iter.Err())
	require.NotEmpty(t, keys, "the counters are still there, with their expiry")
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		if ttl == time.Duration(-2) { // gone since the scan
			continue
		}
		assert.Positive(t, ttl, "key %s has an expiry", k)
	}
}

// TestEventNumbersKeepRisingAfterTheirKeyExpired: an event's number key
// gone (as when it expires) while a waiter follows the event does not make
// a later Set's number lower than the one the waiter saw, which it would
// pass over as seen: the waiter sees the later Set.
func TestEventNumbersKeepRisingAfterTheirKeyExpired(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := redis.NewEvent[string](c, disttest.Unique(t))
	require.NoError(t, err)
	seq := ev.Key() + ":seq"
	number := func() int64 {
		n, err := c.Get(ctx, seq).Int64()
		require.NoError(t, err)
		return n
	}
	require.NoError(t, ev.Set("one"))
	first := number()
	ttl, err := c.PTTL(ctx, seq).Result()
	require.NoError(t, err)
	assert.Positive(t, ttl, "the number's key expires")
	got := make(chan string, 1)
	waiter, err := redis.NewEvent[string](newClient(t, srv.Addr), ev.Name())
	require.NoError(t, err)
	go func() {
		v, err := waiter.WaitUntil(ctx, func(v string) bool { return v == "two" })
		assert.NoError(t, err)
		got <- v
	}()
	require.Eventually(t, func() bool { // the waiter follows the event, having read "one" and its number
		n, err := c.PubSubNumSub(ctx, ev.Key()).Result()
		return err == nil && n[ev.Key()] == 1
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, c.Del(ctx, seq).Err()) // as if it had expired
	require.NoError(t, ev.Set("two"))
	assert.Greater(t, number(), first, "the number after the key was gone is above the one before")
	assert.Equal(t, "two", <-got)
}

// TestAcquireKeepsTheLastErrorRedisGave: against a port nothing listens
// on, an Acquire ends with its ctx, and says why it never got an answer,
// whatever its deadline. Before, with 200 ms and 1 s it returned a bare
// "context deadline exceeded": go-redis's pool retried the dial until the
// ctx ended and returned the ctx's error only.
func TestAcquireKeepsTheLastErrorRedisGave(t *testing.T) {
	port, err := serverproc.FreePort()
	require.NoError(t, err)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for _, d := range []time.Duration{200 * time.Millisecond, time.Second, 3 * time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			l, err := redis.NewLock(newClient(t, addr), disttest.Unique(t))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			ok, err := l.Acquire(ctx)
			assert.False(t, ok)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.ErrorContains(t, err, "connection refused", "the last error that says something")
			t.Log(err)
		})
	}
}

// splitLines splits CLIENT LIST's answer into its lines.
func splitLines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// containsField reports whether a line of CLIENT LIST has key=value.
func containsField(line, key, value string) bool {
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v == value
		}
	}
	return false
}

// TestWaitsComingAndGoingOnOneChannelShareItSafely: waits on one client and
// one event start and end at random (their ctx cut after 0-3 ms), so that
// subscriptions and unsubscriptions of the one channel cross on the shared
// connection; then every waiter waits, and one Set wakes them all: no
// unsubscription of an earlier wait left a later one deaf.
func TestWaitsComingAndGoingOnOneChannelShareItSafely(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const waiters, churn = 20, 30
	var started sync.WaitGroup
	got := make(chan string, waiters)
	for i := range waiters {
		ev, err := redis.NewEvent[string](c, name)
		require.NoError(t, err)
		started.Add(1)
		go func() {
			for j := range churn {
				wctx, wcancel := context.WithTimeout(ctx, time.Duration((i+j)%4)*time.Millisecond)
				_, _ = ev.WaitForNext(wctx)
				wcancel()
			}
			started.Done()
			v, err := ev.WaitUntil(ctx, func(v string) bool { return v == "go" })
			assert.NoError(t, err)
			got <- v
		}()
	}
	started.Wait()
	require.Eventually(t, func() bool {
		n, err := c.PubSubNumSub(ctx, "mixin:event:{"+name+"}").Result()
		return err == nil && n["mixin:event:{"+name+"}"] == 1
	}, 10*time.Second, time.Millisecond, "the channel subscribed, once")
	setter, err := redis.NewEvent[string](newClient(t, srv.Addr), name)
	require.NoError(t, err)
	require.NoError(t, setter.Set("go"))
	for range waiters {
		assert.Equal(t, "go", <-got)
	}
}
