package redis

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// counterTTL is how long a name's counter (a lock's last fencing token, an
// event's last number) outlives its last use. Numbers are minted never
// below the server's clock in µs, so a counter that expired is not needed
// to keep them rising: by then the clock has passed every number it held
// (the counter runs ahead of the clock only by the numbers minted within
// one µs).
const counterTTL = time.Minute

// engine takes leases of one lock or one semaphore (permits > 0), and
// queues its waiters: a sorted set of the waiting handles' ids in the order
// they came (queue), and beside it the deadline of each (until), which a
// waiter moves on while it waits, so that a waiter whose client died ages
// out. Only the first waiters in the queue (the first for a lock, as many
// as there are free permits for a semaphore) may take a hold, and a release
// wakes them, each on a channel of its own, and no other.
type engine struct {
	client  goredis.UniversalClient
	st      *clientState
	cfg     config
	scripts *scripts
	permits int // 0: a lock
	// key is the lock's key (the holder's value) or the semaphore's sorted
	// set of holders (value -> end of the lease, server ms).
	key, fence, queue, until, channel string
	checked                           atomic.Int64 // when the eviction policy was last found safe (UnixNano); 0: never
}

// scripts are an engine's Lua scripts: a lock's or a semaphore's.
type scripts struct {
	acquire, release, leave, extend, held *goredis.Script
	locked                                func(ctx context.Context, e *engine) (bool, error)
}

func newEngine(client goredis.UniversalClient, cfg config, kind, name string, permits int, s *scripts) *engine {
	key := baseKey(cfg.prefix, kind, name)
	return &engine{client: client, st: stateOf(client), cfg: cfg, scripts: s, permits: permits, key: key,
		fence: key + ":fence", queue: key + ":waiters", until: key + ":waiters:until", channel: key + ":released"}
}

// preludeLua opens every script: the server's clock (now_us, now in ms),
// and the functions the scripts share.
//
// mint(key) is the next number of the counter kept in key, one more than
// the last and never less than the server's clock in µs, so that a server
// that lost the counter (expired, restarted without persistence or from an
// older snapshot, evicted) still mints a number above every earlier one, as
// long as its clock has not gone back. Microseconds stay exact in Lua's
// doubles until the year 2255. The counter expires counterTTL after its
// last use.
//
// purge drops the waiters whose deadline passed (at most 100 a call) and
// says how many; wake publishes to each of the first n waiters on a channel
// of its own (the channel's name, ':', its id), so that a wake-up reaches
// the waiter's client and no other;
// enqueue puts id at the back of the queue (where it is if it is there
// already) with a deadline ttl ms away, and returns its place (0: first).
const preludeLua = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000)
local function mint(key)
  local n = now_us
  local last = tonumber(redis.call('GET', key)) or 0
  if last >= n then n = last + 1 end
  redis.call('SET', key, string.format('%.0f', n), 'PX', ` + "COUNTER_TTL" + `)
  return n
end
local function purge(q, d)
  local gone = redis.call('ZRANGEBYSCORE', d, '-inf', now, 'LIMIT', 0, 100)
  if #gone > 0 then
    redis.call('ZREM', q, unpack(gone))
    redis.call('ZREM', d, unpack(gone))
  end
  return #gone
end
local function wake(q, ch, n)
  if n <= 0 then return end
  for _, id in ipairs(redis.call('ZRANGE', q, 0, n - 1)) do
    redis.call('PUBLISH', ch .. ':' .. id, id)
  end
end
local function expire(k, ttl)
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ttl) end
end
local function enqueue(q, d, id, ttl)
  if not redis.call('ZSCORE', q, id) then redis.call('ZADD', q, now_us, id) end
  redis.call('ZADD', d, now + ttl, id)
  expire(q, ttl)
  expire(d, ttl)
  return redis.call('ZRANK', q, id)
end
`

// script is a Lua script with the prelude before it.
func script(body string) *goredis.Script {
	return goredis.NewScript(strings.Replace(preludeLua, "COUNTER_TTL", strconv.FormatInt(counterTTL.Milliseconds(), 10), 1) + body)
}

// The lock's scripts. KEYS: the key, the fence, the queue, its deadlines.
// ARGV of acquire: the waiter's id (the hold's value), the lease (ms), how
// long the waiter's place is kept (ms; 0: do not queue), the channel. It
// returns the hold's token, 0 when another holds the lock (or comes first),
// or -1 less the waiter's place in the queue.
var lockScripts = &scripts{
	acquire: script(`
local id, lease, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = redis.call('GET', KEYS[1])
if cur == id then -- an earlier attempt of this wait took it
  redis.call('PEXPIRE', KEYS[1], lease)
  return mint(KEYS[2])
end
local purged = purge(KEYS[3], KEYS[4])
if not cur then
  local head = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  if not head or head == id then
    redis.call('SET', KEYS[1], id, 'PX', lease)
    if head then
      redis.call('ZREM', KEYS[3], id)
      redis.call('ZREM', KEYS[4], id)
    end
    return mint(KEYS[2])
  end
  if purged > 0 then wake(KEYS[3], ARGV[4], 1) end
end
if ttl > 0 then return -1 - enqueue(KEYS[3], KEYS[4], id, ttl) end
return 0
`),
	// release deletes the key if it still holds this hold's value, and
	// wakes the first waiter; 1 when it did.
	release: script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
purge(KEYS[3], KEYS[4])
wake(KEYS[3], ARGV[2], 1)
return 1
`),
	// leave takes a waiter that gave up out of the queue, and deletes the
	// key if an attempt of its took it after all; the first waiter is woken
	// when the lock is free and the one leaving was first or had it.
	leave: script(`
local freed = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  freed = 1
end
local rank = redis.call('ZRANK', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local purged = purge(KEYS[3], KEYS[4])
if (freed == 1 or rank == 0 or purged > 0) and redis.call('EXISTS', KEYS[1]) == 0 then
  wake(KEYS[3], ARGV[2], 1)
end
return freed
`),
	// extend moves the key's expiry if it still holds this hold's value; 1
	// when it did.
	extend: goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`),
	held: goredis.NewScript(`return redis.call('GET', KEYS[1]) == ARGV[1] and 1 or 0`),
	locked: func(ctx context.Context, e *engine) (bool, error) {
		n, err := e.client.Exists(ctx, e.key).Result()
		return n > 0, err
	},
}

// keys are the keys every script of the engine is given.
func (e *engine) keys() []string { return []string{e.key, e.fence, e.queue, e.until} }

// waiterTTL is how long a waiter's place in the queue is kept without a
// word from it: the lease, so that a waiter whose client died holds up the
// ones behind it no longer than a holder that died would. A waiter moves
// its deadline on every third of it.
func (e *engine) waiterTTL() time.Duration { return e.cfg.expiry }

// attempt bounds one refresh: a third of the lease (the first refresh,
// made a third into it, leaves as long again for a retry), and the
// timeout.
func (e *engine) attempt() time.Duration { return min(e.cfg.expiry/3, e.cfg.timeout) }

// drift is how much sooner than Redis a holder counts its lease as ended:
// for the clocks' rates and the time a reply takes to arrive.
func (e *engine) drift() time.Duration { return e.cfg.expiry/100 + 2*time.Millisecond }

// try makes one attempt for the waiter id: a lease; or nil and the
// waiter's place in the queue (-1 when it was not queued: queue false).
func (e *engine) try(ctx context.Context, id string, queue bool) (*lease, int64, error) {
	var ttl int64
	if queue {
		ttl = e.waiterTTL().Milliseconds()
	}
	start := time.Now()
	n, err := e.scripts.acquire.Run(ctx, e.client, e.keys(), id, e.cfg.expiry.Milliseconds(), ttl, e.channel, e.permits).Int64()
	switch {
	case err != nil:
		return nil, -1, err
	case n <= 0:
		return nil, -1 - n, nil
	}
	l := &lease{e: e, value: id, token: n}
	l.Begin(start.Add(e.cfg.expiry - e.drift()))
	return l, 0, nil
}

// leave takes the waiter id out of the queue, and gives back a hold an
// attempt of its took after all, in the background with a ctx of its own,
// bounded by the timeout.
func (e *engine) leave(ctx context.Context, id string) {
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
	defer cancel()
	_ = e.scripts.leave.Run(gctx, e.client, e.keys(), id, e.channel, e.permits).Err()
}

func (e *engine) TryAcquire(ctx context.Context) (dist.Lease, error) {
	if err := e.evictionSafe(ctx); err != nil {
		return nil, err
	}
	id := newValue()
	l, _, err := e.try(ctx, id, false)
	switch {
	case err != nil:
		if mayHaveLanded(err) {
			go e.leave(ctx, id)
		}
		return nil, err
	case l == nil:
		return nil, nil
	}
	return l, nil
}

// Acquire tries, and while it may not take a hold, waits in the queue: it
// subscribes (on the client's shared pub/sub connection) to the wake-ups
// before its second try, so that none is missed, then waits until a release
// names it, and tries again. The first in the queue also tries every
// retryMax, to notice a lease that ran out with no release; the others try
// every third of their place's lifetime, which keeps their place. Without
// a subscription (Redis refused it, or it dropped) it polls, the wait
// doubling from retryMin to retryMax. A wait that ends without a hold
// leaves the queue, and gives back what an attempt cut off may have taken.
func (e *engine) Acquire(ctx context.Context) (dist.Lease, error) {
	start := time.Now() // dial errors from here on are this wait's
	if err := e.evictionSafe(ctx); err != nil {
		return nil, err
	}
	id := newValue()
	var last error  // the last error Redis gave that says something
	var queued bool // an attempt may have queued id, or taken a hold
	var sub *subscription
	defer func() {
		if sub != nil {
			sub.leave()
		}
	}()
	fail := func(err error) (dist.Lease, error) {
		if queued && !errors.Is(err, goredis.ErrClosed) {
			go e.leave(ctx, id)
		}
		return nil, err
	}
	ended := func() (dist.Lease, error) {
		if last == nil {
			last = e.st.dialErrorSince(start)
		}
		return fail(dist.Ended(ctx, last, "redis"))
	}
	poll := e.cfg.retryMin
	for {
		// Each attempt is bounded by the timeout besides ctx: one that meets
		// a pooled connection gone silent gives it up (go-redis closes it)
		// and the next goes out on another.
		actx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
		l, place, err := e.try(actx, id, true)
		cancel()
		if err == nil || mayHaveLanded(err) {
			queued = true
		}
		switch {
		case l != nil:
			return l, nil
		case errors.Is(err, goredis.ErrClosed):
			return fail(err) // nothing will ever answer: do not wait for ctx
		case err != nil && dist.Says(err):
			last = err
		}
		if dist.Over(ctx) {
			return ended()
		}
		if err == nil && sub == nil { // queued: be told when it is our turn
			var serr error
			if sub, serr = e.st.subscribe(ctx, e.client, e.channel+":"+id, e.cfg.health); serr == nil {
				continue // try again: a wake-up before the subscription was not received
			}
			sub = nil
			switch {
			case errors.Is(serr, goredis.ErrClosed):
				return fail(serr)
			case dist.Says(serr):
				last = serr
			}
			if dist.Over(ctx) {
				return ended()
			}
		}
		var bound time.Duration
		switch {
		case err != nil || sub == nil: // back off, or poll
			bound = poll
			poll = min(2*poll, e.cfg.retryMax)
		case place == 0:
			bound = e.cfg.retryMax
			poll = e.cfg.retryMin
		default:
			bound = e.waiterTTL() / 3
			poll = e.cfg.retryMin
		}
		bound += rand.N(bound/2 + 1)
		if sub == nil {
			t := time.NewTimer(bound)
			select {
			case <-ctx.Done():
				t.Stop()
				return ended()
			case <-t.C:
			}
			continue
		}
		if err := sub.await(ctx, id, bound); errors.Is(err, errDropped) {
			sub.leave() // look again at once, and subscribe again if still waiting
			sub = nil
		}
		if dist.Over(ctx) {
			return ended()
		}
	}
}

// await waits until a wake-up names id, bound passes, the connection
// drops (errDropped) or ctx ends (its error).
func (s *subscription) await(ctx context.Context, id string, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		msgs, err := s.next(ctx, left)
		if err != nil || len(msgs) == 0 {
			return err
		}
		for _, m := range msgs {
			for _, w := range strings.Fields(m) {
				if w == id {
					return nil
				}
			}
		}
	}
}

func (e *engine) Locked(ctx context.Context) (bool, error) { return e.scripts.locked(ctx, e) }

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

// lease is one hold: its random value, its token, and where it ends by the
// local clock (the embedded Keeper).
type lease struct {
	dist.Keeper
	e     *engine
	value string
	token int64
}

func (l *lease) Token() int64 { return l.token }

// KeepAfter is when Keep has its first refresh to make: a third into the
// lease.
func (l *lease) KeepAfter() time.Duration { return l.e.cfg.expiry / 3 }

// Keep refreshes the lease at once (the handle starts it a third into the
// lease), then every third of it, through dist.Keeper: a refresh Redis
// refuses (the hold is gone or another's) loses the lease at once;
// refreshes that fail are retried until the lease runs out by the local
// clock, each attempt bounded by attempt().
func (l *lease) Keep(ctx context.Context) error {
	return l.Run(ctx, dist.Refresh{
		Every: l.e.cfg.expiry / 3, Attempt: l.e.attempt(), Length: l.e.cfg.expiry - l.e.drift(),
		Renew: func(ctx context.Context) (bool, error) {
			return l.e.scripts.extend.Run(ctx, l.e.client, []string{l.e.key}, l.value, l.e.cfg.expiry.Milliseconds()).Bool()
		},
		Refused: "redis refused to refresh the lease: the hold was gone or another's",
		Server:  "redis",
	})
}

func (l *lease) Release(ctx context.Context) (bool, error) {
	return l.e.scripts.release.Run(ctx, l.e.client, l.e.keys(), l.value, l.e.channel, l.e.permits).Bool()
}

func (l *lease) Held(ctx context.Context) (bool, error) {
	return l.e.scripts.held.Run(ctx, l.e.client, []string{l.e.key}, l.value).Bool()
}

// evictionSafe checks, at most once per evictionRecheck, that Redis cannot
// evict the engine's keys (INFO memory: no maxmemory, or the noeviction
// policy). It returns an error matching ErrEvictionPolicy when it can; nil
// when it cannot, or when Redis could not say (INFO refused: a managed
// Redis that hides it; or no answer, which the attempt that follows will
// meet too).
func (e *engine) evictionSafe(ctx context.Context) error {
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
