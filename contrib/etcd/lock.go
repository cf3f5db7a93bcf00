// Package etcd gives the library's distributed lock, owner lock, counting
// semaphore and event on etcd: ready-made values the Composer composes with
// no adapter, thin layers over etcd's client/v3.
//
// A Lock is a handle per holder, made from a shared client and a name: each
// hold is a key on the handle's lease, queued by create revision as etcd's
// concurrency.Mutex queues its keys (the two exclude each other); the lease
// is reused from hold to hold, kept alive while the handle waits or holds,
// and replaced after a loss. A Semaphore admits up to its permits holders
// the same way. An Event keeps its value in a key and wakes its
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
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Lock is one holder's handle on a lock named in etcd. Acquire waits until
// the handle holds the lock or ctx ends (a cut-off Acquire leaves nothing
// held: its lease is revoked in the background). A waiter watches the key
// just before its own, so a release wakes the next waiter only. While held,
// the hold's lease (the handle's, reused across its holds) is kept alive; a lease that expires is reported lost: Lost's channel closes, Do
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
	e := &queue{client: client, prefix: baseKey(cfg.prefix, "lock", name), permits: 1, cfg: cfg}
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
