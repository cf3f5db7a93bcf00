// Package redis gives the library's distributed lock, owner lock and event
// on Redis: ready-made values the Composer composes with no adapter, thin
// layers over go-redis (the lock is three short Lua scripts of its own).
//
// A Lock is a handle per holder, made from a shared client and a name:
// handles with the same name on any number of clients and processes
// exclude each other. An Event keeps its value in a key and wakes its
// waiters, in every process, through pub/sub.
//
//	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
//	l, err := redis.NewLock(client, "orders")
//	if err != nil {
//		return err
//	}
//	c, err := mixin.Compose(l) // a lock and an owner lock
//	if err != nil {
//		return err
//	}
//	lock, _ := c.Lock()
//	err = lock.Do(ctx, func(ctx context.Context) error {
//		// ctx is cancelled, with cause adapters.ErrLockLost, if the lease is lost
//		return nil
//	})
//
// The client must have ContextTimeoutEnabled set: without it go-redis
// ignores ctx deadlines (a call on a dead server then takes the client's
// read timeout), and NewLock and NewEvent refuse it.
package redis

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// ErrNoContextTimeout is matched by the error of NewLock and NewEvent given
// a go-redis client without Options.ContextTimeoutEnabled.
var ErrNoContextTimeout = errors.New("mixin/redis: the go-redis client ignores ctx deadlines: set ContextTimeoutEnabled in its options")

// ErrEvictionPolicy is matched by the error of Acquire and TryAcquire on a
// Redis that can evict a lock's key: one with a memory limit (maxmemory)
// and an eviction policy other than noeviction. An evicted key is a lock
// taken from its holder in silence: another handle acquires at once while
// the holder still believes it holds the lock, until its next refresh.
// Set maxmemory-policy to noeviction (or no maxmemory), keep the locks on a
// Redis of their own, or take the risk with AllowEviction.
var ErrEvictionPolicy = errors.New("mixin/redis: this redis can evict lock keys (maxmemory with a maxmemory-policy other than noeviction); set maxmemory-policy noeviction, or AllowEviction to take the risk")

// evictionRecheck is how long a handle trusts the eviction policy it
// found, before it asks again.
const evictionRecheck = time.Minute

// Lock is one holder's handle on a lock named in Redis. Acquire waits until
// the handle holds the lock or ctx ends, woken by the holder's release;
// TryAcquire makes one attempt. While held, the lease (the key's expiry) is
// refreshed every third of it, and a lease that could not be refreshed in
// time is reported lost: Lost's channel closes, Do through the Composer's
// proxy cancels its body's ctx with cause adapters.ErrLockLost, and Release
// returns an error matching adapters.ErrLockLost. Each hold has a fencing
// token, larger than every earlier hold's, also across a restart of Redis
// that lost the last token (see acquireScript). A handle keeps one pub/sub
// connection of its own once it has waited.
//
// Its methods are those of the embedded dist.Handle: Acquire, TryAcquire, Release,
// ReleaseUnchecked, Locked (asks Redis; LockedContext returns its error),
// IsOwner (this hold's task and lease; HeldContext asks Redis), Lost,
// LostAt, Token and Name: the canonical methods of both the lock and the
// owner-lock kinds. Goroutines sharing one handle take turns (a handle is a lock
// itself); give each holder its own handle to let the server decide. A Lock
// is made by NewLock; its zero value is not usable.
type Lock struct {
	*dist.Handle
}

// NewLock returns a handle on the lock name over client. Its keys are
// prefix:lock:{name} (the holder's random value, expiring with the lease)
// and prefix:lock:{name}:fence (the last fencing token), and a release is
// published on the channel prefix:lock:{name}:released; prefix is
// WithPrefix's ("mixin" by default), and ':', '{', '}' and '%' in the prefix
// and the name are escaped as %XX.
func NewLock(client goredis.UniversalClient, name string, opts ...Option) (*Lock, error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	key := baseKey(cfg.prefix, "lock", name)
	e := &lockEngine{client: client, key: key, fence: key + ":fence", released: key + ":released", cfg: cfg}
	return &Lock{dist.NewHandle(e, name, fmt.Sprintf("redis lock %q", name), cfg.timeout)}, nil
}

// usable checks a client and a name before a handle is made of them.
func usable(client goredis.UniversalClient, name string) error {
	if client == nil {
		return errors.New("mixin/redis: nil client")
	}
	if v := reflect.ValueOf(client); v.Kind() == reflect.Pointer && v.IsNil() {
		return fmt.Errorf("mixin/redis: nil client (a nil %T)", client)
	}
	if name == "" {
		return errors.New("mixin/redis: empty name")
	}
	enabled := true
	switch c := client.(type) {
	case *goredis.Client:
		enabled = c.Options().ContextTimeoutEnabled
	case *goredis.ClusterClient:
		enabled = c.Options().ContextTimeoutEnabled
	case *goredis.Ring:
		enabled = c.Options().ContextTimeoutEnabled
	}
	if !enabled {
		return ErrNoContextTimeout
	}
	return nil
}

// lockEngine takes leases of one lock: the key holds the holder's random
// value, with the lease as its expiry; the fence key holds the last token
// minted; a release publishes on the released channel.
type lockEngine struct {
	client               goredis.UniversalClient
	key, fence, released string
	cfg                  config
	sub                  *goredis.PubSub // waits for releases; see subscribe
	checked              atomic.Int64    // when the eviction policy was last found safe (UnixNano); 0: never
}

// evictionSafe checks, at most once per evictionRecheck, that Redis cannot
// evict the lock's key (INFO memory: no maxmemory, or the noeviction
// policy). It returns an error matching ErrEvictionPolicy when it can; nil
// when it cannot, or when Redis could not say (INFO refused: a managed
// Redis that hides it; or no answer, which the attempt that follows will
// meet too).
func (e *lockEngine) evictionSafe(ctx context.Context) error {
	if e.cfg.allowEviction {
		return nil
	}
	if at := e.checked.Load(); at != 0 && time.Since(time.Unix(0, at)) < evictionRecheck {
		return nil
	}
	info, err := e.client.Info(ctx, "memory").Result()
	if err != nil {
		var rerr goredis.Error
		if errors.As(err, &rerr) { // refused: do not ask again soon
			e.checked.Store(time.Now().UnixNano())
		}
		return nil
	}
	var maxmemory int64
	var policy string
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "maxmemory":
			maxmemory, _ = strconv.ParseInt(v, 10, 64)
		case "maxmemory_policy":
			policy = v
		}
	}
	if maxmemory > 0 && policy != "" && policy != "noeviction" {
		return fmt.Errorf("%w (maxmemory %d, maxmemory-policy %s)", ErrEvictionPolicy, maxmemory, policy)
	}
	e.checked.Store(time.Now().UnixNano())
	return nil
}

// acquireScript takes the lock if it is free (SET NX PX) and, in the same
// step, mints the hold's fencing token with mint; 0 when the lock is held.
var acquireScript = goredis.NewScript(mintLua + `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
return mint(KEYS[2])
`)

// mintLua defines mint(key): the next number of a counter kept in key, one
// more than the last, and never less than the server's clock in
// microseconds (TIME), so that a server that lost the counter (restarted
// without persistence, or from an older snapshot, or evicted it) still
// mints a number above every earlier one, as long as its clock has not gone
// back. Microseconds stay exact in Lua's doubles until the year 2255.
const mintLua = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local function mint(key)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local last = tonumber(redis.call('GET', key)) or 0
  if last < now then
    redis.call('SET', key, string.format('%.0f', now))
    return now
  end
  return redis.call('INCR', key)
end
`

// releaseScript deletes the key if it still holds this hold's value, and
// tells the waiters; 1 when it did.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '')
  return 1
end
return 0
`)

// extendScript moves the key's expiry if it still holds this hold's value;
// 1 when it did.
var extendScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// attempt bounds one refresh: a third of the lease (the first refresh,
// made a third into it, leaves as long again for a retry), and the
// timeout.
func (e *lockEngine) attempt() time.Duration { return min(e.cfg.expiry/3, e.cfg.timeout) }

// drift is how much sooner than Redis a holder counts its lease as ended:
// for the clocks' rates and the time a reply takes to arrive.
func (e *lockEngine) drift() time.Duration { return e.cfg.expiry/100 + 2*time.Millisecond }

// try makes one attempt: a lease, or nil when another holds the lock. An
// attempt that fails in a way that may have let the SET land (cut off by
// ctx, a connection lost after the write) is given back in the background
// with a ctx of its own, bounded by the timeout.
func (e *lockEngine) try(ctx context.Context) (*lease, error) {
	value := newValue()
	start := time.Now()
	token, err := acquireScript.Run(ctx, e.client, []string{e.key, e.fence}, value, e.cfg.expiry.Milliseconds()).Int64()
	switch {
	case err != nil:
		if mayHaveLanded(err) {
			go e.giveBack(ctx, value)
		}
		return nil, err
	case token == 0:
		return nil, nil
	}
	l := &lease{e: e, value: value, token: token}
	l.Begin(start.Add(e.cfg.expiry - e.drift()))
	return l, nil
}

// giveBack deletes the key if an attempt that failed set it after all.
func (e *lockEngine) giveBack(ctx context.Context, value string) {
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
	defer cancel()
	_ = releaseScript.Run(gctx, e.client, []string{e.key}, value, e.released).Err()
}

func (e *lockEngine) TryAcquire(ctx context.Context) (dist.Lease, error) {
	if err := e.evictionSafe(ctx); err != nil {
		return nil, err
	}
	l, err := e.try(ctx)
	if l == nil {
		return nil, err
	}
	return l, nil
}

// Acquire tries, and while another holds the lock waits for the release
// its holder publishes (subscribed before the second try, so that no
// release is missed), trying again at least every retryMax to notice a
// lease that ran out without a release. Without a subscription (Redis
// refused it) it polls, the wait doubling from retryMin to retryMax.
func (e *lockEngine) Acquire(ctx context.Context) (dist.Lease, error) {
	if err := e.evictionSafe(ctx); err != nil {
		return nil, err
	}
	wait := e.cfg.retryMin
	var last error // the last error Redis gave that says something
	var sub *goredis.PubSub
	unsubscribe := func(bool) {}
	defer func() { unsubscribe(false) }()
	for {
		// Each attempt is bounded by the timeout besides ctx: one that meets
		// a pooled connection gone silent gives it up (go-redis closes it)
		// and the next goes out on another.
		actx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
		l, err := e.try(actx)
		cancel()
		switch {
		case l != nil:
			return l, nil
		case errors.Is(err, goredis.ErrClosed):
			return nil, err // nothing will ever answer: do not wait for ctx
		case err != nil && dist.Says(err):
			last = err
		}
		if dist.Over(ctx) {
			return nil, dist.Ended(ctx, last, "redis")
		}
		if err == nil && sub == nil { // held: be told of its release
			if sub, unsubscribe, err = e.subscribe(ctx); err == nil {
				continue // try again: a release before the subscription is not published to it
			}
			if dist.Says(err) {
				last = err
			}
		}
		if sub != nil {
			bound := e.cfg.retryMax + rand.N(e.cfg.retryMax/2+1)
			if _, err := sub.ReceiveTimeout(ctx, bound); err != nil && !timedOut(err) {
				unsubscribe(true) // the connection dropped: subscribe again when next held
				sub, unsubscribe = nil, func(bool) {}
			}
			if dist.Over(ctx) {
				return nil, dist.Ended(ctx, last, "redis")
			}
			continue
		}
		t := time.NewTimer(wait + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, dist.Ended(ctx, last, "redis")
		case <-t.C:
		}
		wait = min(2*wait, e.cfg.retryMax)
	}
}

// subscribe subscribes the handle's pub/sub connection (opened by its first
// wait, kept for the next ones, closed with the client) to the lock's
// releases, and waits for Redis to confirm, passing over what an earlier
// subscription left unread. A ctx that ends closes the connection, which
// ends a wait on it. unsubscribe unsubscribes, or drops the connection when
// it failed. Only the handle's one Acquire at a time calls it.
func (e *lockEngine) subscribe(ctx context.Context) (_ *goredis.PubSub, unsubscribe func(failed bool), _ error) {
	if e.sub == nil {
		e.sub = e.client.Subscribe(ctx) // no channel: no connection yet
	}
	sub := e.sub
	drop := func() {
		_ = sub.Close()
		e.sub = nil
	}
	err := sub.Subscribe(ctx, e.released)
	for err == nil {
		var msg any
		if msg, err = sub.Receive(ctx); err == nil {
			if s, ok := msg.(*goredis.Subscription); ok && s.Kind == "subscribe" {
				break
			}
		}
	}
	if err != nil {
		drop()
		return nil, func(bool) {}, err
	}
	stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
	return sub, func(failed bool) {
		if !stop() || failed {
			drop() // closed by the ctx, or broken
			return
		}
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
		defer cancel()
		if sub.Unsubscribe(uctx, e.released) != nil {
			drop()
		}
	}, nil
}

// timedOut reports whether err is a read that timed out.
func timedOut(err error) bool {
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout()
}

// newValue is a hold's random value: no other hold's, on any client.
func newValue() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// mayHaveLanded reports whether a call that failed with err may still have
// been carried out by Redis: not when Redis answered with an error, nor when
// the call never left (no connection could be had).
func mayHaveLanded(err error) bool {
	var rerr goredis.Error
	var op *net.OpError
	switch {
	case errors.As(err, &rerr), errors.Is(err, goredis.ErrClosed), errors.Is(err, goredis.ErrPoolTimeout):
		return false
	case errors.As(err, &op) && op.Op == "dial":
		return false
	}
	return true
}

func (e *lockEngine) Locked(ctx context.Context) (bool, error) {
	n, err := e.client.Exists(ctx, e.key).Result()
	return n > 0, err
}

// lease is one hold: its random value in the key, its token, and where it
// ends by the local clock (the embedded Keeper).
type lease struct {
	dist.Keeper
	e     *lockEngine
	value string
	token int64
}

func (l *lease) Token() int64 { return l.token }

// KeepAfter is when Keep has its first refresh to make: a third into the
// lease.
func (l *lease) KeepAfter() time.Duration { return l.e.cfg.expiry / 3 }

// Keep refreshes the key's expiry at once (the handle starts it a third
// into the lease), then every third of it, through dist.Keeper: a refresh
// Redis refuses (the key is gone or another's) loses the lease at once;
// refreshes that fail are retried until the lease runs out by the local
// clock, each attempt bounded by attempt().
func (l *lease) Keep(ctx context.Context) error {
	return l.Run(ctx, dist.Refresh{
		Every: l.e.cfg.expiry / 3, Attempt: l.e.attempt(), Length: l.e.cfg.expiry - l.e.drift(),
		Renew: func(ctx context.Context) (bool, error) {
			return extendScript.Run(ctx, l.e.client, []string{l.e.key}, l.value, l.e.cfg.expiry.Milliseconds()).Bool()
		},
		Refused: "redis refused to refresh the lease: the key was gone or another's",
		Server:  "redis",
	})
}

func (l *lease) Release(ctx context.Context) (bool, error) {
	return releaseScript.Run(ctx, l.e.client, []string{l.e.key}, l.value, l.e.released).Bool()
}

func (l *lease) Held(ctx context.Context) (bool, error) {
	v, err := l.e.client.Get(ctx, l.e.key).Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	return v == l.value, err
}
