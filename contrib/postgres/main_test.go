package postgres_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// The tests run against a PostgreSQL they start on 127.0.0.1 (initdb into a
// temporary directory, a free port, its socket in the directory, as the
// user nobody when they run as root), or against the server
// MIXIN_POSTGRES_ADDR names (host:port; the user, password and database
// come from the usual PGUSER, PGPASSWORD and PGDATABASE): then the fault
// tests, which stop the server, skip.
var srv disttest.Found

func TestMain(m *testing.M) {
	srv = disttest.Find(serverproc.PostgreSQL, "MIXIN_POSTGRES_ADDR")
	srv.Main(m)
}

// connString is the connection string of the server at at (host:port).
func connString(at string) string {
	host, port, err := net.SplitHostPort(at)
	if err != nil {
		host, port = at, "5432"
	}
	s := fmt.Sprintf("host=%s port=%s pool_max_conns=4 pool_min_conns=2", host, port)
	if srv.Server != nil {
		s += " user=mixin dbname=postgres sslmode=disable"
	}
	return s
}

// newPool returns a pool of its own (its own connections), closed at the
// end of the test, with a connection open and another on its way (the pool
// keeps two: pool_min_conns): PostgreSQL starts a process per connection,
// which under -race on a loaded machine can take longer than the 200 ms
// the conform suites give a waiter to begin to wait, and a statement cut off
// by its ctx (a WaitForNext with a 20 ms deadline) costs its connection.
func newPool(t testing.TB, at string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), connString(at))
	require.NoError(t, err)
	t.Cleanup(p.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, p.Ping(ctx))
	return p
}
