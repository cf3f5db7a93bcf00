package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Semaphore is one holder's handle on a counting semaphore named in Redis:
// up to Permits handles, on any clients and processes, hold it at once;
// each handle holds at most one permit. Each hold has a lease of its own,
// refreshed every third of it while held and reported lost as a Lock's is,
// and a fencing token of its own, larger than every earlier hold's of the
// name (whichever permit it took). Waiters queue in the order they came: a
// release wakes the first waiter, and no handle takes a permit ahead of
// those waiting.
//
// Its methods are those of a Lock (the embedded dist.Handle): Acquire,
// TryAcquire, Release, ReleaseUnchecked, Locked (true when every permit is
// taken; LockedContext returns its error), IsOwner, HeldContext, Lost,
// LostAt, Token and Name, so the Composer composes it as a lock and an
// owner lock with no adapter; and Permits. Handles of one name should be
// made with the same number of permits: an attempt counts with its own
// handle's. A Semaphore is made by NewSemaphore; its zero value is not
// usable.
type Semaphore struct {
	*dist.Handle
	permits int
}

// MaxPermits is the most permits a semaphore may have: the scripts count
// in Lua's doubles, and a queue's first MaxPermits waiters are woken at
// once at most.
const MaxPermits = 1 << 20

// Permits returns how many handles may hold the semaphore at once.
func (s *Semaphore) Permits() int { return s.permits }

// NewSemaphore returns a handle on the semaphore name, of permits permits,
// over client. Its keys are prefix:semaphore:{name} (the holders, each with
// the end of its lease), prefix:semaphore:{name}:fence (the last fencing
// token) and, while handles wait, prefix:semaphore:{name}:waiters and
// :waiters:until (the queue); every one of them expires. prefix is
// WithPrefix's ("mixin" by default), escaped as a Lock's. permits below 1
// or above MaxPermits, an empty name and a nil client are errors.
func NewSemaphore(client goredis.UniversalClient, name string, permits int, opts ...Option) (*Semaphore, error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	if permits < 1 || permits > MaxPermits {
		return nil, fmt.Errorf("mixin/redis: semaphore %q of %d permits: want 1 to %d", name, permits, MaxPermits)
	}
	cfg := newConfig(opts)
	e := newEngine(client, cfg, "semaphore", name, permits, semaphoreScripts)
	return &Semaphore{dist.NewHandle(e, name, fmt.Sprintf("redis semaphore %q", name), cfg.timeout), permits}, nil
}

// The semaphore's scripts. KEYS: the holders (a sorted set: each holder's
// value, scored with the end of its lease in server ms), the fence, the
// queue, its deadlines. ARGV of acquire: the waiter's id (the hold's
// value), the lease (ms), how long the waiter's place is kept (ms; 0: do
// not queue), the channel, the permits. It returns as a lock's does.
// Holders past the end of their lease are dropped by every script that
// counts them.
var semaphoreScripts = &scripts{
	acquire: script(`
local id, lease, ttl, permits = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local function hold()
  redis.call('ZADD', KEYS[1], now + lease, id)
  expire(KEYS[1], lease)
  return mint(KEYS[2])
end
if redis.call('ZSCORE', KEYS[1], id) then -- an earlier attempt of this wait took it
  return hold()
end
local purged = purge(KEYS[3], KEYS[4])
local free = permits - redis.call('ZCARD', KEYS[1])
if free > 0 then
  local rank = redis.call('ZRANK', KEYS[3], id)
  local at = rank or redis.call('ZCARD', KEYS[3])
  if at < free then
    if rank then
      redis.call('ZREM', KEYS[3], id)
      redis.call('ZREM', KEYS[4], id)
    end
    return hold()
  end
  if expired > 0 or purged > 0 then wake(KEYS[3], ARGV[4], free) end
end
if ttl > 0 then return -1 - enqueue(KEYS[3], KEYS[4], id, ttl) end
return 0
`),
	// release takes this hold out of the holders, if its lease has not
	// ended, and wakes as many waiters as there are free permits; 1 when it
	// did.
	release: script(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
purge(KEYS[3], KEYS[4])
wake(KEYS[3], ARGV[2], tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]))
return 1
`),
	// leave takes a waiter that gave up out of the queue, and out of the
	// holders if an attempt of its took a permit after all; the first
	// waiters are woken when permits are free.
	leave: script(`
local freed = redis.call('ZREM', KEYS[1], ARGV[1])
local rank = redis.call('ZRANK', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local purged = purge(KEYS[3], KEYS[4])
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if freed == 1 or rank or purged > 0 or expired > 0 then
  wake(KEYS[3], ARGV[2], tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]))
end
return freed
`),
	// extend moves the end of this hold's lease, if it has not passed; 1
	// when it did.
	extend: script(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) <= now then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
expire(KEYS[1], tonumber(ARGV[2]))
return 1
`),
	held: script(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) > now then return 1 end
return 0
`),
	locked: func(ctx context.Context, e *engine) (bool, error) {
		n, err := semaphoreLocked.Run(ctx, e.client, []string{e.key}, e.permits).Int64()
		return n > 0, err
	},
}

// semaphoreLocked says whether every permit is taken by a hold whose lease
// has not ended.
var semaphoreLocked = script(`
if redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') >= tonumber(ARGV[1]) then return 1 end
return 0
`)
