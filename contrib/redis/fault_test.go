package redis_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/redis"
	"github.com/gomixin/mixin/internal/serverproc"
)

// TestLostLeaseIsReportedAndTheNextHolderKeepsIt stalls the holder's
// connection (a partition between it and Redis) in the middle of Do: its
// lease cannot be refreshed and runs out, the holder is told through its
// body's ctx, another client gets the lock, and the first holder's release
// reports the loss without touching the new holder's key.
func TestLostLeaseIsReportedAndTheNextHolderKeepsIt(t *testing.T) {
	need(t)
	const expiry = 300 * time.Millisecond
	p, err := serverproc.NewProxy(addr)
	require.NoError(t, err)
	defer p.Close()
	name := unique(t)
	first, err := redis.NewLock(newClient(t, p.Addr()), name, redis.WithExpiry(expiry))
	require.NoError(t, err)
	second, err := redis.NewLock(newClient(t, addr), name, redis.WithExpiry(expiry))
	require.NoError(t, err)
	proxy, err := adapters.NewLock(first)
	require.NoError(t, err)

	secondTask := adapters.WithTask(context.Background())
	var reported time.Duration
	var cause error
	taken := make(chan error, 1)
	err = proxy.Do(context.Background(), func(ctx context.Context) error {
		stalled := time.Now()
		p.Stall()
		go func() {
			actx, cancel := context.WithTimeout(secondTask, 10*expiry)
			defer cancel()
			_, err := second.Acquire(actx)
			taken <- err
		}()
		select {
		case <-ctx.Done():
			reported, cause = time.Since(stalled), context.Cause(ctx)
		case <-time.After(10 * expiry):
			t.Errorf("the holder was not told of its lost lease within %v", 10*expiry)
		}
		require.NoError(t, <-taken, "another client takes the lock once the lease ran out")
		p.Resume()
		return ctx.Err()
	})
	assert.ErrorIs(t, cause, adapters.ErrLockLost)
	assert.ErrorIs(t, err, adapters.ErrLockLost, "the release reports the loss")
	assert.Less(t, reported, 2*expiry, "reported within the lease")
	t.Logf("lease %v: loss reported to the holder %v after its connection stalled", expiry, reported)

	assert.True(t, second.IsOwner(secondTask), "the first holder's release left the new holder's key")
	assert.NoError(t, second.Release(secondTask))
}

// TestServerDownEveryCallReturnsWithinItsCtx stops Redis while a lock is
// held, waiters wait and an event is waited on: every call returns within
// its ctx (or the handle's timeout) with an error, nothing hangs; after a
// restart the same handles work again.
func TestServerDownEveryCallReturnsWithinItsCtx(t *testing.T) {
	needOwnServer(t)
	const expiry, grace = 600 * time.Millisecond, 2 * time.Second
	name := unique(t)
	opts := []redis.Option{redis.WithExpiry(expiry), redis.WithTimeout(500 * time.Millisecond)}
	holder, err := redis.NewLock(newClient(t, addr), name, opts...)
	require.NoError(t, err)
	ok, err := holder.Acquire(context.Background())
	require.True(t, ok)
	require.NoError(t, err)
	event, err := redis.NewEvent[int](newClient(t, addr), unique(t), opts...)
	require.NoError(t, err)

	type result struct {
		what string
		err  error
		took time.Duration
	}
	results := make(chan result, 16)
	var wg sync.WaitGroup
	call := func(what string, timeout time.Duration, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			err := f(ctx)
			results <- result{what, err, time.Since(start)}
		}()
	}
	const waiters = 4
	for range waiters {
		w, err := redis.NewLock(newClient(t, addr), name, opts...)
		require.NoError(t, err)
		call("Acquire", 1500*time.Millisecond, func(ctx context.Context) error {
			ok, err := w.Acquire(ctx)
			if ok {
				_ = w.Release(ctx)
				return errors.New("acquired a held lock")
			}
			return err
		})
	}
	call("WaitForNext", 1500*time.Millisecond, func(ctx context.Context) error {
		_, err := event.WaitForNext(ctx)
		return err
	})
	time.Sleep(100 * time.Millisecond) // all waiting
	stopped := time.Now()
	server.Stop()

	select {
	case <-holder.Lost():
		t.Logf("server down: the holder was told its lease was lost %v after the stop", time.Since(stopped).Round(time.Millisecond))
	case <-time.After(expiry + grace):
		t.Errorf("the holder was not told of its lost lease within %v", expiry+grace)
	}
	call("Release", time.Second, holder.Release)
	call("Set", time.Second, func(context.Context) error { return event.Set(1) })
	call("LockedContext", time.Second, func(ctx context.Context) error {
		_, err := holder.LockedContext(ctx)
		return err
	})
	wg.Wait()
	close(results)
	calls := 0
	for r := range results {
		calls++
		assert.Error(t, r.err, "%s with the server down", r.what)
		assert.Less(t, r.took, 1500*time.Millisecond+grace, "%s returned within its ctx", r.what)
		if r.what == "Acquire" {
			assert.ErrorIs(t, r.err, context.DeadlineExceeded, "an Acquire ends with its ctx")
		}
		if r.what == "Release" {
			assert.ErrorIs(t, r.err, adapters.ErrLockLost)
		}
		t.Logf("server down: %s returned after %v: %v", r.what, r.took.Round(time.Millisecond), r.err)
	}
	assert.Equal(t, waiters+4, calls)

	require.NoError(t, server.Restart())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, err = holder.Acquire(ctx)
	require.NoError(t, err, "after a restart the handle acquires again")
	require.True(t, ok)
	require.NoError(t, holder.Release(ctx))
	require.NoError(t, event.Set(2))
	got, err := event.Get()
	require.NoError(t, err)
	assert.Equal(t, 2, got)
}
