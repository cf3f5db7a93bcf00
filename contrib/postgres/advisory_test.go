package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/postgres"
	"github.com/gomixin/mixin/validate/conform"
)

// advisory is the battery's engine with advisory locks for its locks.
func advisory() disttest.Engine {
	e := engine()
	e.NewLock = func(t testing.TB, at, name string, lease, timeout time.Duration) disttest.Lock {
		l, err := postgres.NewAdvisoryLock(newPool(t, at), name, postgres.WithLease(lease), postgres.WithTimeout(timeout))
		require.NoError(t, err)
		return l
	}
	return e
}

func TestAdvisoryLockConforms(t *testing.T) {
	srv.Need(t)
	e := advisory()
	name := disttest.Unique(t)
	newHandle := func() any { return e.NewLock(t, e.Addr, name, 0, 0) }
	t.Run("lock", func(t *testing.T) { conform.Lock(t, newHandle, conform.Handles(), conform.WithWaiters(8)) })
	t.Run("owner-lock", func(t *testing.T) { conform.OwnerLock(t, newHandle, conform.Handles(), conform.WithWaiters(8)) })
	shared := e.NewLock(t, e.Addr, disttest.Unique(t), 0, 0)
	t.Run("shared-handle", func(t *testing.T) { conform.Lock(t, func() any { return shared }, conform.WithWaiters(8)) })
	c, err := mixin.Compose(shared)
	require.NoError(t, err)
	assert.True(t, c.Has(mixin.KindLock) && c.Has(mixin.KindOwnerLock), "kinds: %v", c.Kinds())
}

func TestAdvisoryLockContendedHoldsKeepTheirOrder(t *testing.T) {
	srv.Need(t)
	for _, n := range []int{2, 8} {
		h := disttest.ContendedHistory(t, advisory(), n, 40)
		h.Check(t)
		h.CheckLinearizable(t)
		ho, again := h.HandOvers()
		t.Logf("%d advisory handles, 40 holds: %d hand-overs, %d taken again; holds per handle %v", n, len(ho), again, h.Spread())
	}
}

func TestAdvisoryLockTokensGrowAcrossARestart(t *testing.T) {
	if srv.Server == nil {
		t.Skip("stops the server: runs only against the one the tests start")
	}
	disttest.TokensGrowAcrossARestart(t, advisory(), nil, func() {
		srv.Server.Stop()
		require.NoError(t, srv.Server.Restart())
	})
}

// TestAdvisoryLockLostWithItsSession: the holder's session is terminated
// by the server; the holder is told, another handle takes the lock, and the
// first holder's release reports the loss.
func TestAdvisoryLockLostWithItsSession(t *testing.T) {
	srv.Need(t)
	name := disttest.Unique(t)
	first, err := postgres.NewAdvisoryLock(newPool(t, srv.Addr), name, postgres.WithLease(300*time.Millisecond))
	require.NoError(t, err)
	second, err := postgres.NewAdvisoryLock(newPool(t, srv.Addr), name)
	require.NoError(t, err)
	admin := newPool(t, srv.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := first.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	assert.True(t, first.Locked())
	held, err := first.HeldContext(ctx)
	require.NoError(t, err)
	assert.True(t, held)
	k := postgres.AdvisoryKey("mixin", name)
	var killed bool
	require.NoError(t, admin.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND classid::bigint = $1 AND objid::bigint = $2`,
		int64(uint64(k)>>32), int64(uint64(k)&0xffffffff)).Scan(&killed))
	require.True(t, killed)
	select {
	case <-first.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the loss of the session was not reported")
	}
	ok, err = second.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	assert.ErrorIs(t, first.Release(ctx), adapters.ErrLockLost)
	held, err = second.HeldContext(ctx)
	require.NoError(t, err)
	assert.True(t, held, "the first holder's release left the second's hold")
	require.NoError(t, second.Release(ctx))
	assert.False(t, second.Locked())
}

func TestNewAdvisoryLockRefusesBadInput(t *testing.T) {
	_, err := postgres.NewAdvisoryLock(nil, "x")
	assert.ErrorContains(t, err, "nil pool")
	assert.NotEqual(t, postgres.AdvisoryKey("mixin", "a/b"), postgres.AdvisoryKey("mixin/a", "b"), "escaped: the prefix and the name never run together")
}
