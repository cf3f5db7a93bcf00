package etcd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// queue takes holds of one name for one handle: a lock (one permit) or a
// semaphore (permits). Each hold is a key under prefix + "/", named after
// the handle's lease in hex, as etcd's concurrency.Mutex names its keys, so
// that a Mutex on the same prefix and a Lock exclude each other. The keys
// queue in the order of their create revisions: a key is admitted (holds a
// permit) when fewer than permits keys precede it. A waiter watches the
// permits keys just before its own: until one of them is deleted it has at
// least permits keys ahead of it, so no other deletion can admit it, and a
// release wakes at most permits waiters, whatever their number (one, the
// next, for a lock).
//
// The handle's lease is reused from hold to hold: granted at its first
// acquisition, kept alive while it waits or holds (by its own keep-alives,
// timed as dist.Keeper times them), left alone between holds, and replaced
// only when it was lost, found gone, left with a key whose fate is unknown
// (an acquisition cut off, a release that failed), or too near its end by
// the local clock to be worth keeping. A hold therefore costs a put and a
// delete, as a Mutex on a long-lived session does; a handle left idle keeps
// nothing alive on the server beyond its lease's TTL.
type queue struct {
	client  *clientv3.Client
	prefix  string // the holds' keys are prefix + "/" + lease
	permits int
	cfg     config

	mu  sync.Mutex
	cur *grant // the lease reused across holds; nil before the first and after a loss
}

// grant is a lease of the handle's: its ID, its TTL, and its end by the
// local clock.
type grant struct {
	dist.Keeper
	id   clientv3.LeaseID
	ttl  time.Duration // as granted
	dead atomic.Bool   // lost, or its keys' state unknown: never reused
}

// errAgain is why an acquisition is begun again at once, with a lease of
// its own: the one it had was lost or found gone while it waited.
var errAgain = errors.New("the lease was lost while waiting: begin again")

// drift is how much sooner than etcd a holder counts its lease as ended:
// for the clocks' rates and the time an answer takes to arrive.
func (g *grant) drift() time.Duration { return g.ttl/100 + 2*time.Millisecond }

// length is what a keep-alive buys, counted from before it was sent.
func (g *grant) length() time.Duration { return g.ttl - g.drift() }

// due is how long until the lease's next keep-alive is to be sent: a third
// of its TTL after the last answered one was.
func (g *grant) due() time.Duration {
	return max(time.Until(g.Until().Add(-g.length()).Add(g.ttl/3)), 0)
}

// lease returns the lease to take the next hold with: the reused one, or a
// new one granted when there is none worth reusing (none yet, lost, found
// gone, or past its end by the local clock). A lease whose keep-alive is due
// (a reused one idle for a third of its TTL, or a new one whose grant took
// that long: its end is counted from before the request was sent) is kept
// alive first, so that the hold begins with most of its TTL ahead.
func (q *queue) lease(ctx context.Context) (*grant, error) {
	q.mu.Lock()
	g := q.cur
	q.mu.Unlock()
	for tries := 0; ; tries++ {
		if g == nil || g.dead.Load() || !time.Now().Before(g.Until()) {
			if g != nil {
				q.forget(g)
			}
			start := time.Now()
			resp, err := q.grant(ctx)
			if err != nil {
				return nil, err
			}
			g = &grant{id: clientv3.LeaseID(resp.ID), ttl: time.Duration(resp.TTL) * time.Second}
			g.Begin(start.Add(g.length()))
			q.mu.Lock()
			q.cur = g
			q.mu.Unlock()
		}
		if g.due() > 0 || tries == 2 {
			return g, nil
		}
		if ok, _ := q.renew(ctx, g); ok {
			return g, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		q.forget(g) // gone, or not known to be there: a new one
	}
}

// grant grants a lease with an ID of the handle's choosing, so that a
// grant cut off by ctx (which etcd may have carried out all the same, the
// answer never read) is revoked by that ID: a lease nobody knows of would
// stay alive for its TTL. An ID another lease has is drawn again. The call
// waits for a connection, as the client's own calls do (clientv3's default
// call options, which a call on RetryLeaseClient does not get): without
// that, it fails at once while the client reconnects (a server restarting),
// and its retries (100, 25ms apart) end before gRPC's reconnect backoff
// does, so that Acquire would give up while its ctx lasts.
func (q *queue) grant(ctx context.Context) (*pb.LeaseGrantResponse, error) {
	for {
		id := rand.Int64N(math.MaxInt64-1) + 1
		resp, err := clientv3.RetryLeaseClient(q.client).LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: int64(q.cfg.ttl), ID: id}, grpc.WaitForReady(true))
		if err == nil && resp.Error != "" {
			err = errors.New(resp.Error)
		}
		if err == nil {
			return resp, nil
		}
		err = clientv3.ContextError(ctx, err)
		if errors.Is(err, rpctypes.ErrLeaseExist) && ctx.Err() == nil {
			continue
		}
		go func() {
			rctx, cancel := q.detached(ctx)
			defer cancel()
			_, _ = q.client.Revoke(rctx, clientv3.LeaseID(id))
		}()
		return nil, err
	}
}

// abandon never reuses g again and revokes it in the background, within the
// timeout: its key, if any, goes with it. For a lease whose key's fate is
// unknown to the caller that leaves (an acquisition cut off, a release that
// failed).
func (q *queue) abandon(ctx context.Context, g *grant) {
	q.forget(g)
	go func() {
		rctx, cancel := q.detached(ctx)
		defer cancel()
		_, _ = q.client.Revoke(rctx, g.id)
	}()
}

// forget marks g never to be reused.
func (q *queue) forget(g *grant) {
	g.dead.Store(true)
	q.mu.Lock()
	if q.cur == g {
		q.cur = nil
	}
	q.mu.Unlock()
}

// detached is a ctx with ctx's values that has not ended, bounded by the
// timeout and by the client's life: for giving back what a caller who left
// acquired.
func (q *queue) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.cfg.timeout)
	stop := context.AfterFunc(q.client.Ctx(), cancel) // a closed client answers nothing
	return dctx, func() { stop(); cancel() }
}

// keep keeps g alive until ctx ends (nil) or g is lost (why): it waits until
// a keep-alive is due, then sends one (KeepAliveOnce) every third of the
// TTL through dist.Keeper, counting each answered one's TTL from before it
// was sent (less the drift), as etcd counts it from when it renewed, which
// is later. etcd saying the lease is gone loses it at once; keep-alives that
// fail are retried until its end by the local clock, each bounded by a third
// of the TTL and the timeout. A lost lease is never reused.
func (q *queue) keep(ctx context.Context, g *grant) error {
	if d := g.due(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	err := g.Run(ctx, dist.Refresh{
		Every: g.ttl / 3, Attempt: min(g.ttl/3, q.cfg.timeout), Length: g.length(),
		Renew:   func(ctx context.Context) (bool, error) { return q.keepAlive(ctx, g) },
		Refused: fmt.Sprintf("%v: etcd says lease %x is gone", dist.ErrLeaseExpired, int64(g.id)),
		Server:  "etcd",
	})
	if err != nil {
		q.forget(g)
		if !errors.Is(err, dist.ErrLeaseExpired) {
			err = fmt.Errorf("%w: %w", dist.ErrLeaseExpired, err)
		}
	}
	return err
}

// keepAlive sends one keep-alive of g: false and no error when etcd says
// the lease is gone.
func (q *queue) keepAlive(ctx context.Context, g *grant) (bool, error) {
	_, err := q.client.KeepAliveOnce(ctx, g.id)
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return false, nil
	}
	return err == nil, err
}

// renew keeps g alive once, before a hold on it, and sets its end (counted
// from before the keep-alive was sent, whatever the local clock said of it
// before: etcd answering says it is alive, and its keys with it): false
// when etcd says it is gone, or could not say within a third of the TTL.
func (q *queue) renew(ctx context.Context, g *grant) (bool, error) {
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, min(g.ttl/3, q.cfg.timeout))
	defer cancel()
	ok, err := q.keepAlive(rctx, g)
	if ok {
		g.Begin(start.Add(g.length()))
	}
	return ok, err
}

// Acquire waits until the handle holds a permit or ctx ends. A wait whose
// lease was lost or found gone meanwhile is begun again with a new one, as
// long as ctx has not ended: that is an operational event, not the caller's
// error. So is a request that the connection's loss cut off (gRPC's
// Unavailable: its put may or may not have landed, and take has left that
// lease, revoked with its key): it is begun again, after a pause, until the
// server answers. Errors of etcd while waiting are retried until ctx ends;
// ctx's error is then returned with the last of them beside it.
func (q *queue) Acquire(ctx context.Context) (dist.Lease, error) {
	var last error
	for {
		l, err := q.take(ctx, true)
		switch {
		case err == nil:
			return l, nil
		case ctx.Err() != nil:
			return nil, err
		case errors.Is(err, errAgain):
		case status.Code(err) == codes.Unavailable && q.client.Ctx().Err() == nil:
			last = err
			if !sleep(ctx, 50*time.Millisecond) {
				return nil, dist.Ended(ctx, last, "etcd")
			}
		default:
			return nil, err
		}
	}
}

// TryAcquire is one attempt: a key put and, when it is not admitted at once,
// deleted.
func (q *queue) TryAcquire(ctx context.Context) (dist.Lease, error) {
	for range 3 { // a lease found gone is replaced; more than twice says something is wrong
		l, err := q.take(ctx, false)
		switch {
		case err != nil && !errors.Is(err, errAgain):
			return nil, err
		case err == nil && l == nil:
			return nil, nil // a nil *hold is not a nil Lease
		case err == nil:
			return l, nil
		}
	}
	return nil, errors.New("the handle's leases were found gone three times in a row")
}

// take puts the hold's key on the handle's lease, and reads the first
// permits keys in the same transaction: the key is admitted when it is one
// of them. A key not admitted at once waits (wait) or is deleted.
func (q *queue) take(ctx context.Context, wait bool) (*hold, error) {
	g, err := q.lease(ctx)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s/%x", q.prefix, int64(g.id))
	resp, err := q.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, "", clientv3.WithLease(g.id)),
			clientv3.OpGet(q.prefix+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly(),
				clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(int64(q.permits)))).
		Commit()
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		q.forget(g) // gone while the handle was idle
		return nil, errAgain
	case err != nil:
		q.abandon(ctx, g) // the key may have landed
		return nil, err
	case !resp.Succeeded:
		// A key of this lease is there already: a hold given back in the
		// background has not been deleted yet. Leave it to its lease.
		q.abandon(ctx, g)
		return nil, errAgain
	}
	h := &hold{q: q, g: g, key: key, token: resp.Header.Revision}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		if string(kv.Key) == key {
			return q.fresh(ctx, h)
		}
	}
	if !wait {
		dctx, cancel := q.detached(ctx)
		defer cancel()
		if ok, err := h.delete(dctx); err != nil || !ok {
			q.abandon(ctx, g)
			return nil, err
		}
		return nil, nil
	}
	if err := q.wait(ctx, h); err != nil {
		q.abandon(ctx, g)
		return nil, err
	}
	return q.fresh(ctx, h)
}

// fresh keeps the lease of a hold just admitted alive, when its keep-alive
// is due (the put or the wait took that long: a server restarting, a blip),
// so that the hold begins with most of its TTL ahead. A lease etcd says is
// gone took the key with it: the acquisition begins again.
func (q *queue) fresh(ctx context.Context, h *hold) (*hold, error) {
	if h.g.due() > 0 {
		return h, nil
	}
	if ok, err := q.renew(ctx, h.g); !ok && err == nil {
		q.forget(h.g)
		return nil, fmt.Errorf("%w: etcd says the lease is gone", errAgain)
	}
	return h, nil // a keep-alive that failed is retried by the hold's Keep
}

// wait waits until h's key is admitted, keeping its lease alive meanwhile.
func (q *queue) wait(ctx context.Context, h *hold) error {
	wctx, cancel := context.WithCancelCause(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		if err := q.keep(wctx, h.g); err != nil {
			cancel(fmt.Errorf("%w: %w", errAgain, err))
		}
	}()
	err := q.admitted(wctx, h)
	cancel(nil)
	<-kept
	if cause := context.Cause(wctx); ctx.Err() == nil && errors.Is(cause, errAgain) {
		return cause
	}
	return err
}

// admitted reads the permits keys just before h's (and h's own, in the same
// read-only transaction) until fewer than permits precede it, watching them
// for their deletion in between. etcd's errors are retried until ctx ends.
func (q *queue) admitted(ctx context.Context, h *hold) error {
	var last error
	for {
		resp, err := q.client.Txn(ctx).Then(
			clientv3.OpGet(h.key),
			clientv3.OpGet(q.prefix+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithMaxCreateRev(h.token-1),
				clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend), clientv3.WithLimit(int64(q.permits))),
		).Commit()
		if err != nil {
			if ctx.Err() != nil {
				return dist.Ended(ctx, last, "etcd")
			}
			if q.client.Ctx().Err() != nil {
				return err
			}
			if dist.Says(err) {
				last = err
			}
			if !sleep(ctx, 50*time.Millisecond) {
				return dist.Ended(ctx, last, "etcd")
			}
			continue
		}
		own := resp.Responses[0].GetResponseRange().Kvs
		if len(own) == 0 || own[0].CreateRevision != h.token {
			return fmt.Errorf("%w: the waiting key was gone", errAgain)
		}
		ahead := resp.Responses[1].GetResponseRange().Kvs
		if len(ahead) < q.permits {
			return nil
		}
		if !q.deletion(ctx, ahead, resp.Header.Revision+1) {
			return dist.Ended(ctx, last, "etcd")
		}
	}
}

// deletion watches keys from revision rev until one of them is deleted (or
// a watch ends: its history compacted, say): true; false when ctx ends.
func (q *queue) deletion(ctx context.Context, keys []*mvccpb.KeyValue, rev int64) bool {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	woke := make(chan struct{}, 1)
	for _, kv := range keys {
		wch := q.client.Watch(wctx, string(kv.Key), clientv3.WithRev(rev), clientv3.WithFilterPut())
		go func() {
			for r := range wch {
				if len(r.Events) > 0 || r.Canceled || r.Err() != nil {
					break
				}
			}
			select {
			case woke <- struct{}{}:
			default:
			}
		}()
	}
	select {
	case <-woke:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// sleep waits d, or until ctx ends: false then.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Locked asks etcd whether all the permits are taken: whether at least
// permits keys are there.
func (q *queue) Locked(ctx context.Context) (bool, error) {
	resp, err := q.client.Get(ctx, q.prefix+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return false, err
	}
	return resp.Count >= int64(q.permits), nil
}

// hold is one hold: its key on the handle's lease, and its token, the key's
// create revision.
type hold struct {
	q     *queue
	g     *grant
	key   string
	token int64
}

func (h *hold) Token() int64 { return h.token }

// Until is where the hold's lease ends by the local clock.
func (h *hold) Until() time.Time { return h.g.Until() }

// KeepAfter is when the lease's next keep-alive is due: the handle starts
// Keep only then, so that the holds shorter than that cost no goroutine.
func (h *hold) KeepAfter() time.Duration { return h.g.due() }

// Keep keeps the hold's lease alive until ctx ends or the lease is lost.
func (h *hold) Keep(ctx context.Context) error { return h.q.keep(ctx, h.g) }

// Release deletes the hold's key if it is still this hold's; false when it
// was gone (its lease lost: the lease is then never reused). A release that
// failed leaves the key's fate unknown: the lease is revoked, which deletes
// it, and never reused.
func (h *hold) Release(ctx context.Context) (bool, error) {
	ours, err := h.delete(ctx)
	switch {
	case err != nil:
		h.q.abandon(ctx, h.g)
	case !ours:
		h.q.forget(h.g)
	}
	return ours, err
}

// delete deletes the hold's key if it is still this hold's.
func (h *hold) delete(ctx context.Context) (bool, error) {
	resp, err := h.q.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(h.key), "=", h.token)).
		Then(clientv3.OpDelete(h.key)).Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// Held asks etcd whether the hold's key is still this hold's: an admitted
// key stays admitted while it is there.
func (h *hold) Held(ctx context.Context) (bool, error) {
	resp, err := h.q.client.Get(ctx, h.key)
	if err != nil {
		return false, err
	}
	return len(resp.Kvs) == 1 && resp.Kvs[0].CreateRevision == h.token, nil
}
