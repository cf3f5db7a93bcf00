package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/postgres"
)

// liveWaiters counts the rows of name's queue whose lease has not ended.
func liveWaiters(t *testing.T, p *pgxpool.Pool, name string) int {
	t.Helper()
	key := "mixin/" + strings.ReplaceAll(strings.ReplaceAll(name, "%", "%25"), "/", "%2F")
	var n int
	require.NoError(t, p.QueryRow(context.Background(),
		`SELECT count(*) FROM mixin_waiters WHERE key = $1 AND expires_at > clock_timestamp()`, key).Scan(&n))
	return n
}

// TestReviewWaitersThatGiveUpLeaveNoPlaceBehind (DEFECT: a waiter whose
// ctx ends while its enqueue statement is on its way never learns its
// ticket, so it never takes its row out; the row stays a live waiter for a
// whole lease, and every acquisition, a TryAcquire's too, is refused behind
// it): twenty handles wait for a held lock with deadlines of 0 to 8 ms,
// twenty times each. Once they have all given up, the queue must be empty,
// and once the holder releases, another handle must take the lock at once,
// not a lease (10 s) later.
func TestReviewWaitersThatGiveUpLeaveNoPlaceBehind(t *testing.T) {
	srv.Need(t)
	admin := newPool(t, srv.Addr)
	name := disttest.Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const lease = 10 * time.Second
	holder, err := postgres.NewLock(newPool(t, srv.Addr), name, postgres.WithLease(lease))
	require.NoError(t, err)
	ok, err := holder.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	p := newPool(t, srv.Addr)
	var wg sync.WaitGroup
	for i := range 20 {
		l, err := postgres.NewLock(p, name, postgres.WithLease(lease))
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				wctx, wcancel := context.WithTimeout(ctx, time.Duration((i*7+j)%9)*time.Millisecond)
				_, _ = l.Acquire(wctx)
				wcancel()
			}
		}()
	}
	wg.Wait()
	assert.Eventually(t, func() bool { return liveWaiters(t, admin, name) == 0 },
		2*time.Second, 20*time.Millisecond, "places left in the queue by waiters that gave up: %d", liveWaiters(t, admin, name))
	require.NoError(t, holder.Release(ctx))
	next, err := postgres.NewLock(newPool(t, srv.Addr), name, postgres.WithLease(lease))
	require.NoError(t, err)
	start := time.Now()
	actx, acancel := context.WithTimeout(ctx, 3*time.Second)
	defer acancel()
	ok, err = next.Acquire(actx)
	assert.NoError(t, err, "the free lock was not taken within 3 s (a lease is 10 s)")
	if ok {
		t.Logf("taken %v after the release", time.Since(start).Round(time.Millisecond))
		require.NoError(t, next.Release(ctx))
	}
}
