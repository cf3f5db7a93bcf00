// Package redis gives the library's distributed lock, owner lock, counting
// semaphore and event on Redis: ready-made values the Composer composes
// with no adapter, thin layers over go-redis (the lock and the semaphore
// are short Lua scripts of their own).
//
// A Lock is a handle per holder, made from a shared client and a name:
// handles with the same name on any number of clients and processes
// exclude each other. A Semaphore is the same with up to N holders at once.
// Their waiters queue on the server in the order they came, and a release
// wakes the first of them only. An Event keeps its value in a key and wakes
// its waiters, in every process, through pub/sub.
//
// Every wait on a client (of every Lock, Semaphore and Event made on it)
// shares one pub/sub connection, open while waits use it: the connections
// a client opens do not grow with the names or the waiters. Every key a
// name leaves behind expires (see NewLock, NewSemaphore, NewEvent).
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
// read timeout), and NewLock, NewSemaphore and NewEvent refuse it.
package redis

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// ErrNoContextTimeout is matched by the error of NewLock, NewSemaphore and NewEvent given
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
// that lost the last token (see preludeLua's mint). Waiters queue in the
// order they came: a release wakes the first waiter only, a waiter that
// gives up leaves the queue, and one whose client died ages out of it
// within its lease; a handle that released does not take the lock back
// ahead of those waiting. A wait subscribes on the client's shared pub/sub
// connection.
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
// prefix:lock:{name} (the holder's random value, expiring with the lease),
// prefix:lock:{name}:fence (the last fencing token, expiring a minute after
// it was minted: tokens keep rising without it) and, while handles wait,
// prefix:lock:{name}:waiters and :waiters:until (the queue, expiring a
// lease after its last waiter's last word); a waiter is woken on the
// channel prefix:lock:{name}:released:<its id>. prefix is WithPrefix's
// ("mixin" by default), and ':', '{', '}' and '%' in the prefix and the name
// are escaped as %XX.
func NewLock(client goredis.UniversalClient, name string, opts ...Option) (*Lock, error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	e := newEngine(client, cfg, "lock", name, 0, lockScripts)
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
