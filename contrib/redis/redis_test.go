package redis_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
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

// flushed is why a holder's promise is known not to survive FLUSHALL.
const flushed = "FLUSHALL deletes the lock's key: another handle acquires at once while the holder believes it holds the lock, until its next refresh (a third of the lease) finds the key gone; never run it on a Redis that holds locks"

// forgotten is why a holder's promise is known not to survive a brief
// restart of a Redis without persistence (the server the tests start).
const forgotten = "a Redis restarted without persistence has forgotten the lock's key: another handle acquires at once while the holder believes it holds the lock, until its next refresh (a third of the lease) finds the key gone; a lock that must survive a restart needs AOF with appendfsync always"

// engine is how the shared battery reaches Redis: each handle on a client
// of its own.
func engine() disttest.Engine {
	return disttest.Engine{
		Addr: srv.Addr, Server: srv.Server,
		Lease: 300 * time.Millisecond, Grace: 200 * time.Millisecond,
		NewLock: func(t testing.TB, at, name string, lease, timeout time.Duration) disttest.Lock {
			l, err := redis.NewLock(newClient(t, at), name, redis.WithExpiry(lease), redis.WithTimeout(timeout))
			require.NoError(t, err)
			return l
		},
		NewSemaphore: func(t testing.TB, at, name string, permits int, lease, timeout time.Duration) disttest.Lock {
			s, err := redis.NewSemaphore(newClient(t, at), name, permits, redis.WithExpiry(lease), redis.WithTimeout(timeout))
			require.NoError(t, err)
			return s
		},
		NewEvent: func(t testing.TB, at, name string, timeout time.Duration) disttest.Event {
			// A waiter whose subscription goes silent notices within 200 ms
			// (the battery's silence), not the default 6 s.
			e, err := redis.NewEvent[string](newClient(t, at), name, redis.WithTimeout(timeout), redis.WithHealthCheck(100*time.Millisecond))
			require.NoError(t, err)
			return e
		},
		Prefixed: func(t testing.TB, at, prefix, name string) disttest.Lock {
			l, err := redis.NewLock(newClient(t, at), name, redis.WithPrefix(prefix))
			require.NoError(t, err)
			return l
		},
		Conditions: []disttest.Condition{{
			Name:   "flushall",
			Does:   "FLUSHALL: every key of the server deleted at once, the locks' and the events' among them",
			Server: true,
			Make: func(t testing.TB, e disttest.Engine, _ *serverproc.Proxy) func() {
				require.NoError(t, newClient(t, e.Addr).FlushAll(context.Background()).Err())
				return func() {}
			},
		}},
		Known: map[string]string{
			"flushall/refreshing-contended": flushed,
			"flushall/waiting":              flushed,
			// MIXIN_STRESS's brief restart: back within a refresh.
			"server-restarted/brief/refreshing-contended": forgotten,
			"server-restarted/brief/waiting":              forgotten,
		},
		Closed: func(t testing.TB, at, name string, permits int) disttest.Lock {
			c := goredis.NewClient(&goredis.Options{Addr: at, ContextTimeoutEnabled: true})
			var l disttest.Lock
			var err error
			if permits == 0 {
				l, err = redis.NewLock(c, name)
			} else {
				l, err = redis.NewSemaphore(c, name, permits)
			}
			require.NoError(t, err)
			require.NoError(t, c.Close())
			return l
		},
	}
}

func TestRedis(t *testing.T) {
	srv.Need(t)
	disttest.Run(t, engine())
}

// tagged is a codec of the user's: JSON behind a version tag, to show the
// codec given is the one used.
type tagged struct{}

func (tagged) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append([]byte("v1:"), b...), err
}

func (tagged) Unmarshal(data []byte, v any) error {
	if len(data) < 3 || string(data[:3]) != "v1:" {
		return assert.AnError
	}
	return json.Unmarshal(data[3:], v)
}

func TestEventUsesTheCodecGiven(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	name := disttest.Unique(t)
	e, err := redis.NewEvent[int](c, name, redis.WithCodec(tagged{}))
	require.NoError(t, err)
	require.NoError(t, e.Set(7))
	raw, err := c.Get(context.Background(), e.Key()).Result()
	require.NoError(t, err)
	assert.Equal(t, "v1:7", raw)
	got, err := e.Get()
	require.NoError(t, err)
	assert.Equal(t, 7, got)

	plain, err := redis.NewEvent[int](c, name) // JSON cannot read it
	require.NoError(t, err)
	_, err = plain.Get()
	assert.ErrorContains(t, err, "decode")
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

// TestNewLockRefusesATypedNilClient: an unset *goredis.Client field is a
// non-nil interface holding a nil pointer; it is refused, not dereferenced.
func TestNewLockRefusesATypedNilClient(t *testing.T) {
	for _, c := range []goredis.UniversalClient{(*goredis.Client)(nil), (*goredis.ClusterClient)(nil), (*goredis.Ring)(nil)} {
		assert.NotPanics(t, func() {
			_, err := redis.NewLock(c, "x")
			assert.ErrorContains(t, err, "nil client", "%T", c)
			_, err = redis.NewEvent[int](c, "x")
			assert.ErrorContains(t, err, "nil client", "%T", c)
			_, err = redis.NewSemaphore(c, "x", 1)
			assert.ErrorContains(t, err, "nil client", "%T", c)
		})
	}
}

// TestFencingTokensGrowAcrossARestartInEveryPersistenceMode restarts a
// redis-server of its own that keeps nothing, one that keeps every write
// (AOF), and one that comes back from a snapshot older than the last holds:
// the tokens minted after the restart are above every token before it.
func TestFencingTokensGrowAcrossARestartInEveryPersistenceMode(t *testing.T) {
	if srv.Server == nil {
		t.Skip("needs redis-server installed: it starts servers of its own")
	}
	modes := []struct {
		name     string
		args     []string
		snapshot bool // SAVE after the first hold: the holds after it are lost
	}{
		{"none", []string{"--save", "", "--appendonly", "no"}, false},
		{"aof", []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always"}, false},
		{"stale-snapshot", []string{"--save", "", "--appendonly", "no"}, true},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			spec := serverproc.Redis
			spec.Args = func(ports []int, dir string) []string {
				return append([]string{"--port", strconv.Itoa(ports[0]), "--bind", "127.0.0.1",
					"--dir", dir, "--daemonize", "no"}, m.args...)
			}
			s, err := serverproc.Start(spec)
			require.NoError(t, err)
			defer s.Close()
			e := engine()
			e.Addr, e.Server = s.Addr(), s
			var afterFirst func()
			if m.snapshot {
				c := newClient(t, s.Addr())
				afterFirst = func() { require.NoError(t, c.Save(context.Background()).Err()) }
			}
			disttest.TokensGrowAcrossARestart(t, e, afterFirst, func() {
				s.Stop()
				require.NoError(t, s.Restart())
			})
		})
	}
}

// hashTag is the part of a key Redis Cluster hashes to pick its slot: what
// is between the first '{' and the first '}' after it, when not empty.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// TestALocksKeysShareOneClusterSlot: every key a held lock keeps, and every
// key of an event, has the same hash tag, so one script can reach them all
// on a Redis Cluster; names with braces and colons included.
func TestALocksKeysShareOneClusterSlot(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	ctx := context.Background()
	for _, name := range []string{disttest.Unique(t), disttest.Unique(t) + "{a}:b}", "{" + disttest.Unique(t)} {
		l, err := redis.NewLock(c, name)
		require.NoError(t, err)
		ok, err := l.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
		ev, err := redis.NewEvent[int](c, name)
		require.NoError(t, err)
		require.NoError(t, ev.Set(1))
		keys, err := c.Keys(ctx, "*").Result()
		require.NoError(t, err)
		tags := map[string][]string{}
		for _, k := range keys {
			if strings.Contains(k, ":lock:") || strings.Contains(k, ":event:") {
				tags[hashTag(k)] = append(tags[hashTag(k)], k)
			}
		}
		mine := tags[hashTag(ev.Key())]
		assert.Len(t, mine, 4, "the lock's key and fence and the event's key and number share one tag: %v", tags)
		assert.Contains(t, mine, ev.Key())
		require.NoError(t, l.Release(ctx))
		require.NoError(t, ev.Clear())
	}
}

// TestAWaitingAcquireIsWokenByTheRelease: a waiter whose poll is slow (2 s)
// takes the lock within a few round trips of its release, woken by the
// release's message, not by the poll.
func TestAWaitingAcquireIsWokenByTheRelease(t *testing.T) {
	srv.Need(t)
	name := disttest.Unique(t)
	holder, err := redis.NewLock(newClient(t, srv.Addr), name)
	require.NoError(t, err)
	waiter, err := redis.NewLock(newClient(t, srv.Addr), name, redis.WithRetry(2*time.Second, 2*time.Second))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		ok, err := holder.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
		acquired := make(chan time.Time, 1)
		go func() {
			ok, err := waiter.Acquire(ctx)
			assert.True(t, ok)
			assert.NoError(t, err)
			acquired <- time.Now()
		}()
		time.Sleep(200 * time.Millisecond) // the waiter waits
		released := time.Now()
		require.NoError(t, holder.Release(ctx))
		took := (<-acquired).Sub(released)
		// Under the 2 s poll by a margin a loaded machine keeps: the
		// release's message woke it.
		assert.Less(t, took, 1500*time.Millisecond, "the waiter was woken by the release")
		t.Logf("release to the waiter's acquire: %v", took.Round(10*time.Microsecond))
		require.NoError(t, waiter.Release(ctx))
	}
}

// counting is a go-redis hook that counts the commands a client sends, one
// round trip each.
type counting struct{ n atomic.Int64 }

func (c *counting) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *counting) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *counting) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestDoTakesTwoRoundTrips: an uncontended Do through the proxy is the
// acquire script (which mints the token) and the release script.
func TestDoTakesTwoRoundTrips(t *testing.T) {
	srv.Need(t)
	c := newClient(t, srv.Addr)
	hook := &counting{}
	c.AddHook(hook)
	l, err := redis.NewLock(c, disttest.Unique(t))
	require.NoError(t, err)
	lock, err := adapters.NewLock(l)
	require.NoError(t, err)
	ctx := context.Background()
	body := func(context.Context) error { return nil }
	require.NoError(t, lock.Do(ctx, body)) // loads the scripts
	hook.n.Store(0)
	const dos = 10
	for range dos {
		require.NoError(t, lock.Do(ctx, body))
	}
	assert.Equal(t, int64(2*dos), hook.n.Load(), "round trips for %d Dos", dos)
	tok, _ := l.Token()
	assert.Zero(t, tok, "no hold after Do")
}
