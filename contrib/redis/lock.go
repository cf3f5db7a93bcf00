// Package redis gives the library's distributed lock, owner lock and event
// on Redis: ready-made values the Composer composes with no adapter, thin
// layers over go-redis and redsync.
//
// A Lock is a handle per holder, made from a shared client and a name:
// handles with the same name on any number of clients and processes
// exclude each other. An Event keeps its value in a key and wakes its
// waiters, in every process, through pub/sub.
//
//	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
//	l, err := redis.NewLock(client, "orders")
//	...
//	err = mixin.Compose(l).Lock().Do(ctx, func(ctx context.Context) error {
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
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/go-redsync/redsync/v4"
	redsyncgoredis "github.com/go-redsync/redsync/v4/redis/goredis/v9"
	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// ErrNoContextTimeout is matched by the error of NewLock and NewEvent given
// a go-redis client without Options.ContextTimeoutEnabled.
var ErrNoContextTimeout = errors.New("mixin/redis: the go-redis client ignores ctx deadlines: set ContextTimeoutEnabled in its options")

// Lock is one holder's handle on a lock named in Redis. Acquire waits until
// the handle holds the lock or ctx ends; while held, the lease (the key's
// expiry) is refreshed every third of it, and a lease that could not be
// refreshed in time is reported lost: Lost's channel closes, Do through the
// Composer's proxy cancels its body's ctx with cause adapters.ErrLockLost,
// and Release returns an error matching adapters.ErrLockLost. Each hold has
// a fencing token, larger than every earlier hold's.
//
// Its methods are those of the embedded dist.Handle: Acquire, Release,
// ReleaseUnchecked, Locked (asks Redis; LockedContext returns its error),
// IsOwner (this hold's task and lease; HeldContext asks Redis), Lost,
// LostAt, Token and Name: the canonical methods of both the lock and the
// owner-lock kinds. Goroutines sharing one handle take turns (a handle is a lock
// itself); give each holder its own handle to let the server decide. A Lock
// is made by NewLock; its zero value is not usable.
type Lock struct {
	*dist.Handle
}

// NewLock returns a handle on the lock name over client. The key name holds
// the current holder's random value; the key name+":fence" counts holds (the
// fencing tokens).
func NewLock(client goredis.UniversalClient, name string, opts ...Option) (*Lock, error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	e := &lockEngine{client: client, rs: redsync.New(redsyncgoredis.NewPool(client)), name: name, cfg: cfg}
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

// lockEngine takes redsync leases of one name.
type lockEngine struct {
	client goredis.UniversalClient
	rs     *redsync.Redsync
	name   string
	cfg    config
}

func (e *lockEngine) Acquire(ctx context.Context) (dist.Lease, error) {
	wait := e.cfg.retryMin
	var last error // the last error Redis gave (not "held by another")
	for {
		m := e.rs.NewMutex(e.name, redsync.WithExpiry(e.cfg.expiry), redsync.WithTries(1))
		err := m.TryLockContext(ctx)
		if err == nil {
			token, err := e.client.Incr(ctx, e.name+":fence").Result()
			if err != nil {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
				_, _ = m.UnlockContext(rctx)
				cancel()
				return nil, fmt.Errorf("fencing token: %w", err)
			}
			return &lease{m: m, e: e, token: token}, nil
		}
		if errors.Is(err, goredis.ErrClosed) {
			return nil, err // nothing will ever answer: do not wait for ctx
		}
		var rerr *redsync.RedisError
		if errors.As(err, &rerr) {
			last = err
		} else {
			last = nil
		}
		if ctx.Err() != nil {
			return nil, ended(ctx, last)
		}
		t := time.NewTimer(wait + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ended(ctx, last)
		case <-t.C:
		}
		wait = min(2*wait, e.cfg.retryMax)
	}
}

// ended is the error of an acquire whose ctx ended: ctx's, with the last
// error Redis gave.
func ended(ctx context.Context, last error) error {
	if last == nil || errors.Is(last, ctx.Err()) {
		return ctx.Err()
	}
	return fmt.Errorf("%w (last error from redis: %v)", ctx.Err(), last)
}

func (e *lockEngine) Locked(ctx context.Context) (bool, error) {
	n, err := e.client.Exists(ctx, e.name).Result()
	return n > 0, err
}

// lease is one redsync hold.
type lease struct {
	m     *redsync.Mutex
	e     *lockEngine
	token int64
}

func (l *lease) Token() int64 { return l.token }

// Keep refreshes the key's expiry every third of it. A refresh Redis refuses
// (the key is gone or another's) loses the lease at once; refreshes that
// fail are retried until the lease runs out.
func (l *lease) Keep(ctx context.Context) error {
	every := l.e.cfg.expiry / 3
	until := l.m.Until()
	next := every
	for {
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		rctx, cancel := context.WithDeadline(ctx, until)
		ok, err := l.m.ExtendContext(rctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case ok:
			until, next = l.m.Until(), every
			continue
		case !serverError(err):
			return fmt.Errorf("redis refused to refresh the lease (the key was gone or another's): %v", err)
		case !time.Now().Before(until):
			return fmt.Errorf("%w (last error from redis: %v)", dist.ErrLeaseExpired, err)
		}
		next = max(time.Until(until)/4, time.Millisecond) // retry sooner
	}
}

// serverError reports whether err is Redis (or the way to it) failing, not
// Redis saying no.
func serverError(err error) bool {
	var rerr *redsync.RedisError
	return errors.As(err, &rerr) || errors.Is(err, redsync.ErrExtendFailed)
}

func (l *lease) Release(ctx context.Context) (bool, error) {
	ok, err := l.m.UnlockContext(ctx)
	if err != nil && !serverError(err) {
		return false, nil // already expired, or another's
	}
	return ok, err
}

func (l *lease) Held(ctx context.Context) (bool, error) {
	v, err := l.e.client.Get(ctx, l.e.name).Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	return v == l.m.Value(), err
}
