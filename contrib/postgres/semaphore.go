package postgres

import (
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Semaphore is one holder's handle on a counting semaphore named in
// PostgreSQL: up to its permits handles hold it at once, each one permit.
// Each permit is a lease row, as a Lock's hold is (a slot: its key is the
// semaphore's key, a '/' and the slot's number), so each holder has its own
// lease (expiry by the server's clock, refreshed every third of it), its
// own fencing token (from the locks' sequence, larger than every earlier
// hold's of the name) and its own loss report: Lost's channel closes, Do
// through the Composer's proxy cancels its body's ctx with cause
// adapters.ErrLockLost, and Release returns an error matching
// adapters.ErrLockLost. Acquire takes a free slot, or waits to be woken by a
// release (LISTEN/NOTIFY, one waiter per process per release), looking
// again when the first holder's lease could have run out.
//
// Its methods are those of the embedded dist.Handle, as a Lock's are:
// Acquire, TryAcquire, Release, ReleaseUnchecked, Locked (whether all the
// permits are taken, asking the server; LockedContext returns its error),
// IsOwner, HeldContext, Lost, LostAt, Token and Name; mixin.Compose
// composes it as a lock and an owner lock with no adapter. A Semaphore is
// made by NewSemaphore; its zero value is not usable.
type Semaphore struct {
	*dist.Handle
	permits int
}

// NewSemaphore returns a handle on the semaphore name of permits permits
// over pool: its rows in mixin_locks are keyed prefix/name/0 to
// prefix/name/permits-1 (WithPrefix's prefix, "mixin" by default; '/' and
// '%' in both escaped as %XX, so that no lock's key is a slot's), and
// releases are notified on a channel named after a hash of the key. Every
// handle on a name must be made with the same permits: each takes only the
// slots below its own permits. permits below 1 or above MaxPermits, an
// empty name and a nil pool are errors.
func NewSemaphore(pool *pgxpool.Pool, name string, permits int, opts ...Option) (*Semaphore, error) {
	if err := usable(pool, name); err != nil {
		return nil, err
	}
	if permits < 1 || permits > MaxPermits {
		return nil, fmt.Errorf("mixin/postgres: semaphore %q: %d permits, want 1 to %d", name, permits, MaxPermits)
	}
	cfg := newConfig(opts)
	k := key(cfg.prefix, name)
	slots := make([]string, permits)
	for i := range slots {
		slots[i] = k + "/" + strconv.Itoa(i)
	}
	e := &lockEngine{pool: pool, key: k, cfg: cfg, names: newNames(cfg.schema), channel: channel(cfg.schema, "semaphore", k), slots: slots}
	e.sql = lockSQL(e.names)
	return &Semaphore{dist.NewHandle(e, name, fmt.Sprintf("postgres semaphore %q", name), cfg.timeout), permits}, nil
}

// MaxPermits is the most permits a semaphore may have: each is a row of
// its own, and an attempt names every slot it may take.
const MaxPermits = 1 << 12

// Permits returns how many handles may hold the semaphore at once.
func (s *Semaphore) Permits() int { return s.permits }
