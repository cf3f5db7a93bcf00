// Package etcd gives the library's distributed lock, owner lock and event
// on etcd: ready-made values the Composer composes with no adapter, thin
// layers over etcd's client/v3 and its concurrency package.
//
// A Lock is a handle per holder, made from a shared client and a name: each
// hold is a concurrency.Mutex on a session (a lease) of its own, kept alive
// by the client while held. An Event keeps its value in a key and wakes its
// waiters, in every process, through a Watch from the revision it read.
//
//	client, err := clientv3.New(clientv3.Config{Endpoints: []string{addr}})
//	l, err := etcd.NewLock(client, "orders")
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
package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Lock is one holder's handle on a lock named in etcd. Acquire waits until
// the handle holds the lock or ctx ends (etcd's Mutex.Lock may outlive its
// ctx while the server is away: the handle does not wait for it, and gives
// back a hold that comes too late). While held, the hold's lease is kept
// alive; a lease that expires is reported lost: Lost's channel closes, Do
// through the Composer's proxy cancels its body's ctx with cause
// adapters.ErrLockLost, and Release returns an error matching
// adapters.ErrLockLost. Each hold's fencing token is its key's create
// revision, larger than every earlier hold's.
//
// Its methods are those of the embedded dist.Handle: Acquire, TryAcquire, Release,
// ReleaseUnchecked, Locked (asks etcd; LockedContext returns its error),
// IsOwner (this hold's task and lease; HeldContext asks etcd), Lost,
// LostAt, Token and Name: the canonical methods of both the lock and the
// owner-lock kinds. Goroutines sharing one handle take turns (a handle is a lock
// itself); give each holder its own handle to let the server decide. A Lock
// is made by NewLock; its zero value is not usable.
type Lock struct {
	*dist.Handle
}

// NewLock returns a handle on the lock name over client: its holds are keys
// under prefix/lock/name/, as etcd's concurrency.Mutex makes them; prefix
// is WithPrefix's ("mixin" by default), and '/' and '%' in the prefix and
// the name are escaped as %XX.
func NewLock(client *clientv3.Client, name string, opts ...Option) (*Lock, error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	e := &lockEngine{client: client, key: baseKey(cfg.prefix, "lock", name), cfg: cfg}
	return &Lock{dist.NewHandle(e, name, fmt.Sprintf("etcd lock %q", name), cfg.timeout)}, nil
}

func usable(client *clientv3.Client, name string) error {
	if client == nil {
		return errors.New("mixin/etcd: nil client")
	}
	if name == "" {
		return errors.New("mixin/etcd: empty name")
	}
	return nil
}

// lockEngine takes holds of one name: a session and a Mutex each.
type lockEngine struct {
	client *clientv3.Client
	key    string // the Mutex's prefix, less its "/"
	cfg    config
}

// Acquire waits with Mutex.Lock until it holds the lock or ctx ends. A
// wait that etcd ends for reasons of its own (its history compacted past
// the revision the wait's watch resumed from, after a blip; the wait's
// lease expired while it was cut off) is begun again, with a key and a
// lease of its own, as long as ctx has not ended: those are operational
// events, not the caller's errors.
func (e *lockEngine) Acquire(ctx context.Context) (dist.Lease, error) {
	for {
		l, err := e.take(ctx, (*concurrency.Mutex).Lock)
		if err == nil || ctx.Err() != nil || !waitAgain(err) {
			return l, err
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// waitAgain reports whether a wait for the lock that failed with err is to
// be begun again.
func waitAgain(err error) bool {
	return errors.Is(err, rpctypes.ErrCompacted) || errors.Is(err, concurrency.ErrSessionExpired)
}

// TryAcquire is one attempt: Mutex.TryLock on a lease of its own, revoked
// when another holds the lock.
func (e *lockEngine) TryAcquire(ctx context.Context) (dist.Lease, error) {
	l, err := e.take(ctx, (*concurrency.Mutex).TryLock)
	if errors.Is(err, concurrency.ErrLocked) {
		return nil, nil
	}
	return l, err
}

// take grants a lease, opens a session on it and locks the Mutex with lock
// (Lock or TryLock); then reads the hold's token.
func (e *lockEngine) take(ctx context.Context, lock func(*concurrency.Mutex, context.Context) error) (dist.Lease, error) {
	grant, err := e.client.Grant(ctx, int64(e.cfg.ttl))
	if err != nil {
		return nil, err
	}
	s, err := concurrency.NewSession(e.client, concurrency.WithLease(grant.ID))
	if err != nil {
		e.revoke(ctx, grant.ID)
		return nil, err
	}
	l := &lease{e: e, s: s, m: concurrency.NewMutex(s, e.key), ttl: time.Duration(grant.TTL) * time.Second}
	locked := make(chan error, 1)
	go func() { locked <- lock(l.m, ctx) }()
	select {
	case err = <-locked:
	case <-ctx.Done():
		// Mutex.Lock can outlive ctx while etcd is away; give back what it
		// gets, when it gets it.
		go func() {
			err := <-locked
			rctx, cancel := e.detached(ctx)
			defer cancel()
			if err == nil {
				_, _ = l.Release(rctx)
				return
			}
			l.abandon(rctx)
		}()
		return nil, ctx.Err()
	}
	if err != nil {
		l.abandon(ctx)
		return nil, err
	}
	resp, err := e.client.Get(ctx, l.m.Key())
	if err == nil && len(resp.Kvs) == 0 {
		err = errors.New("the hold's key was gone at once")
	}
	if err != nil {
		rctx, cancel := e.detached(ctx)
		defer cancel()
		_, _ = l.Release(rctx)
		return nil, fmt.Errorf("fencing token: %w", err)
	}
	l.token = resp.Kvs[0].CreateRevision
	return l, nil
}

// detached is a ctx with ctx's values that has not ended, bounded by the
// timeout and by the client's life: for giving back what a caller who left
// acquired.
func (e *lockEngine) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
	stop := context.AfterFunc(e.client.Ctx(), cancel) // a closed client answers nothing
	return dctx, func() { stop(); cancel() }
}

// revoke revokes a lease, with a ctx of its own bounded by the timeout.
func (e *lockEngine) revoke(ctx context.Context, id clientv3.LeaseID) {
	rctx, cancel := e.detached(ctx)
	defer cancel()
	_, _ = e.client.Revoke(rctx, id)
}

func (e *lockEngine) Locked(ctx context.Context) (bool, error) {
	resp, err := e.client.Get(ctx, e.key+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return false, err
	}
	return resp.Count > 0, nil
}

// lease is one hold: its session and Mutex.
type lease struct {
	e     *lockEngine
	s     *concurrency.Session
	m     *concurrency.Mutex
	token int64
	ttl   time.Duration // the lease's, as granted
	end   atomic.Pointer[time.Time]
}

// Until is where the lease ends by the local clock, as far as its holder
// knows: counted from before its last answered keep-alive was sent, less
// the drift; the TTL from the hold's start until Keep has a first answer.
func (l *lease) Until() time.Time {
	if t := l.end.Load(); t != nil {
		return *t
	}
	return time.Now().Add(l.ttl) // not kept yet
}

func (l *lease) Token() int64 { return l.token }

// Keep times the lease's end itself: it sends a keep-alive of its own
// (KeepAliveOnce) at once and then every third of the TTL, and counts each
// answered one's TTL from before it was sent (less 1% and 2 ms for drift),
// as etcd counts it from when it renewed, which is later. An answer that
// comes late therefore moves the end less far, never past the server's.
// (The session's own keep-alives keep renewing the lease too; their
// answers are not counted, since when they were sent is not known.) etcd
// saying the lease is gone, or the session ending, loses the lease at
// once; keep-alives that fail are retried until the end, and then the
// lease is lost. The hold may have waited longer than its TTL for the lock
// (the session kept the lease alive meanwhile): until the first answer,
// the end is the TTL from the first keep-alive's sending.
func (l *lease) Keep(ctx context.Context) error {
	every := l.ttl / 3
	drift := l.ttl/100 + 2*time.Millisecond
	until := time.Now().Add(l.ttl)
	first := until // a copy: until moves
	l.end.Store(&first)
	var next time.Duration
	var last error
	for {
		if next > 0 {
			t := time.NewTimer(next)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-l.s.Done():
				t.Stop()
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("%w: the keep-alive of lease %x ended", dist.ErrLeaseExpired, int64(l.s.Lease()))
			case <-t.C:
			}
		}
		sent := time.Now()
		if !sent.Before(until) {
			return fmt.Errorf("%w: no keep-alive of lease %x was answered within its TTL (last error: %v)", dist.ErrLeaseExpired, int64(l.s.Lease()), last)
		}
		actx, cancel := context.WithDeadline(ctx, until)
		a, err := l.e.client.KeepAliveOnce(actx, l.s.Lease())
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			until = sent.Add(time.Duration(a.TTL)*time.Second - drift)
			end := until
			l.end.Store(&end)
			next = max(time.Until(sent.Add(every)), 0)
			continue
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			return fmt.Errorf("%w: etcd says lease %x is gone", dist.ErrLeaseExpired, int64(l.s.Lease()))
		}
		last = err
		next = max(time.Until(until)/4, time.Millisecond) // retry sooner
	}
}

// Release deletes the hold's key if it is still this hold's, then ends the
// session without Session.Close (which can block for the whole TTL): the
// keep-alive stops and the lease is revoked within the ctx.
func (l *lease) Release(ctx context.Context) (bool, error) {
	resp, err := l.e.client.Txn(ctx).If(l.m.IsOwner()).Then(clientv3.OpDelete(l.m.Key())).Commit()
	l.abandon(ctx)
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// Drop stops the session's keep-alive, and asks nothing of etcd: the hold's
// handle was collected holding it, and the lease ends within its TTL.
func (l *lease) Drop() { l.s.Orphan() }

// abandon stops the session's keep-alive and revokes its lease.
func (l *lease) abandon(ctx context.Context) {
	l.s.Orphan()
	l.e.revoke(ctx, l.s.Lease())
}

func (l *lease) Held(ctx context.Context) (bool, error) {
	resp, err := l.e.client.Txn(ctx).If(l.m.IsOwner()).Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}
