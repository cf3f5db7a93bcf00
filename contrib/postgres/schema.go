package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Table and sequence names, in the schema WithSchema names (or the first of
// the connection's search_path).
const (
	LocksTable      = "mixin_locks"         // one row per held (or expired, not yet swept) lock or semaphore permit
	WaitersTable    = "mixin_waiters"       // one row per waiting handle: the queue a release wakes the first of
	EventsTable     = "mixin_events"        // one row per event ever set
	TokensSequence  = "mixin_lock_tokens"   // fencing tokens
	NumbersSequence = "mixin_event_numbers" // the numbers of events' Sets
)

// names are the schema's objects, quoted for SQL.
type names struct {
	schema                         string // as given; "" for the search_path
	locks, events, tokens, numbers string // identifiers
	waiters                        string
	tokensLiteral, numbersLiteral  string // regclass literals, for nextval
}

func newNames(schema string) names {
	ident := func(n string) string {
		if schema == "" {
			return pgx.Identifier{n}.Sanitize()
		}
		return pgx.Identifier{schema, n}.Sanitize()
	}
	literal := func(n string) string { return "'" + strings.ReplaceAll(ident(n), "'", "''") + "'" }
	return names{schema: schema,
		locks: ident(LocksTable), waiters: ident(WaitersTable), events: ident(EventsTable), tokens: ident(TokensSequence), numbers: ident(NumbersSequence),
		tokensLiteral: literal(TokensSequence), numbersLiteral: literal(NumbersSequence)}
}

// ddl is what Setup runs, in one transaction.
func (n names) ddl() []string {
	var stmts []string
	if n.schema != "" {
		stmts = append(stmts, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{n.schema}.Sanitize())
	}
	return append(stmts,
		"CREATE TABLE IF NOT EXISTS "+n.locks+` (
	key        text PRIMARY KEY,
	holder     text NOT NULL,
	token      bigint NOT NULL,
	expires_at timestamptz NOT NULL)`,
		"CREATE SEQUENCE IF NOT EXISTS "+n.tokens,
		"CREATE TABLE IF NOT EXISTS "+n.waiters+` (
	key        text NOT NULL,
	ticket     bigint NOT NULL,
	expires_at timestamptz NOT NULL,
	PRIMARY KEY (key, ticket))`,
		"CREATE TABLE IF NOT EXISTS "+n.events+` (
	key    text PRIMARY KEY,
	value  bytea,
	number bigint NOT NULL)`,
		"CREATE SEQUENCE IF NOT EXISTS "+n.numbers,
	)
}

// setupLockKey is the transaction-level advisory lock that keeps two Setups
// from creating the same objects at once (CREATE ... IF NOT EXISTS races).
const setupLockKey = 0x6d6978696e5f7375 // "mixin_su"

// Setup creates the tables and sequences the locks and events keep their
// rows in (and the schema WithSchema names), when missing; only WithSchema
// of opts matters. Locks and events also create them on first use, when a
// statement finds them missing; Setup is for deployments whose application
// role may not create tables: run it once as a role that may, then grant the
// application's role what the README lists. Concurrent Setups wait for each
// other.
func Setup(ctx context.Context, pool *pgxpool.Pool, opts ...Option) error {
	if pool == nil {
		return errors.New("mixin/postgres: nil pool")
	}
	return setup(ctx, pool, newNames(newConfig(opts).schema))
}

func setup(ctx context.Context, pool *pgxpool.Pool, n names) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(setupLockKey)); err != nil {
			return err
		}
		for _, stmt := range n.ddl() {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mixin/postgres: setup: %w", err)
	}
	return nil
}

// missing reports whether err is PostgreSQL's saying that a table, a
// sequence or the schema does not exist.
func missing(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000")
}

// withSetup runs f; when it fails because the tables are missing, it
// creates them and runs f again.
func withSetup(ctx context.Context, pool *pgxpool.Pool, n names, f func() error) error {
	err := f()
	if !missing(err) {
		return err
	}
	if serr := setup(ctx, pool, n); serr != nil {
		return errors.Join(err, serr)
	}
	return f()
}
