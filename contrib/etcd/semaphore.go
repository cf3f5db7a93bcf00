package etcd

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Semaphore is one holder's handle on a counting semaphore named in etcd:
// up to its permits handles hold it at once, each one permit. Its holds
// queue as a Lock's do (a key per hold, in the order of the keys' create
// revisions): Acquire waits until fewer than permits keys precede its own,
// watching the permits keys just before it, so that a release wakes at most
// permits waiters whatever their number. Each holder has its own lease (the
// handle's, reused across its holds), its own fencing token (its key's
// create revision, larger than every earlier hold's of the name) and its own
// loss report: Lost's channel closes, Do through the Composer's proxy
// cancels its body's ctx with cause adapters.ErrLockLost, and Release
// returns an error matching adapters.ErrLockLost.
//
// Its methods are those of the embedded dist.Handle, as a Lock's are:
// Acquire, TryAcquire, Release, ReleaseUnchecked, Locked (whether all the
// permits are taken, asking etcd; LockedContext returns its error), IsOwner,
// HeldContext, Lost, LostAt, Token and Name; mixin.Compose composes it as a
// lock and an owner lock with no adapter. A Semaphore is made by
// NewSemaphore; its zero value is not usable.
type Semaphore struct {
	*dist.Handle
	permits int
}

// NewSemaphore returns a handle on the semaphore name of permits permits
// over client: its holds are keys under prefix/semaphore/name/ (prefix is
// WithPrefix's, "mixin" by default; '/' and '%' in the prefix and the name
// escaped as %XX). Every handle on a name must be made with the same
// permits: each counts the keys ahead of its own against its own permits.
func NewSemaphore(client *clientv3.Client, name string, permits int, opts ...Option) (*Semaphore, error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	if permits < 1 {
		return nil, fmt.Errorf("mixin/etcd: semaphore %q: %d permits, want at least 1", name, permits)
	}
	cfg := newConfig(opts)
	e := &queue{client: client, prefix: baseKey(cfg.prefix, "semaphore", name), permits: permits, cfg: cfg}
	return &Semaphore{dist.NewHandle(e, name, fmt.Sprintf("etcd semaphore %q", name), cfg.timeout), permits}, nil
}

// Permits returns how many handles may hold the semaphore at once.
func (s *Semaphore) Permits() int { return s.permits }
