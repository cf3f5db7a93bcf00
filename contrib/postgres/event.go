package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Event is a value-holding event shared through PostgreSQL: its value is
// kept, encoded with the codec (JSON by default), in the row of
// mixin_events whose key Key returns (prefix/name), of any size. Each Set
// stores the value with a number from a sequence, and notifies the number
// (never the value) on the event's channel in the same statement, so that
// waiters on every pool wake and read the row. A waiter compares numbers:
// it reads the row when it begins to wait and whenever it is woken, also
// after its process's listening connection was opened again, and takes the
// value when the number is one it has not seen, so no waiter misses a Set
// across a reconnect (between two reads it sees the latest of several Sets).
//
// Its methods (Set, SetContext, Get, GetContext, IsSet, Clear, WaitForNext,
// Wait, WaitUntil, Name) are those of the embedded dist.Event: the event
// kind's canonical methods, with Set and Clear returning their errors, plus
// Wait and WaitUntil, which the Composer's proxy uses. An Event is made by
// NewEvent and is safe for concurrent use; its zero value is not usable.
type Event[T any] struct {
	*dist.Event[T]
	key string
}

// Key returns the key of the event's row: prefix/name, with '%' and '/'
// escaped in the prefix and the name.
func (e *Event[T]) Key() string { return e.key }

// NewEvent returns a handle on the event name over pool.
func NewEvent[T any](pool *pgxpool.Pool, name string, opts ...Option) (*Event[T], error) {
	if err := usable(pool, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	k := key(cfg.prefix, name)
	n := newNames(cfg.schema)
	s := &store{pool: pool, key: k, names: n, channel: channel(cfg.schema, "event", k), sql: eventSQL(n),
		retryMin: cfg.retryMin, retryMax: cfg.retryMax, failMax: max(cfg.retryMax, time.Second)}
	return &Event[T]{dist.NewEvent[T](s, fmt.Sprintf("postgres event %q", name), name, cfg.codec, cfg.timeout), k}, nil
}

type eventStatements struct{ put, get, exists, clear, read string }

// eventSQL returns the event's statements over the tables of n. put stores
// the value with the next number, above the row's last (the sequence's value
// is drawn when the statement begins, and another Set may have landed while
// it waited for the row), and notifies the number.
func eventSQL(n names) eventStatements {
	return eventStatements{
		put: `WITH s AS (
	INSERT INTO ` + n.events + ` AS e (key, value, number) VALUES ($1, $2, nextval(` + n.numbersLiteral + `))
	ON CONFLICT (key) DO UPDATE SET value = excluded.value, number = greatest(excluded.number, e.number + 1)
	RETURNING number),
woken AS (SELECT pg_notify($3, number::text) FROM s)
SELECT number, (SELECT count(*) FROM woken) FROM s`,
		get:    `SELECT value FROM ` + n.events + ` WHERE key = $1 AND value IS NOT NULL`,
		exists: `SELECT EXISTS (SELECT FROM ` + n.events + ` WHERE key = $1 AND value IS NOT NULL)`,
		clear:  `UPDATE ` + n.events + ` SET value = NULL WHERE key = $1`,
		read:   `SELECT value, number FROM ` + n.events + ` WHERE key = $1`,
	}
}

// store keeps an event in a row, and wakes waiters on its channel.
type store struct {
	pool               *pgxpool.Pool
	key, channel       string
	names              names
	sql                eventStatements
	retryMin, retryMax time.Duration // how a waiter whose process cannot listen reads again
	failMax            time.Duration // how long a waiter whose reads fail waits at most between them
}

func (s *store) Put(ctx context.Context, data []byte) error {
	if data == nil {
		data = []byte{} // NULL is a cleared event
	}
	return withSetup(ctx, s.pool, s.names, func() error {
		var number, n int64
		return s.pool.QueryRow(ctx, s.sql.put, s.key, data, s.channel).Scan(&number, &n)
	})
}

func (s *store) Get(ctx context.Context) ([]byte, bool, error) {
	var data []byte
	err := withSetup(ctx, s.pool, s.names, func() error {
		return s.pool.QueryRow(ctx, s.sql.get, s.key).Scan(&data)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (s *store) Exists(ctx context.Context) (bool, error) {
	var ok bool
	err := withSetup(ctx, s.pool, s.names, func() error {
		return s.pool.QueryRow(ctx, s.sql.exists, s.key).Scan(&ok)
	})
	return ok, err
}

func (s *store) Delete(ctx context.Context) error {
	return withSetup(ctx, s.pool, s.names, func() error {
		_, err := s.pool.Exec(ctx, s.sql.clear, s.key)
		return err
	})
}

// read returns the value (nil when there is none) and the number of the
// last Set (0 when there was none).
func (s *store) read(ctx context.Context) ([]byte, int64, error) {
	var data []byte
	var n int64
	err := withSetup(ctx, s.pool, s.names, func() error {
		return s.pool.QueryRow(ctx, s.sql.read, s.key).Scan(&data, &n)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	return data, n, err
}

// Follow registers a waiter on the event's channel, then reads the row, and
// reads it again whenever woken: a number it has not seen is a Set. A read
// that fails is tried again (after a wake, or with a back-off) until ctx
// ends; while its process cannot listen it reads with the back-off too, and
// while it can, every 15 s all the same, in case a notification was lost.
func (s *store) Follow(ctx context.Context, read bool, next func([]byte) bool) error {
	sub := listen(s.pool, s.channel, false)
	defer sub.close()
	last := int64(-1) // the number of the last Set seen; -1 before the first read
	wait := s.retryMin
	for {
		// Each read is bounded as the listening connection's ping is: one
		// on a pooled connection gone silent is given up (pgx closes the
		// connection) and the next goes out on another.
		rctx, cancel := context.WithTimeout(ctx, heartbeat)
		data, n, err := s.read(rctx)
		cancel()
		switch {
		case err == nil:
			wait = s.retryMin
			first := last < 0
			fresh := n > last
			last = max(last, n)
			if data != nil && ((first && read) || (!first && fresh)) && next(data) {
				return nil
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, puddle.ErrClosedPool):
			return err // nothing will ever answer
		}
		bound := reread // a bound on a notification lost on its way (a pooler in transaction mode)
		switch {
		case err != nil:
			bound = wait + rand.N(wait/2+1)
			wait = min(2*wait, s.failMax)
		case !sub.up():
			bound = wait + rand.N(wait/2+1)
			wait = min(2*wait, s.retryMax)
		}
		t := time.NewTimer(bound)
		select {
		case <-sub.c:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}
