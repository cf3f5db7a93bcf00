package redis_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
	"github.com/gomixin/mixin/contrib/redis"
)

// reviewLease is long, so that a waiter that is not woken (and falls back
// to its poll, a third to a half of its lease) shows as a stall of ten
// seconds or more, far beyond the bounds below.
const reviewLease = 30 * time.Second

// acquireIn starts l.Acquire(ctx) and returns a channel that receives its
// error (nil: acquired).
func acquireIn(ctx context.Context, t *testing.T, l interface {
	Acquire(context.Context) (bool, error)
}) <-chan error {
	got := make(chan error, 1)
	go func() {
		ok, err := l.Acquire(ctx)
		if err == nil && !ok {
			t.Error("Acquire: false and no error")
		}
		got <- err
	}()
	return got
}

// within waits for ch up to d: false when it did not come.
func within(t *testing.T, ch <-chan error, d time.Duration) bool {
	t.Helper()
	select {
	case err := <-ch:
		require.NoError(t, err)
		return true
	case <-time.After(d):
		return false
	}
}

// TestReviewHeadCancelledAtTheHandOver: the first waiter gives up at the
// instant the holder releases; the waiter behind it takes the lock at
// once (not on its poll, a third of a lease later). Repeated with the
// cancellation just before, with and just after the release.
func TestReviewHeadCancelledAtTheHandOver(t *testing.T) {
	srv.Need(t)
	admin := newClient(t, srv.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for round := range 12 {
		name := disttest.Unique(t)
		mk := func() *redis.Lock {
			l, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithExpiry(reviewLease))
			require.NoError(t, err)
			return l
		}
		holder, head, next := mk(), mk(), mk()
		ok, err := holder.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		hctx, hcancel := context.WithCancel(ctx)
		headGot := acquireIn(hctx, t, head)
		queueLen(t, admin, name, 1)
		nextGot := acquireIn(ctx, t, next)
		queueLen(t, admin, name, 2)
		time.Sleep(50 * time.Millisecond)
		switch round % 3 {
		case 0:
			hcancel()
			require.NoError(t, holder.Release(ctx))
		case 1:
			go hcancel()
			require.NoError(t, holder.Release(ctx))
		case 2:
			require.NoError(t, holder.Release(ctx))
			hcancel()
		}
		headErr := <-headGot
		if headErr == nil { // the head took it first: it hands over
			require.NoError(t, head.Release(ctx))
		}
		assert.True(t, within(t, nextGot, 5*time.Second), "round %d: the waiter behind a head that gave up at the hand-over was not woken", round)
		_ = next.Release(ctx)
		hcancel()
	}
}

// TestReviewWaitersAfterFlushAll (was reported as a defect: waiters whose
// queue entries FLUSHALL deleted are not woken; they find out at their
// place's next refresh, a third to a half of their lease later, and queue
// again. Kept as the bound the README states: a lease of 3 s here, so each
// of the three takes the lock within 5 s): a holder and three waiters;
// FLUSHALL; the holder releases (and is told it lost the lock); each waiter
// then takes the lock in turn, each releasing at once.
func TestReviewWaitersAfterFlushAll(t *testing.T) {
	s := ownServer(t)
	admin := newClient(t, s.Addr())
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mk := func() *redis.Lock {
		l, err := redis.NewLock(newClient(t, s.Addr()), name, redis.WithExpiry(3*time.Second))
		require.NoError(t, err)
		return l
	}
	holder := mk()
	ok, err := holder.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	var ws []*redis.Lock
	var gots []<-chan error
	for i := range 3 {
		w := mk()
		ws = append(ws, w)
		gots = append(gots, acquireIn(ctx, t, w))
		queueLen(t, admin, name, i+1)
	}
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, admin.FlushAll(ctx).Err())
	_ = holder.Release(ctx) // lost: its key is gone
	start := time.Now()
	for n := range 3 {
		// whichever waiter takes it next
		taken := -1
		deadline := time.After(5 * time.Second)
	wait:
		for {
			for i, g := range gots {
				if g == nil {
					continue
				}
				select {
				case err := <-g:
					require.NoError(t, err)
					taken = i
					gots[i] = nil
					break wait
				default:
				}
			}
			select {
			case <-deadline:
				break wait
			case <-time.After(time.Millisecond):
			}
		}
		if !assert.NotEqual(t, -1, taken, "after FLUSHALL, %d of 3 waiters took the free lock within 5 s (%v since the release); the others are stalled", n, time.Since(start).Round(time.Millisecond)) {
			return
		}
		require.NoError(t, ws[taken].Release(ctx))
	}
}

// TestReviewSharedSubscriptionSilencedThenWakes: two handles on one client
// (behind a proxy), each second in the queue of a lock of its own behind a
// waiter on another client. The client's shared pub/sub connection goes
// silent (a NAT dropped the flow); once its health check has replaced it,
// the releases must still wake the proxied handles, not leave them to their
// poll.
func TestReviewSharedSubscriptionSilencedThenWakes(t *testing.T) {
	srv.Need(t)
	admin := newClient(t, srv.Addr)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	shared := newClient(t, p.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type lane struct {
		name                string
		holder, first, mine *redis.Lock
		firstGot, mineGot   <-chan error
	}
	var lanes []*lane
	for range 2 {
		l := &lane{name: disttest.Unique(t)}
		mk := func(c *goredis.Client, opts ...redis.Option) *redis.Lock {
			h, err := redis.NewLock(c, l.name, append(opts, redis.WithExpiry(reviewLease))...)
			require.NoError(t, err)
			return h
		}
		l.holder, l.first = mk(newClient(t, srv.Addr)), mk(newClient(t, srv.Addr))
		l.mine = mk(shared, redis.WithHealthCheck(200*time.Millisecond))
		ok, err := l.holder.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		l.firstGot = acquireIn(ctx, t, l.first)
		queueLen(t, admin, l.name, 1)
		l.mineGot = acquireIn(ctx, t, l.mine)
		queueLen(t, admin, l.name, 2)
		lanes = append(lanes, l)
	}
	time.Sleep(300 * time.Millisecond) // both subscribed
	p.Silence()
	time.Sleep(time.Second) // the health check replaces the connection
	for i, l := range lanes {
		require.NoError(t, l.holder.Release(ctx))
		require.True(t, within(t, l.firstGot, 5*time.Second))
		require.NoError(t, l.first.Release(ctx))
		assert.True(t, within(t, l.mineGot, 5*time.Second), "lane %d: a handle on the silenced client was not woken", i)
		_ = l.mine.Release(ctx)
	}
}

// TestReviewChurnLeavesNoSubscriptionNorEntry: forty handles on one
// client wait for a held lock with deadlines of 0 to 8 ms (cut off before,
// while and after they subscribe), twenty times each. Afterwards no waiter
// channel is subscribed, the queue is empty (entries of waits that ended
// leave at once, not a lease later), and the client's pub/sub connection
// closes.
func TestReviewChurnLeavesNoSubscriptionNorEntry(t *testing.T) {
	srv.Need(t)
	admin := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	holder, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithExpiry(reviewLease))
	require.NoError(t, err)
	ok, err := holder.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, ClientName: name})
	defer c.Close()
	var wg sync.WaitGroup
	for i := range 40 {
		l, err := redis.NewLock(c, name, redis.WithExpiry(reviewLease))
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				wctx, wcancel := context.WithTimeout(ctx, time.Duration((i*7+j)%9)*time.Millisecond)
				_, _ = l.Acquire(wctx)
				wcancel()
			}
		}()
	}
	wg.Wait()
	assert.Eventually(t, func() bool {
		chans, err := admin.PubSubChannels(ctx, lockKey(name)+":released:*").Result()
		return err == nil && len(chans) == 0
	}, 5*time.Second, 10*time.Millisecond, "waiter channels left subscribed")
	assert.Eventually(t, func() bool { return len(waiters(t, admin, name)) == 0 },
		5*time.Second, 10*time.Millisecond, "queue entries of ended waits left")
	assert.Eventually(t, func() bool { return len(subscriberConns(t, admin, name)) == 0 },
		5*time.Second, 10*time.Millisecond, "the client's pub/sub connection left open: %v", subscriberConns(t, admin, name))
	require.NoError(t, holder.Release(ctx))
}

// subscriberConns are the CLIENT LIST lines of the connections named name
// whose last command was a pub/sub one (the client's shared connection).
func subscriberConns(t *testing.T, admin *goredis.Client, name string) []string {
	t.Helper()
	list, err := admin.ClientList(context.Background()).Result()
	require.NoError(t, err)
	var out []string
	for _, line := range splitLines(list) {
		if containsField(line, "name", name) && (strings.Contains(line, "cmd=subscribe") || strings.Contains(line, "cmd=unsubscribe") || strings.Contains(line, "cmd=ping") || !containsField(line, "sub", "0")) {
			out = append(out, line)
		}
	}
	return out
}

// TestReviewLateAttemptsOfAWaitThatGaveUpHoldTheLock (DEFECT: attempts of
// a wait that are still on their way when it gives up land after its
// leave, and take the free lock for nobody, each later one renewing it
// through the "an earlier attempt of this wait took it" branch of the
// acquire script; the lock is held by no one for as long as they keep
// landing, and a lease after the last): a waiter whose requests are
// delayed (3 s, past its 200 ms attempt bound) for 2 s gives up; another
// waiter takes the lock and gives it back; from then on the lock is free,
// yet a third handle finds it taken for longer than a lease (1 s).
func TestReviewLateAttemptsOfAWaitThatGaveUpHoldTheLock(t *testing.T) {
	srv.Need(t)
	admin := newClient(t, srv.Addr)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const lease = time.Second
	mk := func(c *goredis.Client) *redis.Lock {
		l, err := redis.NewLock(c, name, redis.WithExpiry(lease), redis.WithTimeout(200*time.Millisecond))
		require.NoError(t, err)
		return l
	}
	slow := newClient(t, p.Addr())
	var warm sync.WaitGroup // the slow client's pool: idle connections for its attempts
	for range 12 {
		warm.Add(1)
		go func() { defer warm.Done(); _ = slow.BLPop(ctx, 300*time.Millisecond, name+":none").Err() }()
	}
	warm.Wait()
	holder, waiter, other, probe := mk(newClient(t, srv.Addr)), mk(slow), mk(newClient(t, srv.Addr)), mk(newClient(t, srv.Addr))
	ok, err := holder.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	wctx, wcancel := context.WithCancel(ctx)
	waiterGot := acquireIn(wctx, t, waiter)
	queueLen(t, admin, name, 1)
	time.Sleep(300 * time.Millisecond) // subscribed
	p.Delay(serverproc.ToServer, 3*time.Second)
	time.Sleep(2 * time.Second) // its attempts go out, and are late
	p.Delay(serverproc.ToServer, 0)
	wcancel()
	require.ErrorIs(t, <-waiterGot, context.Canceled)
	gaveUp := time.Now()
	otherGot := acquireIn(ctx, t, other)
	require.NoError(t, holder.Release(ctx))
	require.True(t, within(t, otherGot, 5*time.Second))
	require.NoError(t, other.Release(ctx))
	// Nobody wants the lock now: the probe should find it free, but for a
	// late attempt's lease at most.
	var longest, stretch time.Duration
	var since time.Time
	for end := time.Now().Add(6 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		ok, err := probe.TryAcquire(ctx)
		require.NoError(t, err)
		if ok {
			require.NoError(t, probe.Release(ctx))
			since = time.Time{}
			continue
		}
		if since.IsZero() {
			since = time.Now()
		}
		stretch = time.Since(since)
		longest = max(longest, stretch)
	}
	t.Logf("the lock was taken by nobody for %v at a stretch (the waiter gave up %v before the probes ended)", longest.Round(time.Millisecond), time.Since(gaveUp).Round(time.Millisecond))
	assert.Less(t, longest, lease+500*time.Millisecond, "a wait that gave up held the lock for nobody for longer than a lease")
}

// TestReviewSemaphoreHoldersThatDieFreeTheirPermitsForEveryWaiter (DEFECT:
// when holders' leases run out with no release, the first waiter (which
// polls) takes a permit, and the acquire script wakes nobody else though
// more permits are free: the waiters behind it wait for their own poll, a
// third to a half of their lease): a semaphore of 3 permits held by three
// handles that die (their traffic stalled; their leases are 1 s), with two
// waiters queued behind them (leases of 30 s). Both waiters should have a
// permit within seconds of the holders' leases running out.
func TestReviewSemaphoreHoldersThatDieFreeTheirPermitsForEveryWaiter(t *testing.T) {
	srv.Need(t)
	p, err := serverproc.NewProxy(srv.Addr)
	require.NoError(t, err)
	defer p.Close()
	admin := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 3 {
		h, err := redis.NewSemaphore(newClient(t, p.Addr()), name, 3, redis.WithExpiry(time.Second))
		require.NoError(t, err)
		ok, err := h.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
	}
	var gots []<-chan error
	for i := range 2 {
		w, err := redis.NewSemaphore(newClient(t, srv.Addr), name, 3, redis.WithExpiry(reviewLease))
		require.NoError(t, err)
		gots = append(gots, acquireIn(ctx, t, w))
		require.Eventually(t, func() bool {
			n, err := admin.ZCard(ctx, "mixin:semaphore:{"+name+"}:waiters").Result()
			return err == nil && n == int64(i+1)
		}, 10*time.Second, time.Millisecond)
	}
	p.Stall() // the holders die
	start := time.Now()
	for i, got := range gots {
		assert.True(t, within(t, got, 4*time.Second-time.Since(start)), "waiter %d had no permit %v after the holders died (their leases are 1 s; two permits were free)", i, time.Since(start).Round(time.Millisecond))
	}
	p.Resume()
}

// TestReviewKeysExpireAfterChurn: a lock and a semaphore of 2 used by six
// handles with deadlines of 0 to 20 ms (waits cut off before, while and
// after they queue), TryAcquire among them; afterwards every key of the
// two names has an expiry (SCAN + PTTL).
func TestReviewKeysExpireAfterChurn(t *testing.T) {
	srv.Need(t)
	admin := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 6 {
		l, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithExpiry(5*time.Second))
		require.NoError(t, err)
		s, err := redis.NewSemaphore(newClient(t, srv.Addr), name, 2, redis.WithExpiry(5*time.Second))
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 40 {
				wctx, wcancel := context.WithTimeout(ctx, time.Duration((i*5+j)%21)*time.Millisecond)
				for _, h := range []interface {
					Acquire(context.Context) (bool, error)
					TryAcquire(context.Context) (bool, error)
					Release(context.Context) error
				}{l, s} {
					var ok bool
					if j%3 == 0 {
						ok, _ = h.TryAcquire(wctx)
					} else {
						ok, _ = h.Acquire(wctx)
					}
					if ok {
						time.Sleep(time.Millisecond)
						_ = h.Release(ctx)
					}
				}
				wcancel()
			}
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // the background leaves
	var keys []string
	for _, kind := range []string{"lock", "semaphore"} {
		iter := admin.Scan(ctx, 0, "mixin:"+kind+":{"+name+"}*", 100).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		require.NoError(t, iter.Err())
	}
	assert.NotEmpty(t, keys)
	for _, k := range keys {
		ttl, err := admin.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.NotEqual(t, time.Duration(-1), ttl, "%s has no expiry", k)
	}
	t.Logf("%d keys, each with an expiry", len(keys))
}
