package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// AdvisoryLock is one holder's handle on a lock kept as a PostgreSQL
// session advisory lock: each hold takes a connection out of the pool and
// holds pg_advisory_lock on it, with a 64-bit key from a SHA-256 of the
// escaped name. It has the methods of Lock (Acquire, TryAcquire, Release,
// ReleaseUnchecked, Locked, LockedContext, IsOwner, HeldContext, Lost,
// LostAt, Token, Name): the lock and owner-lock kinds' canonical methods.
//
// The lock lives exactly as long as the session: it needs no lease row nor
// table, waiters queue in the server (a release grants the next one, nobody
// polls), and a hold ends when its session does. The connection goes back to
// the pool only after the unlock succeeded; a hold whose connection failed
// or whose Acquire was cut off closes it, which ends the session and gives
// back anything it took. The session is pinged every third of WithLease;
// when a ping fails the loss is reported (Lost, Do's ctx, ErrLockLost from
// Release), but another session may have been granted the lock as soon as
// the server ended this one, before the report: use the lease rows of Lock
// where that matters, and the fencing token in either case. A server cut off
// from a client without a word keeps its session, and the lock, until TCP's
// keep-alive gives up on it (tcp_keepalives_idle on the server). Each hold's
// token comes from the same sequence as Lock's tokens, drawn while holding.
//
// A pooler in transaction mode (PgBouncer's pool_mode=transaction) breaks it:
// the advisory lock is taken by a server connection that the pooler hands to
// other clients between statements. An AdvisoryLock is made by
// NewAdvisoryLock; its zero value is not usable.
type AdvisoryLock struct {
	*dist.Handle
}

// NewAdvisoryLock returns a handle on the advisory lock name over pool; the
// key is derived from WithPrefix's prefix and the name, escaped as Lock's
// keys are, so names never share a key (but for a 64-bit hash collision).
func NewAdvisoryLock(pool *pgxpool.Pool, name string, opts ...Option) (*AdvisoryLock, error) {
	if err := usable(pool, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	k := AdvisoryKey(cfg.prefix, name)
	n := newNames(cfg.schema)
	e := &advisoryEngine{pool: pool, key: k, cfg: cfg, names: n,
		classid: int64(uint64(k) >> 32), objid: int64(uint64(k) & 0xffffffff)}
	e.sql = advisoryStatements{
		lock: `WITH l AS MATERIALIZED (SELECT pg_advisory_lock($1)) SELECT nextval(` + n.tokensLiteral + `) FROM l`,
		try: `WITH l AS MATERIALIZED (SELECT pg_try_advisory_lock($1) AS got)
SELECT got, CASE WHEN got THEN nextval(` + n.tokensLiteral + `) ELSE 0 END FROM l`,
		unlock: `SELECT pg_advisory_unlock($1)`,
		held: `SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
	AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2)`,
		locked: `SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND classid::bigint = $1 AND objid::bigint = $2)`,
	}
	return &AdvisoryLock{dist.NewHandle(e, name, fmt.Sprintf("postgres advisory lock %q", name), cfg.timeout)}, nil
}

// AdvisoryKey returns the 64-bit key of the advisory lock name with the
// application prefix prefix: the first 8 bytes of a SHA-256 of the kind and
// the escaped key, for code that takes the same lock by hand.
func AdvisoryKey(prefix, name string) int64 {
	sum := sha256.Sum256([]byte("advisory\x00" + key(prefix, name)))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

type advisoryStatements struct{ lock, try, unlock, held, locked string }

// advisoryEngine takes holds of one advisory lock, a connection each.
type advisoryEngine struct {
	pool          *pgxpool.Pool
	key           int64
	classid       int64 // the key's high 32 bits, as pg_locks shows them
	objid         int64 // its low 32 bits
	cfg           config
	names         names
	sql           advisoryStatements
	setupOnce     sync.Mutex
	sequenceReady bool
}

// ready makes sure the token sequence exists before a session takes the
// lock: a statement that failed after pg_advisory_lock would leave the
// session holding it.
func (e *advisoryEngine) ready(ctx context.Context) error {
	e.setupOnce.Lock()
	defer e.setupOnce.Unlock()
	if e.sequenceReady {
		return nil
	}
	err := withSetup(ctx, e.pool, e.names, func() error {
		_, err := e.pool.Exec(ctx, "SELECT FROM "+e.names.tokens)
		return err
	})
	e.sequenceReady = err == nil
	return err
}

// attempt makes one attempt on a connection of its own: blocking waits in
// the server's queue until granted or ctx ends. A nil lease and no error
// when another holds the lock (not blocking).
func (e *advisoryEngine) attempt(ctx context.Context, blocking bool) (*advisoryLease, error) {
	if err := e.ready(ctx); err != nil {
		return nil, err
	}
	c, err := e.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	got, token := true, int64(0)
	if blocking {
		err = c.QueryRow(ctx, e.sql.lock, e.key).Scan(&token)
	} else {
		err = c.QueryRow(ctx, e.sql.try, e.key).Scan(&got, &token)
	}
	switch {
	case err != nil:
		go discard(c) // ends the session, and gives back what it may have taken
		return nil, err
	case !got:
		c.Release() // it holds nothing
		return nil, nil
	}
	return &advisoryLease{e: e, c: c, token: token}, nil
}

// discard takes c out of the pool and closes it, after a cancel request
// for a statement that may still wait in the server's lock queue.
func discard(c *pgxpool.Conn) {
	conn := c.Hijack()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.PgConn().CancelRequest(ctx)
	_ = conn.Close(ctx)
}

func (e *advisoryEngine) TryAcquire(ctx context.Context) (dist.Lease, error) {
	l, err := e.attempt(ctx, false)
	if l == nil {
		return nil, err
	}
	return l, nil
}

// Acquire waits in the server's queue for the lock; a failure that is not
// the end of ctx is tried again, the wait doubling from retryMin to
// retryMax, until ctx ends.
func (e *advisoryEngine) Acquire(ctx context.Context) (dist.Lease, error) {
	wait := e.cfg.retryMin
	var last error
	for {
		l, err := e.attempt(ctx, true)
		switch {
		case err == nil:
			return l, nil
		case errors.Is(err, puddle.ErrClosedPool):
			return nil, err
		case dist.Says(err):
			last = err
		}
		if dist.Over(ctx) {
			return nil, dist.Ended(ctx, last, "postgres")
		}
		t := time.NewTimer(wait + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, dist.Ended(ctx, last, "postgres")
		case <-t.C:
		}
		wait = min(2*wait, e.cfg.retryMax)
	}
}

func (e *advisoryEngine) Locked(ctx context.Context) (bool, error) {
	var held bool
	err := e.pool.QueryRow(ctx, e.sql.locked, e.classid, e.objid).Scan(&held)
	return held, err
}

// advisoryLease is one hold: the session holding the lock.
type advisoryLease struct {
	e     *advisoryEngine
	token int64

	mu sync.Mutex    // one statement at a time on c
	c  *pgxpool.Conn // nil once given back
}

func (l *advisoryLease) Token() int64 { return l.token }

// KeepAfter is when the first ping is due: a third of the lease.
func (l *advisoryLease) KeepAfter() time.Duration { return l.e.cfg.lease / 3 }

// Keep pings the session at once (the handle starts it a third into the
// lease), then every third of the lease, each ping bounded by a third of
// the lease; a failed ping is the session's end, and the lock's.
func (l *advisoryLease) Keep(ctx context.Context) error {
	every := l.e.cfg.lease / 3
	for {
		if ctx.Err() != nil {
			return nil
		}
		l.mu.Lock()
		if l.c == nil {
			l.mu.Unlock()
			return nil
		}
		pctx, cancel := context.WithTimeout(context.Background(), every)
		err := l.c.Ping(pctx)
		cancel()
		l.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return fmt.Errorf("the session holding the advisory lock failed: %w", err)
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Release unlocks and gives the connection back to the pool, holding
// nothing; when the unlock fails the connection is closed, which ends the
// session and the lock with it.
func (l *advisoryLease) Release(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.c
	if c == nil {
		return false, nil
	}
	l.c = nil
	var ok bool
	if err := c.QueryRow(ctx, l.e.sql.unlock, l.e.key).Scan(&ok); err != nil {
		go discard(c)
		return false, err
	}
	if !ok {
		go discard(c)
		return false, nil
	}
	c.Release()
	return true, nil
}

func (l *advisoryLease) Held(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == nil {
		return false, nil
	}
	var held bool
	err := l.c.QueryRow(ctx, l.e.sql.held, l.e.classid, l.e.objid).Scan(&held)
	return held, err
}
