// Package disttest is the behavioural test battery every distributed engine
// of contrib/ runs: the conform suites across independent clients, a
// counter kept under the lock by two clients, fencing tokens, what Locked
// and IsOwner ask the server, events crossing clients, and the faults (a
// holder cut off from its server until its lease runs out; the server
// stopped under holders, waiters and event waiters, then restarted; a
// handle dropped while it holds the lock), and a battery generated over
// conditions (conditions.go: one table of what a network or a server does,
// crossed with what a handle is doing when it comes). An
// engine's tests give it a way to make handles; each handle gets a client of
// its own.
package disttest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
	"github.com/gomixin/mixin/validate/conform"
)

// Lock is what the battery uses of an engine's lock handle.
type Lock interface {
	Acquire(ctx context.Context) (bool, error)
	TryAcquire(ctx context.Context) (bool, error)
	Release(ctx context.Context) error
	Locked() bool
	LockedContext(ctx context.Context) (bool, error)
	IsOwner(ctx context.Context) bool
	HeldContext(ctx context.Context) (bool, error)
	Lost() <-chan struct{}
	Token() (int64, bool)
}

// Event is what the battery uses of an engine's event of strings.
type Event interface {
	Set(v string) error
	SetContext(ctx context.Context, v string) error
	Get() (string, error)
	GetContext(ctx context.Context) (string, error)
	IsSet() bool
	Clear() error
	WaitForNext(ctx context.Context) (string, error)
	Wait(ctx context.Context) (string, error)
	WaitUntil(ctx context.Context, match func(string) bool) (string, error)
}

// Engine is how the battery reaches one engine.
type Engine struct {
	Addr   string             // the server's client address
	Server *serverproc.Server // the server the tests started; nil for a deployment of the user's (the fault tests then skip)
	// Lease is the shortest lease the engine takes, for the lost-lease
	// test; Grace, how long past it the loss may be reported.
	Lease, Grace time.Duration
	// NewLock returns a handle on the lock name, on a client of its own
	// that dials addr, with the given lease and timeout (zero: the
	// defaults).
	NewLock func(t testing.TB, addr, name string, lease, timeout time.Duration) Lock
	// NewSemaphore returns a handle on the counting semaphore name of
	// permits permits (each handle holds at most one), on a client of its
	// own, with the given lease and timeout (zero: the defaults); nil for an
	// engine without semaphores (their tests then skip).
	NewSemaphore func(t testing.TB, addr, name string, permits int, lease, timeout time.Duration) Lock
	// NewEvent returns a handle on the event name, on a client of its own.
	NewEvent func(t testing.TB, addr, name string, timeout time.Duration) Event
	// Closed returns a handle on the lock name (permits 0), or on the
	// semaphore name of permits permits, whose client has been closed.
	Closed func(t testing.TB, addr, name string, permits int) Lock
	// Prefixed returns a handle on the lock name with the application
	// prefix given (the engine's WithPrefix).
	Prefixed func(t testing.TB, addr, prefix, name string) Lock
	// Conditions are the engine's own conditions for the generated
	// battery, beside those every engine meets (compaction, FLUSHALL).
	Conditions []Condition
	// Known names the battery's cells ("condition/role") whose promise the
	// engine is known not to keep, and why: they are skipped with ErrKnown.
	Known map[string]string
}

var names atomic.Int64

// Unique returns a name no other test uses.
func Unique(t testing.TB) string {
	return fmt.Sprintf("mixin-test/%s/%d", strings.ReplaceAll(t.Name(), "/", "."), names.Add(1))
}

// Run runs the battery, each test a subtest.
func Run(t *testing.T, e Engine) {
	tests := []struct {
		name string
		run  func(*testing.T, Engine)
	}{
		{"LockConformsAcrossClients", lockConforms},
		{"OwnerLockConformsAcrossClients", ownerLockConforms},
		{"SharedHandleIsALock", sharedHandle},
		{"LockComposesWithNoAdapter", lockComposes},
		{"CounterAcrossClients", counter},
		{"FencingTokensGrow", tokens},
		{"TryAcquireMakesOneAttempt", tryAcquire},
		{"ContendedHoldsKeepTheirOrder", contended},
		{"LockedAndIsOwnerAskTheServer", askServer},
		{"AcquireOnAClosedClientFailsAtOnce", closedClient},
		{"NamesAndKindsNeverShareOrCoverKeys", namesApart},
		{"AnyStringNamesALock", anyName},
		{"CancelledAcquiresEndWithTheirCtxAndLeaveTheLockFree", cancelledAcquires},
		{"EventConformsAcrossClients", eventConforms},
		{"EventCrossesClients", eventCrosses},
		{"EventWaitEndsWithItsCtx", eventCtx},
		{"EventComposesWithNoAdapter", eventComposes},
		{"EventWaitersOutliveABlip", eventBlip},
		{"LostLeaseIsReportedAndTheNextHolderKeepsIt", lostLease},
		{"ServerDownEveryCallReturnsWithinItsCtx", serverDown},
		{"FencingTokensGrowAcrossARestart", tokensRestart},
		{"DroppedHandleLetsItsLeaseEnd", droppedHandle},
		{"WaitersThatGiveUpOrDieDoNotStallTheQueue", queueSurvivesLeavers},
		{"SemaphoreConformsAcrossClients", semaphoreConforms},
		{"SemaphoreComposesWithNoAdapter", semaphoreComposes},
		{"SemaphoreTokensGrow", semaphoreTokens},
		{"SemaphoreNeverAdmitsMoreThanItsPermits", semaphoreHolders},
		{"SemaphoreNeverAdmitsMoreThanItsPermitsUnderCutOffs", semaphoreHoldersUnderFaults},
		{"Conditions", conditionsBattery},
		{"LinearizabilityCheckRefusesWhatALockMustNotDo", checkerRefuses},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, e) })
	}
}

// handles is a conform factory: handles on one lock, a client each.
func handles(t *testing.T, e Engine) func() any {
	name := Unique(t)
	return func() any { return e.NewLock(t, e.Addr, name, 0, 0) }
}

func lockConforms(t *testing.T, e Engine) {
	conform.Lock(t, handles(t, e), conform.Handles(), conform.WithWaiters(8))
}

func ownerLockConforms(t *testing.T, e Engine) {
	conform.OwnerLock(t, handles(t, e), conform.Handles(), conform.WithWaiters(8))
}

func sharedHandle(t *testing.T, e Engine) {
	l := e.NewLock(t, e.Addr, Unique(t), 0, 0)
	conform.Lock(t, func() any { return l }, conform.WithWaiters(8))
}

func lockComposes(t *testing.T, e Engine) {
	c, err := mixin.Compose(e.NewLock(t, e.Addr, Unique(t), 0, 0))
	require.NoError(t, err)
	assert.True(t, c.Has(mixin.KindLock), "kinds: %v", c.Kinds())
	assert.True(t, c.Has(mixin.KindOwnerLock), "kinds: %v", c.Kinds())
}

// counter is the test a lock exists for: sixteen goroutines, each with a
// handle (and client) of its own, a read-modify-write of a value on the
// server that loses updates without the lock. The holds Do made are
// checked by their holders' knowledge and for linearizability.
func counter(t *testing.T, e Engine) {
	name, value := Unique(t), Unique(t)
	store := e.NewEvent(t, e.Addr, value, 0)
	const holders, rounds = 16, 10
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, holders*rounds)
	hist := &History{}
	for i := range holders {
		l := e.NewLock(t, e.Addr, name, 0, 0)
		proxy, err := adapters.NewLock(l)
		require.NoError(t, err)
		own := e.NewEvent(t, e.Addr, value, 0)
		who := "holder-" + strconv.Itoa(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				var hold *Hold
				called := time.Now()
				err := proxy.Do(ctx, func(ctx context.Context) error {
					hold = hist.acquired(who, l, called, time.Now())
					defer func() { hold.Released = time.Now() }()
					s, err := own.GetContext(ctx)
					if err != nil && !errors.Is(err, adapters.ErrNoValue) {
						return err
					}
					n, _ := strconv.Atoi(s)
					return own.SetContext(ctx, strconv.Itoa(n+1))
				})
				hist.done(who, called, hold, err)
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := store.Get()
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(holders*rounds), got, "every increment made under the lock")
	hist.Check(t)
	hist.CheckLinearizable(t)
}

func tokens(t *testing.T, e Engine) {
	name := Unique(t)
	a, b := e.NewLock(t, e.Addr, name, 0, 0), e.NewLock(t, e.Addr, name, 0, 0)
	ctx := context.Background()
	_, held := a.Token()
	assert.False(t, held, "no token without a hold")
	var last int64
	for i := range 6 {
		h := []Lock{a, b}[i%2]
		ok, err := h.Acquire(ctx)
		require.True(t, ok)
		require.NoError(t, err)
		tok, held := h.Token()
		require.True(t, held)
		assert.Greater(t, tok, last, "hold %d", i)
		last = tok
		require.NoError(t, h.Release(ctx))
	}
}

func askServer(t *testing.T, e Engine) {
	name := Unique(t)
	a, b := e.NewLock(t, e.Addr, name, 0, 0), e.NewLock(t, e.Addr, name, 0, 0)
	task := adapters.WithTask(context.Background())
	ok, err := a.Acquire(task)
	require.True(t, ok)
	require.NoError(t, err)
	assert.True(t, b.Locked(), "another handle sees the hold")
	assert.True(t, a.IsOwner(task))
	assert.False(t, b.IsOwner(task), "the task holds it through a, not b")
	assert.False(t, a.IsOwner(adapters.WithTask(context.Background())), "another task")
	held, err := a.HeldContext(task)
	require.NoError(t, err)
	assert.True(t, held, "the server says a's hold holds it")
	held, err = b.HeldContext(task)
	require.NoError(t, err)
	assert.False(t, held, "b holds nothing")
	require.NoError(t, a.Release(task))
	assert.False(t, b.Locked())
	assert.ErrorIs(t, a.Release(task), adapters.ErrNotLocked)
}

// closedClient: nothing will ever answer a closed client, so an Acquire on
// it fails at once instead of waiting for a ctx that may never end.
func closedClient(t *testing.T, e Engine) {
	kinds := []int{0}
	if e.NewSemaphore != nil {
		kinds = append(kinds, 2)
	}
	for _, permits := range kinds {
		l := e.Closed(t, e.Addr, Unique(t), permits)
		done := make(chan error, 1)
		go func() {
			_, err := l.Acquire(context.Background()) // a ctx that never ends
			done <- err
		}()
		select {
		case err := <-done:
			assert.Error(t, err)
			t.Logf("Acquire on a closed client (permits %d; 0: a lock): %v", permits, err)
		case <-time.After(5 * time.Second):
			t.Fatalf("Acquire on a closed client (permits %d; 0: a lock) waited for a ctx that never ends", permits)
		}
	}
}

// eventConforms runs conform's Event suite over handles on clients of their
// own. Its settle is how long a WaitForNext is given to reach the server
// before the Set it must see: 200ms was too little on a machine loaded by
// the test command's builds beside it (load 15: Redis's waiter subscribed
// after the Set and waited out its ctx).
func eventConforms(t *testing.T, e Engine) {
	name := Unique(t)
	conform.Event(t, func() any { return e.NewEvent(t, e.Addr, name, 0) },
		func(i int) string { return "value-" + strconv.Itoa(i) },
		conform.Handles(), conform.WithWaiters(8), conform.WithSettle(time.Second))
}

func eventCrosses(t *testing.T, e Engine) {
	name := Unique(t)
	setter, waiter := e.NewEvent(t, e.Addr, name, 0), e.NewEvent(t, e.Addr, name, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan string, 1)
	go func() {
		v, err := waiter.WaitUntil(ctx, func(s string) bool { return s == "ready" })
		assert.NoError(t, err)
		got <- v
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, setter.Set("starting"))
	require.NoError(t, setter.Set("ready"))
	assert.Equal(t, "ready", <-got)
	v, err := waiter.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ready", v, "Wait returns the value held")
}

func eventCtx(t *testing.T, e Engine) {
	ev := e.NewEvent(t, e.Addr, Unique(t), 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ev.WaitForNext(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
	cctx, ccancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, ccancel) // a cancel, not a deadline
	_, err = ev.Wait(cctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func eventComposes(t *testing.T, e Engine) {
	c, err := mixin.Compose(e.NewEvent(t, e.Addr, Unique(t), 0))
	require.NoError(t, err)
	ev, ok := c.Event()
	require.True(t, ok, "kinds: %v", c.Kinds())
	require.NoError(t, ev.TrySet("x"))
	assert.ErrorIs(t, ev.TrySet(1), adapters.ErrType)
	got, err := ev.Get()
	require.NoError(t, err)
	assert.Equal(t, "x", got)
	require.NoError(t, ev.TryClear())
	assert.False(t, ev.IsSet())
}

// cancelledAcquires: Acquires whose ctx ends within 0.1 to 2.05 times what
// an uncontended Acquire takes, often in the middle of the attempt, return
// false with an error matching the ctx's, and whatever an attempt cut off
// may have taken on the server is given back: another handle acquires at
// once, not after the lease.
func cancelledAcquires(t *testing.T, e Engine) {
	name := Unique(t)
	a, b := e.NewLock(t, e.Addr, name, 0, 0), e.NewLock(t, e.Addr, name, 0, 0)
	bg := context.Background()
	// A first hold warms both clients' connections.
	for _, h := range []Lock{a, b} {
		ok, err := h.Acquire(bg)
		require.True(t, ok)
		require.NoError(t, err)
		require.NoError(t, h.Release(bg))
	}
	// The deadlines sweep the time an uncontended Acquire takes, where an
	// attempt is cut off after its requests left: then it may have taken
	// the lock.
	took := time.Hour
	for range 5 {
		start := time.Now()
		ok, err := a.Acquire(bg)
		took = min(took, time.Since(start))
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, a.Release(bg))
	}
	cut := 0
	for i := range 40 {
		d := took * time.Duration(10+5*i) / 100
		_, err := a.LockedContext(bg) // a connection ready: a cut-off attempt may have left it broken
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(bg, d)
		ok, err := a.Acquire(ctx)
		cancel()
		if ok {
			require.NoError(t, a.Release(bg))
			continue
		}
		cut++
		assert.ErrorIs(t, err, context.DeadlineExceeded, "an Acquire with a deadline of %v", d)
		// The lease is the engine's default (seconds): within one second
		// means nothing was left held.
		wctx, wcancel := context.WithTimeout(bg, time.Second)
		ok, err = b.Acquire(wctx)
		wcancel()
		if !assert.NoError(t, err, "the lock was left held after an Acquire with a deadline of %v was cut off", d) {
			continue
		}
		require.True(t, ok)
		require.NoError(t, b.Release(bg))
	}
	t.Logf("an Acquire takes %v: %d of 40 Acquires were cut off by their ctx", took, cut)
}

// namesApart: locks whose names are each other's prefixes, or hold the
// engines' separators, or name the keys a lock keeps beside its own (a
// Redis lock's ":fence"), and events of the same names holding values, are
// all free and held at once; with other application prefixes too.
func namesApart(t *testing.T, e Engine) {
	n := Unique(t)
	bg, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, en := range []string{n, n + "/current", n + ":fence", n + "/eu/x"} {
		require.NoError(t, e.NewEvent(t, e.Addr, en, 0).Set("a value"), "event %q", en)
	}
	assert.False(t, e.NewLock(t, e.Addr, n, 0, 0).Locked(), "lock %q is free while event %q holds a value", n, n)
	names := []string{n + "/eu", n, n + ":fence", n + ":released", n + "/", n + "}", "{" + n + "}", n + "%2Feu", n + "/eu/x"}
	var held []Lock
	for i, ln := range names {
		l := e.NewLock(t, e.Addr, ln, 0, 0)
		assert.False(t, l.Locked(), "lock %q is free while %q are held", ln, names[:i])
		actx, acancel := context.WithTimeout(bg, 2*time.Second)
		ok, err := l.Acquire(actx)
		acancel()
		if !assert.NoError(t, err, "lock %q, while %q are held", ln, names[:i]) {
			continue
		}
		require.True(t, ok)
		held = append(held, l)
	}
	if e.Prefixed != nil {
		for _, p := range []string{"app-one", "app-two", "app/three:{x}"} {
			l := e.Prefixed(t, e.Addr, p, n)
			actx, acancel := context.WithTimeout(bg, 2*time.Second)
			ok, err := l.Acquire(actx)
			acancel()
			if assert.NoError(t, err, "lock %q with the prefix %q, while it is held with the default prefix", n, p) {
				require.True(t, ok)
				held = append(held, l)
			}
		}
	}
	for _, l := range held {
		assert.NoError(t, l.Release(bg))
	}
}

// anyName: names with the characters keys escape, glob and hash-tag
// characters, spaces, a newline, NUL bytes, bytes that are not UTF-8 and a
// 4096-byte name each name a lock that is taken, excluded from a handle on
// another client and given back; "x\xff" and "x%FF" are two locks.
func anyName(t *testing.T, e Engine) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := Unique(t)
	var held []Lock
	for _, n := range []string{"a:b", "{x}", "%41", "a b\nc", "\xff\xfe", "a\x00b", string(make([]byte, 4096)), "*", "?[]", "x\xff", "x%FF", "\u00e9\xc3"} {
		a, b := e.NewLock(t, e.Addr, base+n, 0, 0), e.NewLock(t, e.Addr, base+n, 0, 0)
		ok, err := a.Acquire(ctx)
		require.NoError(t, err, "%q", n)
		require.True(t, ok)
		ok, err = b.TryAcquire(ctx)
		require.NoError(t, err, "%q", n)
		assert.False(t, ok, "%q: excluded", n)
		held = append(held, a)
	}
	for _, l := range held {
		assert.NoError(t, l.Release(ctx))
	}
}

// tryAcquire: TryAcquire takes a free lock, and says false at once, with no
// error, while another handle holds it.
func tryAcquire(t *testing.T, e Engine) {
	name := Unique(t)
	a, b := e.NewLock(t, e.Addr, name, 0, 0), e.NewLock(t, e.Addr, name, 0, 0)
	ctx := context.Background()
	ok, err := a.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok, "a free lock")
	first, _ := a.Token()
	start := time.Now()
	ok, err = b.TryAcquire(ctx)
	assert.NoError(t, err)
	assert.False(t, ok, "held by a")
	assert.Less(t, time.Since(start), time.Second, "one attempt, no waiting")
	assert.True(t, a.IsOwner(ctx), "a's hold is untouched")
	require.NoError(t, a.Release(ctx))
	ok, err = b.TryAcquire(ctx)
	require.NoError(t, err)
	require.True(t, ok, "released by a")
	second, _ := b.Token()
	assert.Greater(t, second, first)
	assert.True(t, a.Locked(), "b holds it")
	require.NoError(t, b.Release(ctx))
	assert.False(t, b.Locked(), "a refused TryAcquire leaves nothing behind")
}
