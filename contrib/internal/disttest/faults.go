package disttest

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// lostLease stalls the holder's connection (a partition between it and its
// server) in the middle of Do: its lease cannot be kept alive and runs out,
// the holder is told through its body's ctx, another client gets the lock,
// and the first holder's release reports the loss without touching the new
// holder's key.
func lostLease(t *testing.T, e Engine) {
	p, err := serverproc.NewProxy(e.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := Unique(t)
	first := e.NewLock(t, p.Addr(), name, e.Lease, 0)
	second := e.NewLock(t, e.Addr, name, e.Lease, 0)
	seen := &Observed{}
	proxy, err := adapters.NewLock(first, adapters.WithObserver(seen))
	require.NoError(t, err)
	limit := 5 * (e.Lease + e.Grace)

	secondTask := adapters.WithTask(context.Background())
	var reported time.Duration
	var cause error
	taken := make(chan error, 1)
	hist := &History{}
	var secondHold *Hold
	err = proxy.Do(context.Background(), func(ctx context.Context) error {
		firstHold := hist.Acquired("first", first)
		stalled := time.Now()
		p.Stall()
		go func() {
			actx, cancel := context.WithTimeout(secondTask, limit)
			defer cancel()
			ok, err := second.Acquire(actx)
			if ok {
				secondHold = hist.Acquired("second", second)
			}
			taken <- err
		}()
		select {
		case <-ctx.Done():
			reported, cause = time.Since(stalled), context.Cause(ctx)
		case <-time.After(limit):
			t.Errorf("the holder was not told of its lost lease within %v", limit)
		}
		if lg, ok := first.(Losing); ok {
			firstHold.Lost, _ = lg.LostAt()
		}
		assert.NoError(t, <-taken, "another client takes the lock once the lease ran out")
		p.Resume()
		firstHold.Released = time.Now()
		hist.Record(*firstHold)
		return ctx.Err()
	})
	assert.ErrorIs(t, cause, adapters.ErrLockLost)
	assert.ErrorIs(t, err, adapters.ErrLockLost, "the release reports the loss")
	assert.Less(t, reported, e.Lease+e.Grace, "reported within the lease and its grace")
	t.Logf("lease %v: loss reported to the holder %v after its connection stalled", e.Lease, reported.Round(time.Millisecond))
	// The observer heard of the loss as it happened, and of the release
	// that found it; the Stats count it once.
	if lost := seen.Of(adapters.OpLost); assert.Len(t, lost, 1, "one lost lease observed") {
		assert.Equal(t, adapters.OutcomeLost, lost[0].Outcome)
		assert.Less(t, lost[0].Duration, limit)
	}
	if rel := seen.Of(adapters.OpRelease); assert.Len(t, rel, 1) {
		assert.Equal(t, adapters.OutcomeLost, rel[0].Outcome)
	}
	assert.Equal(t, int64(1), proxy.Stats().Lost)
	assert.Zero(t, proxy.Stats().HeldNow)

	held, err := second.HeldContext(secondTask)
	require.NoError(t, err)
	assert.True(t, held, "the first holder's release left the new holder's key")
	require.NotNil(t, secondHold)
	assert.NoError(t, hist.Release(secondTask, secondHold, second))
	hist.Check(t)
	hist.CheckLinearizable(t)
}

// serverDown stops the server while a lock is held, waiters wait and an
// event is waited on: every call returns within its ctx (or the handle's
// timeout) with an error, nothing hangs; after a restart the same handles
// work again.
func serverDown(t *testing.T, e Engine) {
	if e.Server == nil {
		t.Skip("the fault tests stop the server: they run only against the one the tests start")
	}
	const timeout, wait = 500 * time.Millisecond, 1500 * time.Millisecond
	name := Unique(t)
	holder := e.NewLock(t, e.Addr, name, e.Lease, timeout)
	ok, err := holder.Acquire(context.Background())
	require.True(t, ok)
	require.NoError(t, err)
	hist := &History{}
	before := hist.Acquired("holder", holder)
	event := e.NewEvent(t, e.Addr, Unique(t), timeout)

	type result struct {
		what string
		err  error
		took time.Duration
	}
	results := make(chan result, 16)
	var wg sync.WaitGroup
	call := func(what string, within time.Duration, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), within)
			defer cancel()
			start := time.Now()
			err := f(ctx)
			results <- result{what, err, time.Since(start)}
		}()
	}
	const waiters = 4
	for i := range waiters {
		w := e.NewLock(t, e.Addr, name, e.Lease, timeout)
		who := "waiter-" + strconv.Itoa(i)
		call("Acquire", wait, func(ctx context.Context) error {
			hold, err := hist.Acquire(ctx, who, w)
			if hold != nil {
				_ = hist.Release(ctx, hold, w)
				return errors.New("acquired a held lock")
			}
			return err
		})
	}
	call("WaitForNext", wait, func(ctx context.Context) error {
		_, err := event.WaitForNext(ctx)
		return err
	})
	time.Sleep(100 * time.Millisecond) // all waiting
	stopped := time.Now()
	e.Server.Stop()

	select {
	case <-holder.Lost():
		t.Logf("server down: the holder was told its lease (%v) was lost %v after the stop", e.Lease, time.Since(stopped).Round(time.Millisecond))
	case <-time.After(e.Lease + e.Grace):
		t.Errorf("the holder was not told of its lost lease within %v", e.Lease+e.Grace)
	}
	call("Release", time.Second, func(ctx context.Context) error { return hist.Release(ctx, before, holder) })
	call("Set", time.Second, func(context.Context) error { return event.Set("x") })
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
		assert.Less(t, r.took, wait+time.Second, "%s returned within its ctx", r.what)
		switch r.what {
		case "Acquire":
			assert.ErrorIs(t, r.err, context.DeadlineExceeded, "an Acquire ends with its ctx")
		case "Release":
			assert.ErrorIs(t, r.err, adapters.ErrLockLost)
		}
		t.Logf("server down: %s returned after %v: %v", r.what, r.took.Round(time.Millisecond), r.err)
	}
	assert.Equal(t, waiters+4, calls)

	require.NoError(t, e.Server.Restart())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	ok, err = holder.Acquire(ctx)
	require.NoError(t, err, "after a restart the handle acquires again")
	require.True(t, ok)
	t.Logf("after the restart: acquired again in %v", time.Since(start).Round(time.Millisecond))
	require.NoError(t, hist.Release(ctx, hist.Acquired("holder", holder), holder))
	hist.Check(t)
	hist.CheckLinearizable(t)
	assert.Len(t, hist.Holds(), 2, "the waiters never held the lock")
	require.NoError(t, event.SetContext(ctx, "y"))
	got, err := event.GetContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "y", got)
}

// TokensGrowAcrossARestart takes holds of one lock before and after the
// server is stopped and restarted: every token is larger than the one
// before, whatever the server kept of its data. restart stops and restarts
// it; afterFirst, when not nil, runs after the first hold (a snapshot taken
// there leaves the second hold out of what the server reloads).
func TokensGrowAcrossARestart(t *testing.T, e Engine, afterFirst, restart func()) {
	name := Unique(t)
	h := e.NewLock(t, e.Addr, name, e.Lease, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var tokens []int64
	hist := &History{}
	hold := func() {
		hd, err := hist.Acquire(ctx, "holder", h)
		require.NoError(t, err)
		require.NotNil(t, hd)
		tok, held := h.Token()
		require.True(t, held)
		tokens = append(tokens, tok)
		require.NoError(t, hist.Release(ctx, hd, h))
	}
	hold()
	if afterFirst != nil {
		afterFirst()
	}
	hold()
	restart()
	hold()
	hold()
	for i := 1; i < len(tokens); i++ {
		assert.Greater(t, tokens[i], tokens[i-1], "hold %d (holds 2 and 3 are either side of the restart): tokens %v", i, tokens)
	}
	hist.CheckLinearizable(t)
}

// tokensRestart: TokensGrowAcrossARestart on the server the tests started.
func tokensRestart(t *testing.T, e Engine) {
	if e.Server == nil {
		t.Skip("the fault tests stop the server: they run only against the one the tests start")
	}
	TokensGrowAcrossARestart(t, e, nil, func() {
		e.Server.Stop()
		require.NoError(t, e.Server.Restart())
	})
}

// Settle is how long a test gives a waiter that has begun to wait to reach
// its server before the test acts on it (cuts it off, restarts the server,
// makes the Set it must see). A WaitForNext waits for the Sets after its
// first answer from the server; a Set before that is one it may take for
// the present value. 300ms were too little on a machine loaded by the test
// command's steps beside it: a waiter's first answer came after the Set,
// and it rightly waited for another (Redis through a blip, etcd across a
// restart).
const Settle = time.Second

// eventBlip cuts a waiter's connections to its server (a blip) while it
// waits: a Set made while it was cut off wakes it once it is back, and a
// waiter that lived through a blip wakes on the next Set.
func eventBlip(t *testing.T, e Engine) {
	p, err := serverproc.NewProxy(e.Addr)
	require.NoError(t, err)
	defer p.Close()
	name := Unique(t)
	waiter, setter := e.NewEvent(t, p.Addr(), name, 0), e.NewEvent(t, e.Addr, name, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wait := func() <-chan string {
		got := make(chan string, 1)
		go func() {
			v, err := waiter.WaitForNext(ctx)
			assert.NoError(t, err, "WaitForNext through a blip")
			got <- v
		}()
		return got
	}
	within := func(got <-chan string, want string) {
		select {
		case v := <-got:
			assert.Equal(t, want, v)
		case <-time.After(20 * time.Second):
			t.Errorf("the waiter did not wake with %q", want)
		}
	}

	got := wait()
	time.Sleep(Settle) // waiting
	p.Cut()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, setter.Set("meanwhile"))
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	p.Resume()
	within(got, "meanwhile")
	t.Logf("a Set made while the waiter was cut off woke it %v after the blip ended", time.Since(start).Round(time.Millisecond))

	got = wait()
	time.Sleep(Settle)
	p.Cut()
	time.Sleep(200 * time.Millisecond)
	p.Resume()
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, setter.Set("after"))
	within(got, "after")
}

// droppedHandle: a handle that holds the lock and is dropped without a
// Release (unreachable, then collected) stops keeping its lease: another
// handle acquires once the lease has run out, not when the process exits.
func droppedHandle(t *testing.T, e Engine) {
	name := Unique(t)
	acquireAndDrop(t, e, name)
	other := e.NewLock(t, e.Addr, name, e.Lease, 0)
	limit := 3 * (e.Lease + e.Grace)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	collecting := make(chan struct{})
	go func() { // the collector runs the dropped handle's cleanup
		for {
			runtime.GC()
			select {
			case <-collecting:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	ok, err := other.Acquire(ctx)
	close(collecting)
	require.NoError(t, err, "another handle acquires within %v of the holder's handle being dropped (lease %v)", limit, e.Lease)
	require.True(t, ok)
	t.Logf("the dropped handle's lease (%v) ended: another handle acquired after %v", e.Lease, time.Since(start).Round(time.Millisecond))
	require.NoError(t, other.Release(ctx))
}

// acquireAndDrop acquires the lock name through a handle that nothing
// references once it returns.
//
//go:noinline
func acquireAndDrop(t *testing.T, e Engine, name string) {
	l := e.NewLock(t, e.Addr, name, e.Lease, 0)
	ok, err := l.Acquire(context.Background())
	require.NoError(t, err)
	require.True(t, ok)
}
