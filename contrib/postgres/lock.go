// Package postgres gives the library's distributed lock, owner lock and
// event on PostgreSQL: ready-made values the Composer composes with no
// adapter, over pgx v5's pgxpool.
//
// A Lock is a handle per holder, made from a shared pool and a name: handles
// with the same name on any number of pools and processes exclude each
// other. Its holds are lease rows (expiry by the server's clock), each with
// a fencing token from a sequence; waiters are woken by the release through
// LISTEN/NOTIFY. An Event keeps its value in a row and wakes its waiters, in
// every process, with a NOTIFY carrying the Set's number.
//
//	pool, err := pgxpool.New(ctx, "postgres://app@db/app")
//	l, err := postgres.NewLock(pool, "orders")
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
// The tables are created on first use, or by Setup.
package postgres

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Lock is one holder's handle on a lock named in PostgreSQL. Acquire waits
// until the handle holds the lock or ctx ends, woken by the holder's release
// (LISTEN/NOTIFY, one waiter per process per release) and otherwise looking
// again only when the holder's lease could have run out; TryAcquire makes
// one attempt. While held, the lease (the row's expires_at, by the server's
// clock) is refreshed every third of it, and a lease that could not be
// refreshed in time is reported lost: Lost's channel closes, Do through the
// Composer's proxy cancels its body's ctx with cause adapters.ErrLockLost,
// and Release returns an error matching adapters.ErrLockLost without
// touching the next holder's row. Each hold has a fencing token from a
// sequence, larger than every earlier hold's, also across restarts; the
// refreshes do not change it.
//
// Its methods are those of the embedded dist.Handle: Acquire, TryAcquire,
// Release, ReleaseUnchecked, Locked (asks the server; LockedContext returns
// its error), IsOwner (this hold's task and lease; HeldContext asks the
// server), Lost, LostAt, Token and Name: the canonical methods of both the
// lock and the owner-lock kinds. Goroutines sharing one handle take turns (a
// handle is a lock itself); give each holder its own handle to let the
// server decide. A Lock is made by NewLock; its zero value is not usable.
type Lock struct {
	*dist.Handle
}

// NewLock returns a handle on the lock name over pool. Its hold is the row
// of mixin_locks whose key is prefix/name (WithPrefix's prefix, "mixin" by
// default; '/', '%', NUL and bytes that are not UTF-8 in both escaped as
// %XX, so that any string names a lock), and releases are notified on a
// channel named after a hash of the key.
func NewLock(pool *pgxpool.Pool, name string, opts ...Option) (*Lock, error) {
	if err := usable(pool, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	k := key(cfg.prefix, name)
	e := &lockEngine{pool: pool, key: k, cfg: cfg, names: newNames(cfg.schema), channel: channel(cfg.schema, "lock", k)}
	e.sql = lockSQL(e.names)
	return &Lock{dist.NewHandle(e, name, fmt.Sprintf("postgres lock %q", name), cfg.timeout)}, nil
}

// usable checks a pool and a name before a handle is made of them.
func usable(pool *pgxpool.Pool, name string) error {
	if pool == nil {
		return errors.New("mixin/postgres: nil pool")
	}
	if name == "" {
		return errors.New("mixin/postgres: empty name")
	}
	return nil
}

// lockEngine takes leases of one lock: a row keyed by key holds the
// holder's random value, its token and when its lease ends.
type lockEngine struct {
	pool    *pgxpool.Pool
	key     string
	channel string
	cfg     config
	names   names
	sql     lockStatements
	// slots are a semaphore's rows' keys, one per permit (key/0, key/1,
	// ...); nil for a lock, whose one row is keyed by key.
	slots []string
}

type lockStatements struct {
	acquire, acquireSlot, release, expire, expireSlots, keep, held, locked, lockedSlots, sweep string
	enqueue, stay, leave, sweepWaiters                                                         string
}

// lockSQL returns the lock's statements over the tables of n. A lock's row
// outlives its release by a while: a release ends its lease (dates it at the
// release, and marks the holder's value as released) and keeps the last
// token; sweep, run now and then with a release, deletes the rows whose
// lease ended more than rowsKept ago, so that a name used once leaves
// nothing for good. Tokens keep rising: they come from the sequence, and a
// row is gone only long after any statement that could have drawn a smaller
// value before it was taken over. acquire inserts the row, or takes over one
// whose lease has ended, minting the hold's token: the sequence's next
// value, and more than the row's last token (the sequence's value is drawn
// when the statement begins, and another hold may have come and gone while
// it waited for the row); it takes nothing while a live waiter is queued
// ahead of ticket $5 in the queue of $4, so that a release hands the lock to
// the first waiter, and a holder that releases and acquires again at once
// goes to the back; when the lock is held it returns a zero token and how
// many microseconds the holder's lease has left. acquireSlot is the same
// for a semaphore: it takes one of the slots ($1) whose lease has ended (in
// a random order) and returns its key; with none free it returns how long
// the first of the holders' leases has left, and whether it found a free
// slot that another took first (then it is run again at once). release ends
// this hold's lease if it is still running (or, when $4 says that this is a
// second attempt, was ended by the first) and notifies the first $6 (the
// permits) waiters in the queue of $5 (the lock's or the semaphore's key):
// each notification's payload is a ticket, so that in every listening
// process only that waiter wakes (an empty payload with no waiter queued:
// then one waiter per process wakes; a semaphore's releases may come at
// once, and the first waiter, woken by one, would take all their wakes
// until it leaves the queue); it returns how many rows it ended: 0 when the lease had run out
// (the row is left as it is, free for the next taker). enqueue puts a
// waiter in the queue of $1 with a ticket from the sequence; stay renews
// its row's lease (a waiter whose process died leaves the queue when it
// runs out); a waiter that acquires leaves the queue in the acquire
// statement itself; leave takes out, and wakes the next waiter, one that
// gives up: a release may have woken it alone.
func lockSQL(n names) lockStatements {
	const released = `$2 || '` + releasedMark + `'`
	// first: no live waiter is queued ahead of ticket $5 (the caller's, or
	// the largest bigint for a caller not queued)
	first := `NOT EXISTS (SELECT FROM ` + n.waiters + ` WHERE key = $4 AND ticket < $5 AND expires_at > clock_timestamp())`
	// ahead: how many live waiters are queued ahead of ticket $5; a
	// semaphore's caller takes a slot when fewer are than slots are free
	ahead := `(SELECT count(*) FROM ` + n.waiters + ` WHERE key = $4 AND ticket < $5 AND expires_at > clock_timestamp())`
	// out: a queued caller that took the lock leaves the queue in the same
	// statement (its Acquire returns without a statement more)
	out := `,
out AS (DELETE FROM ` + n.waiters + ` WHERE key = $4 AND ticket = $5 AND EXISTS (SELECT FROM taken) RETURNING 1)`
	take := `ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, token = greatest(excluded.token, l.token + 1), expires_at = excluded.expires_at
	WHERE l.expires_at <= clock_timestamp()`
	return lockStatements{
		acquire: `WITH taken AS (
	INSERT INTO ` + n.locks + ` AS l (key, holder, token, expires_at)
	SELECT $1, $2, nextval(` + n.tokensLiteral + `), clock_timestamp() + $3::bigint * interval '1 microsecond'
	WHERE ` + first + `
	` + take + `
	RETURNING token)` + out + `
SELECT token, 0::bigint FROM taken
UNION ALL
SELECT 0::bigint, greatest(0, (extract(epoch FROM expires_at - clock_timestamp()) * 1000000)::bigint)
FROM ` + n.locks + ` WHERE key = $1 AND NOT EXISTS (SELECT FROM taken)`,
		acquireSlot: `WITH open AS (
	SELECT k FROM unnest($1::text[]) AS k
	WHERE NOT EXISTS (SELECT FROM ` + n.locks + ` WHERE key = k AND expires_at > clock_timestamp())),
free AS (
	SELECT k FROM open WHERE ` + ahead + ` < (SELECT count(*) FROM open)
	ORDER BY random() LIMIT 1),
taken AS (
	INSERT INTO ` + n.locks + ` AS l (key, holder, token, expires_at)
	SELECT k, $2, nextval(` + n.tokensLiteral + `), clock_timestamp() + $3::bigint * interval '1 microsecond' FROM free
	` + take + `
	RETURNING key, token)` + out + `
SELECT key, token, 0::bigint, true FROM taken
UNION ALL
SELECT '', 0::bigint, coalesce((SELECT greatest(0, (extract(epoch FROM min(expires_at) - clock_timestamp()) * 1000000)::bigint)
	FROM ` + n.locks + ` WHERE key = ANY($1::text[]) AND expires_at > clock_timestamp()), 0), EXISTS (SELECT FROM free)
WHERE NOT EXISTS (SELECT FROM taken)`,
		release: `WITH gone AS (
	UPDATE ` + n.locks + ` SET expires_at = clock_timestamp(), holder = ` + released + `
	WHERE key = $1 AND (holder = $2 AND expires_at > clock_timestamp() OR ($4 AND holder = ` + released + `))
	RETURNING true),
woken AS (SELECT pg_notify($3, p) FROM (
	SELECT ticket::text AS p FROM (SELECT ticket FROM ` + n.waiters + `
		WHERE key = $5 AND expires_at > clock_timestamp() ORDER BY ticket LIMIT $6) AS first
	UNION ALL SELECT '' WHERE NOT EXISTS (SELECT FROM ` + n.waiters + ` WHERE key = $5 AND expires_at > clock_timestamp())) AS w,
	gone)
SELECT count(*) FROM gone WHERE (SELECT count(*) FROM woken) >= 0`,
		enqueue: `INSERT INTO ` + n.waiters + ` (key, ticket, expires_at)
VALUES ($1, nextval(` + n.tokensLiteral + `), clock_timestamp() + $2::bigint * interval '1 microsecond') RETURNING ticket`,
		stay: `INSERT INTO ` + n.waiters + ` AS w (key, ticket, expires_at) VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 microsecond')
ON CONFLICT (key, ticket) DO UPDATE SET expires_at = excluded.expires_at`,
		leave: `WITH gone AS (DELETE FROM ` + n.waiters + ` WHERE key = $1 AND ticket = $2 RETURNING true)
SELECT pg_notify($3, coalesce((SELECT min(ticket) FROM ` + n.waiters + `
	WHERE key = $1 AND ticket <> $2 AND expires_at > clock_timestamp())::text, '')) FROM gone`,
		sweepWaiters: `DELETE FROM ` + n.waiters + ` WHERE expires_at < clock_timestamp() - $1::bigint * interval '1 microsecond'`,
		expire: `INSERT INTO ` + n.locks + ` AS l (key, holder, token, expires_at) VALUES ($1, ` + released + `, 0, clock_timestamp())
ON CONFLICT (key) DO UPDATE SET expires_at = clock_timestamp(), holder = ` + released + ` WHERE l.holder = $2`,
		expireSlots: `INSERT INTO ` + n.locks + ` AS l (key, holder, token, expires_at) SELECT k, ` + released + `, 0, clock_timestamp() FROM unnest($1::text[]) AS k
ON CONFLICT (key) DO UPDATE SET expires_at = clock_timestamp(), holder = ` + released + ` WHERE l.holder = $2`,
		keep: `UPDATE ` + n.locks + ` SET expires_at = clock_timestamp() + $3::bigint * interval '1 microsecond'
WHERE key = $1 AND holder = $2 AND expires_at > clock_timestamp()`,
		held:        `SELECT EXISTS (SELECT FROM ` + n.locks + ` WHERE key = $1 AND holder = $2 AND expires_at > clock_timestamp())`,
		locked:      `SELECT EXISTS (SELECT FROM ` + n.locks + ` WHERE key = $1 AND expires_at > clock_timestamp())`,
		lockedSlots: `SELECT count(*) >= cardinality($1::text[]) FROM ` + n.locks + ` WHERE key = ANY($1::text[]) AND expires_at > clock_timestamp()`,
		sweep: `DELETE FROM ` + n.locks + ` WHERE ctid = ANY (ARRAY(SELECT ctid FROM ` + n.locks + `
	WHERE expires_at < clock_timestamp() - $1::bigint * interval '1 microsecond' LIMIT 1000))`,
	}
}

// releasedMark is appended to a hold's value in its row when it is
// released: the row is then no hold's, and a second attempt at the release
// knows the first made it.
const releasedMark = "/released"

// rowsKept is how long a lock's or a semaphore's row outlives the end of its
// last lease (its release, or its running out) before a sweep deletes it:
// far longer than any statement waits for a row another statement is
// writing, so that no acquisition that drew its token before the row went
// can find the row gone and insert a smaller one.
var rowsKept = time.Minute

// sweepEvery is how often a process's releases on a pool sweep the rows
// whose lease ended more than rowsKept ago (a thousand at a time).
var sweepEvery = 30 * time.Second

var (
	sweptMu sync.Mutex
	swept   = map[string]time.Time{} // when the last sweep of each database and schema began
)

// sweepDue reports whether a release on pool is to sweep the tables of n,
// and if so notes that it does; and rowsKept.
func sweepDue(pool *pgxpool.Pool, n names) (time.Duration, bool) {
	at := pool.Config().ConnString() + "\x00" + n.locks
	sweptMu.Lock()
	defer sweptMu.Unlock()
	if last, ok := swept[at]; ok && time.Since(last) < sweepEvery {
		return rowsKept, false
	}
	swept[at] = time.Now()
	return rowsKept, true
}

// permits is how many holders the lock admits at once: a semaphore's
// permits, a lock's one.
func (e *lockEngine) permits() int {
	return max(len(e.slots), 1)
}

// drift is how much sooner than the server a holder counts its lease as
// ended: for the clocks' rates and the time a reply takes to arrive.
func (e *lockEngine) drift() time.Duration { return e.cfg.lease/100 + 2*time.Millisecond }

// try makes one attempt: a lease, or nil and how long the holder's lease has
// left (0 when unknown). The statement runs to its end with a ctx of its own
// (ctx's values, bounded by the timeout), so that its outcome is known: a
// statement cut off by ctx can still be carried out by the server after
// anything sent to undo it (its connection closed, the server reads and runs
// what was sent, and only then finds no one to answer). When ctx ends first,
// try returns ctx's error and the outcome is settled in the background: a
// hold it took is released. A statement that failed in a way that may have
// let the row land (a connection lost after the statement left) is given
// back in the background too.
func (e *lockEngine) try(ctx context.Context, ticket int64) (*lease, time.Duration, error) {
	value := newValue()
	start := time.Now()
	var a attempt
	if ctx.Done() == nil { // a ctx that never ends: nothing to wait beside
		a = e.attempt(ctx, value, ticket)
	} else {
		done := make(chan attempt, 1)
		go func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
			defer cancel()
			done <- e.attempt(dctx, value, ticket)
		}()
		select {
		case a = <-done:
		case <-ctx.Done():
			go e.settle(ctx, value, done)
			return nil, 0, ctx.Err()
		}
	}
	switch {
	case errors.Is(a.err, pgx.ErrNoRows): // held by a hold that committed after this statement began
		return nil, 0, nil
	case a.err != nil:
		if mayHaveLanded(a.err) {
			go e.giveBack(ctx, value)
		}
		return nil, 0, a.err
	case a.token == 0 && a.raced:
		return e.try(ctx, ticket) // a free slot another took first: another may be free
	case a.token == 0:
		return nil, time.Duration(a.left) * time.Microsecond, nil
	}
	l := &lease{e: e, key: a.key, value: value, token: a.token}
	l.Begin(start.Add(e.cfg.lease - e.drift()))
	return l, 0, nil
}

// attempt is the outcome of one acquire statement.
type attempt struct {
	key         string // the row taken: the lock's key, or a semaphore's slot
	token, left int64
	raced       bool // a semaphore's: a free slot was taken by another first
	err         error
}

// attempt runs the acquire statement for the hold value.
func (e *lockEngine) attempt(ctx context.Context, value string, ticket int64) attempt {
	a := attempt{key: e.key}
	a.err = withSetup(ctx, e.pool, e.names, func() error {
		if e.slots == nil {
			return e.pool.QueryRow(ctx, e.sql.acquire, e.key, value, e.cfg.lease.Microseconds(), e.key, ticket).Scan(&a.token, &a.left)
		}
		return e.pool.QueryRow(ctx, e.sql.acquireSlot, e.slots, value, e.cfg.lease.Microseconds(), e.key, ticket).Scan(&a.key, &a.token, &a.left, &a.raced)
	})
	return a
}

// settle waits for the outcome of an attempt whose caller left, and gives
// back what it took.
func (e *lockEngine) settle(ctx context.Context, value string, done <-chan attempt) {
	a := <-done
	switch {
	case a.err == nil && a.token != 0:
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
		defer cancel()
		_, _ = e.pool.Exec(rctx, e.sql.release, a.key, value, e.channel, false, e.key, e.permits())
	case a.err != nil && mayHaveLanded(a.err):
		e.giveBack(ctx, value)
	}
}

// giveBack gives the row back if an attempt that failed took it after all.
// The attempt's statement may still be running on the server: expire's
// INSERT ... ON CONFLICT waits for it to end, then ends the row's lease if
// the row is the attempt's (or inserts a row of its own whose lease has
// run out, free for the next try); release then wakes a waiter.
// A semaphore's attempt may have taken any of its slots: expire ends
// whichever is the attempt's, and a waiter is woken to look.
func (e *lockEngine) giveBack(ctx context.Context, value string) {
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
	defer cancel()
	if e.slots != nil {
		if _, err := e.pool.Exec(gctx, e.sql.expireSlots, e.slots, value); err == nil {
			_, _ = e.pool.Exec(gctx, "SELECT pg_notify($1, '')", e.channel)
		}
		return
	}
	if _, err := e.pool.Exec(gctx, e.sql.expire, e.key, value); err != nil {
		return
	}
	_, _ = e.pool.Exec(gctx, e.sql.release, e.key, value, e.channel, true, e.key, e.permits()) // ended by expire: notify
}

func (e *lockEngine) TryAcquire(ctx context.Context) (dist.Lease, error) {
	l, _, err := e.try(ctx, notQueued)
	if l == nil {
		return nil, err
	}
	return l, nil
}

// Acquire tries, and while another holds the lock waits to be woken by a
// release (registered before the second try, so that no release is
// missed). A waiter queues on the server (a row with a ticket, renewed
// every third of the lease while it waits, taken out when it leaves), so
// that a release wakes the first waiter in the queue only, in whichever
// process it waits: a hand-over costs the same whatever the number of
// waiters. It also looks again every third of the lease, and when the
// holder's lease could have run out: a first waiter that died (its row not
// yet run out) or a notification lost on its way stalls the queue no
// longer than that. While its process cannot listen it polls, the wait
// doubling from retryMin to retryMax.
func (e *lockEngine) Acquire(ctx context.Context) (dist.Lease, error) {
	wait := e.cfg.retryMin
	var last error // the last error the server gave that says something
	var s *sub
	var q queued
	acquired := false
	defer func() {
		if s != nil {
			s.close()
		}
		if !acquired {
			e.leave(ctx, q)
		}
	}()
	for {
		ticket := q.ticket
		if ticket == 0 {
			ticket = notQueued
		}
		l, left, err := e.try(ctx, ticket)
		switch {
		case l != nil:
			acquired = true // its row left the queue in the acquire statement
			return l, nil
		case errors.Is(err, puddle.ErrClosedPool):
			return nil, err // nothing will ever answer: do not wait for ctx
		case err != nil && dist.Says(err):
			last = err
		}
		if dist.Over(ctx) {
			return nil, dist.Ended(ctx, last, "postgres")
		}
		if s == nil {
			s = listen(e.pool, e.channel, true)
			continue // try again: a release before the registration woke nobody
		}
		if q.ticket == 0 && err == nil && s.up() {
			if q = e.enqueue(ctx); q.ticket != 0 {
				s.wants(q.ticket)
				continue // try again: a release before the enqueue woke another
			}
		}
		var bound time.Duration
		if err == nil && s.up() {
			if left <= 0 {
				left = e.cfg.lease
			}
			bound = left + rand.N(left/8+1) + time.Millisecond
			if q.ticket != 0 {
				bound = min(bound, time.Until(q.at.Add(e.cfg.lease/3)))
			}
			wait = e.cfg.retryMin
		} else {
			bound = wait + rand.N(wait/2+1)
			wait = min(2*wait, e.cfg.retryMax)
		}
		t := time.NewTimer(max(bound, time.Millisecond))
		select {
		case <-s.c:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, dist.Ended(ctx, last, "postgres")
		}
		t.Stop()
		if q.ticket != 0 && time.Since(q.at) >= e.cfg.lease/3 {
			e.stay(ctx, &q)
		}
	}
}

// notQueued is the ticket of a caller not in the queue: behind every waiter.
const notQueued = math.MaxInt64

// queued is a waiter's place in the queue: its ticket (0: none) and when
// its row's lease was last renewed.
type queued struct {
	ticket int64
	at     time.Time
}

// enqueue puts the waiter in the name's queue; no ticket when the server
// could not (the waiter then wakes on every release with no ticket, and
// when it looks again).
func (e *lockEngine) enqueue(ctx context.Context) queued {
	q := queued{at: time.Now()}
	qctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	defer cancel()
	_ = withSetup(qctx, e.pool, e.names, func() error {
		return e.pool.QueryRow(qctx, e.sql.enqueue, e.key, e.cfg.lease.Microseconds()).Scan(&q.ticket)
	})
	return q
}

// stay renews the waiter's row's lease (putting it back if it ran out).
func (e *lockEngine) stay(ctx context.Context, q *queued) {
	at := time.Now()
	sctx, cancel := context.WithTimeout(ctx, min(e.cfg.lease/3, e.cfg.timeout))
	defer cancel()
	if _, err := e.pool.Exec(sctx, e.sql.stay, e.key, q.ticket, e.cfg.lease.Microseconds()); err == nil {
		q.at = at
	}
}

// leave takes a waiter that did not acquire out of the queue, with ctx's
// values but not its end, bounded by the timeout (a row it could not delete
// runs out), and wakes the next one: a release may have woken it alone.
func (e *lockEngine) leave(ctx context.Context, q queued) {
	if q.ticket == 0 {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.timeout)
	defer cancel()
	_, _ = e.pool.Exec(dctx, e.sql.leave, e.key, q.ticket, e.channel)
}

// newValue is a hold's random value: no other hold's, on any client.
func newValue() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// mayHaveLanded reports whether a statement that failed with err may still
// have been carried out: not when the server answered with an error, nor
// when it never left (no connection could be had).
func mayHaveLanded(err error) bool {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr), errors.Is(err, puddle.ErrClosedPool), pgconn.SafeToRetry(err):
		return false
	}
	return true
}

// Locked asks whether the lock is held: for a semaphore, whether all its
// permits are.
func (e *lockEngine) Locked(ctx context.Context) (bool, error) {
	var held bool
	err := withSetup(ctx, e.pool, e.names, func() error {
		if e.slots != nil {
			return e.pool.QueryRow(ctx, e.sql.lockedSlots, e.slots).Scan(&held)
		}
		return e.pool.QueryRow(ctx, e.sql.locked, e.key).Scan(&held)
	})
	return held, err
}

// lease is one hold: its random value in the row, its token, and where it
// ends by the local clock.
type lease struct {
	dist.Keeper
	e     *lockEngine
	key   string // its row's
	value string
	token int64
}

func (l *lease) Token() int64 { return l.token }

// KeepAfter is when Keep has its first refresh to make: a third into the
// lease.
func (l *lease) KeepAfter() time.Duration { return l.e.cfg.lease / 3 }

// Keep refreshes the row's lease at once (the handle starts it a third into
// the lease), then every third of it, through dist.Keeper: a refresh the
// server refuses (the row is gone, another's, or its lease ran out) loses
// the lease at once; refreshes that fail are retried until the lease runs
// out by the local clock, each attempt bounded by a third of the lease and
// the timeout, so that one on a pooled connection gone silent is retried on
// another.
func (l *lease) Keep(ctx context.Context) error {
	return l.Run(ctx, dist.Refresh{
		Every: l.e.cfg.lease / 3, Attempt: min(l.e.cfg.lease/3, l.e.cfg.timeout), Length: l.e.cfg.lease - l.e.drift(),
		Renew: func(ctx context.Context) (bool, error) {
			tag, err := l.e.pool.Exec(ctx, l.e.sql.keep, l.key, l.value, l.e.cfg.lease.Microseconds())
			return err == nil && tag.RowsAffected() == 1, err
		},
		Refused: "postgres refused to refresh the lease: the row was gone, another's, or its lease had run out",
		Server:  "postgres",
	})
}

// Release ends the hold's lease, if the row is still this hold's, and wakes
// a waiter in each listening process; false when the row was another's or
// its lease had run out. Every sweepEvery, a release in the process also
// sweeps the rows whose lease ended more than rowsKept ago.
// A release whose connection failed (one the pool kept from before a
// restart of the server) is made once more: the second attempt counts a
// lease its first ended as released.
func (l *lease) Release(ctx context.Context) (bool, error) {
	release := func(again bool) (bool, error) {
		var n int64
		err := withSetup(ctx, l.e.pool, l.e.names, func() error {
			return l.e.pool.QueryRow(ctx, l.e.sql.release, l.key, l.value, l.e.channel, again, l.e.key, l.e.permits()).Scan(&n)
		})
		return n == 1, err
	}
	ours, err := release(false)
	if err != nil && brokenConn(ctx, err) {
		ours, err = release(true)
	}
	if kept, due := sweepDue(l.e.pool, l.e.names); err == nil && due {
		_, _ = l.e.pool.Exec(ctx, l.e.sql.sweep, kept.Microseconds())
		_, _ = l.e.pool.Exec(ctx, l.e.sql.sweepWaiters, kept.Microseconds())
	}
	return ours, err
}

// brokenConn reports whether err is a connection's failure, not the
// server's answer, the end of ctx or a closed pool.
func brokenConn(ctx context.Context, err error) bool {
	var pgErr *pgconn.PgError
	return ctx.Err() == nil && !errors.As(err, &pgErr) && !errors.Is(err, puddle.ErrClosedPool)
}

func (l *lease) Held(ctx context.Context) (bool, error) {
	var held bool
	err := l.e.pool.QueryRow(ctx, l.e.sql.held, l.key, l.value).Scan(&held)
	return held, err
}
