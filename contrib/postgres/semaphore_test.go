package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/postgres"
)

func TestSemaphoreComposesAsALock(t *testing.T) {
	srv.Need(t)
	s, err := postgres.NewSemaphore(newPool(t, srv.Addr), disttest.Unique(t), 3)
	require.NoError(t, err)
	assert.Equal(t, 3, s.Permits())
	c, err := mixin.Compose(s)
	require.NoError(t, err)
	assert.True(t, c.Has(mixin.KindLock))
	assert.True(t, c.Has(mixin.KindOwnerLock))
}

func TestNewSemaphoreRefusesBadInput(t *testing.T) {
	p, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	require.NoError(t, err)
	defer p.Close()
	for _, tc := range []struct {
		name    string
		pool    *pgxpool.Pool
		permits int
		want    string
	}{
		{"x", nil, 1, "nil pool"},
		{"", p, 1, "empty name"},
		{"x", p, 0, "0 permits"},
		{"x", p, -3, "-3 permits"},
		{"x", p, postgres.MaxPermits + 1, "4097 permits"},
	} {
		s, err := postgres.NewSemaphore(tc.pool, tc.name, tc.permits)
		assert.ErrorContains(t, err, tc.want)
		assert.Nil(t, s)
	}
}

// TestSemaphoreSlotsAreLeaseRows: each holder of a semaphore has a row of
// its own (a slot), with its own token; a holder's release frees its slot
// for a waiter.
func TestSemaphoreSlotsAreLeaseRows(t *testing.T) {
	srv.Need(t)
	p := newPool(t, srv.Addr)
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mk := func() *postgres.Semaphore {
		s, err := postgres.NewSemaphore(newPool(t, srv.Addr), name, 2)
		require.NoError(t, err)
		return s
	}
	a, b, w := mk(), mk(), mk()
	var tokens []int64
	for _, s := range []*postgres.Semaphore{a, b} {
		ok, err := s.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		tok, _ := s.Token()
		tokens = append(tokens, tok)
	}
	assert.Less(t, tokens[0], tokens[1])
	var live int
	require.NoError(t, p.QueryRow(ctx, "SELECT count(*) FROM mixin_locks WHERE key LIKE $1 AND expires_at > clock_timestamp()",
		"mixin/"+escape(name)+"/%").Scan(&live))
	assert.Equal(t, 2, live, "a row per holder")
	assert.True(t, w.Locked(), "both permits are taken")
	ok, err := w.TryAcquire(ctx)
	require.NoError(t, err)
	assert.False(t, ok, "no third permit")

	done := make(chan error, 1)
	go func() {
		_, err := w.Acquire(ctx)
		done <- err
	}()
	require.NoError(t, b.Release(ctx)) // the later holder leaves first
	require.NoError(t, <-done, "a release admits the waiter")
	tok, _ := w.Token()
	assert.Greater(t, tok, tokens[1])
	require.NoError(t, a.Release(ctx))
	require.NoError(t, w.Release(ctx))
	assert.False(t, w.Locked())
}

// escape escapes a name as the keys do.
func escape(name string) string {
	out := ""
	for _, r := range []byte(name) {
		switch r {
		case '/', '%':
			out += fmt.Sprintf("%%%02X", r)
		default:
			out += string(r)
		}
	}
	return out
}

// TestNamesUsedOnceLeaveRowsOnlyForAWhile: 300 locks and 300 semaphores
// acquired and released once leave rows that a later release sweeps once
// they have been over for rowsKept (shortened here); tokens keep rising
// across the sweep. 300 events set and cleared once each keep their row
// (see the README).
func TestNamesUsedOnceLeaveRowsOnlyForAWhile(t *testing.T) {
	srv.Need(t)
	p := newPool(t, srv.Addr)
	prefix := fmt.Sprintf("mixin-leftovers-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows := func() (n int) {
		require.NoError(t, p.QueryRow(ctx, "SELECT count(*) FROM mixin_locks WHERE key LIKE $1", prefix+"/%").Scan(&n))
		return n
	}
	var last int64
	use := func(i int) {
		name := fmt.Sprintf("order-%d", i)
		l, err := postgres.NewLock(p, name, postgres.WithPrefix(prefix))
		require.NoError(t, err)
		s, err := postgres.NewSemaphore(p, name, 2, postgres.WithPrefix(prefix))
		require.NoError(t, err)
		for _, h := range []interface {
			Acquire(context.Context) (bool, error)
			Release(context.Context) error
			Token() (int64, bool)
		}{l, s} {
			ok, err := h.Acquire(ctx)
			require.NoError(t, err)
			require.True(t, ok)
			tok, _ := h.Token()
			require.Greater(t, tok, last, "tokens rise")
			last = tok
			require.NoError(t, h.Release(ctx))
		}
	}
	for i := range 300 {
		use(i)
		e, err := postgres.NewEvent[int](p, fmt.Sprintf("order-%d", i), postgres.WithPrefix(prefix))
		require.NoError(t, err)
		require.NoError(t, e.SetContext(ctx, i))
		require.NoError(t, e.Clear())
	}
	assert.Equal(t, 600, rows(), "released rows stay until they are swept")

	restore := postgres.SweepSoon(100 * time.Millisecond)
	defer restore()
	time.Sleep(200 * time.Millisecond) // the rows have been over for longer than rowsKept
	use(0)                             // its release sweeps: all but its own two rows are gone
	assert.LessOrEqual(t, rows(), 2, "the swept rows are gone")
	var events int
	require.NoError(t, p.QueryRow(ctx, "SELECT count(*) FROM mixin_events WHERE key LIKE $1", prefix+"/%").Scan(&events))
	assert.Equal(t, 300, events, "an event's row stays (its number keeps a Set's from going back)")
}
