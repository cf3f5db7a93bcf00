package conform_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate/conform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a testing.TB that records failures instead of failing, so
// that the suites themselves can be tested.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

func (r *recorder) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

func TestLockSuitePassesOnRealLocks(t *testing.T) {
	conform.Lock(t, func() any { return &sync.Mutex{} })
	conform.Lock(t, func() any { return &sync.RWMutex{} })
	conform.Lock(t, func() any { return adapters.NewOwnerMutex() })
	conform.OwnerLock(t, func() any { return adapters.NewOwnerMutex() })
}

func TestEventSuitePassesOnValueEvent(t *testing.T) {
	conform.Event(t, func() any { return adapters.NewValueEvent[int]() }, func(i int) int { return i + 10 })
	conform.Event(t, func() any { return adapters.NewValueEvent[string]() }, func(i int) string { return fmt.Sprint("v", i) })
}

func TestAwaitableSuitePassesOnStdlib(t *testing.T) {
	conform.Awaitable(t, func() (any, func()) {
		wg := &sync.WaitGroup{}
		wg.Add(1)
		var once sync.Once
		return wg, func() { once.Do(wg.Done) }
	})
	conform.Awaitable(t, func() (any, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		return ctx, cancel
	}, conform.AllowResultError())
	conform.Awaitable(t, func() (any, func()) {
		cmd := exec.Command("sh", "-c", "read x")
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		var once sync.Once
		return cmd, func() { once.Do(func() { _ = stdin.Close() }) }
	}, conform.AllowResultError())
}

func TestContextSuitePassesOnStdlibAndUserTypes(t *testing.T) {
	dir := t.TempDir()
	n := 0
	conform.Context[*os.File](t, func() any {
		n++
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(n)))
		require.NoError(t, err)
		return f
	})
	conform.Context[*shop.Conn](t, func() any { return &shop.Session{} })
	conform.Context[*shop.Conn](t, func() any { return &shop.Session{Suppress: true} })
}

func TestSkip(t *testing.T) {
	conform.Lock(t, func() any { return &sync.Mutex{} }, conform.Skip("release-wakes-waiter"), conform.WithWaiters(4))
}

// Broken implementations: each breaks one promise.

// leakyLock lets every caller in.
type leakyLock struct{ held atomic.Int32 }

func (l *leakyLock) Acquire() bool                 { l.held.Add(1); return true }
func (l *leakyLock) Release(context.Context) error { l.held.Add(-1); return nil }
func (l *leakyLock) Locked() bool                  { return l.held.Load() > 0 }

// lyingLock is a real mutex whose Locked always says false.
type lyingLock struct{ mu sync.Mutex }

func (l *lyingLock) Acquire()     { l.mu.Lock() }
func (l *lyingLock) Release()     { l.mu.Unlock() }
func (l *lyingLock) Locked() bool { return false }

// careless is an owner lock that thinks everybody owns it.
type careless struct{ *adapters.OwnerMutex }

func (careless) IsOwner(context.Context) bool { return true }

// stingyEvent wakes only one waiter per Set.
type stingyEvent struct {
	mu    sync.Mutex
	v     int
	set   bool
	waits []chan int
}

func (e *stingyEvent) Clear()           { e.mu.Lock(); e.set = false; e.mu.Unlock() }
func (e *stingyEvent) Get() (int, bool) { e.mu.Lock(); defer e.mu.Unlock(); return e.v, e.set }
func (e *stingyEvent) IsSet() bool      { e.mu.Lock(); defer e.mu.Unlock(); return e.set }
func (e *stingyEvent) Set(v int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.v, e.set = v, true
	if len(e.waits) > 0 {
		e.waits[0] <- v
		e.waits = e.waits[1:]
	}
}
func (e *stingyEvent) WaitForNext(ctx context.Context) (int, error) {
	ch := make(chan int, 1)
	e.mu.Lock()
	e.waits = append(e.waits, ch)
	e.mu.Unlock()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// eagerAwaitable never waits.
type eagerAwaitable struct{}

func (eagerAwaitable) Wait() {}

// swallower turns a panic in the body into another one.
type swallower struct{}

func (swallower) Exit(err error) bool { panic("exit saw " + fmt.Sprint(err)) }

func TestSuitesFailOnBrokenImplementations(t *testing.T) {
	t.Parallel() // the quick check: the package is its longest
	tests := []struct {
		name string
		run  func(t testing.TB) bool
		want []string
	}{
		{"lock that lets two holders in", func(t testing.TB) bool {
			return conform.Lock(t, func() any { return &leakyLock{} })
		}, []string{"mutual-exclusion: mutual exclusion broken: expected at most 1 holder at a time", "release-wakes-waiter: expected a second Acquire to wait while the lock is held"}},
		{"lock whose Locked lies", func(t testing.TB) bool {
			return conform.Lock(t, func() any { return &lyingLock{} })
		}, []string{"locked-tells-truth: expected Locked after Acquire, Locked says free"}},
		{"owner lock that ignores ownership", func(t testing.TB) bool {
			return conform.OwnerLock(t, func() any { return careless{adapters.NewOwnerMutex()} })
		}, []string{"is-owner: expected IsOwner false for another task, got true", "release-by-other-task-refused: expected Release by another task to fail with ErrNotOwner"}},
		{"event that wakes one waiter", func(t testing.TB) bool {
			return conform.Event(t, func() any { return &stingyEvent{} }, func(i int) int { return i + 1 }, conform.WithWaiters(5))
		}, []string{"broadcast: expected one Set to wake all 5 waiters with 2, 1 were woken"}},
		{"awaitable that does not wait", func(t testing.TB) bool {
			return conform.Awaitable(t, func() (any, func()) { return eagerAwaitable{}, func() {} })
		}, []string{"waits-until-resolved: expected Await to wait before resolve"}},
		{"context whose Exit panics", func(t testing.TB) bool {
			return conform.Context[any](t, func() any { return swallower{} })
		}, []string{"enter-exit: the implementation panicked: exit saw <nil>", "panic-in-body: expected a panic in the body to go on with its own value or be suppressed"}},
		{"not a lock at all", func(t testing.TB) bool {
			return conform.Lock(t, func() any { return &shop.Cache{} })
		}, []string{"abc: not a lock: mixin: can't compose *shop.Cache"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			assert.False(t, tt.run(rec), "the suite must report failure")
			for _, w := range tt.want {
				assert.Contains(t, rec.failures(), w)
			}
		})
	}
}

// remoteEvent is an event whose waiters first take a while to reach their
// server (as a distributed event's subscribe): a WaitForNext sees only the
// Sets made after it arrived.
type remoteEvent struct {
	*adapters.ValueEvent[int]
	reach time.Duration
}

func (e *remoteEvent) WaitForNext(ctx context.Context) (int, error) {
	select {
	case <-time.After(e.reach):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return e.ValueEvent.WaitForNext(ctx)
}

func TestWithSettleGivesWaitersTimeToReachTheirServer(t *testing.T) {
	t.Parallel() // the quick check: the package is its longest
	mk := func() any {
		return &remoteEvent{ValueEvent: adapters.NewValueEvent[int](), reach: 60 * time.Millisecond}
	}
	sample := func(i int) int { return i }
	opts := []conform.Option{conform.WithWaiters(4), conform.WithTimeout(300 * time.Millisecond),
		conform.Skip("get-on-empty", "set-get-clear")}

	r := &recorder{TB: t}
	assert.False(t, conform.Event(r, mk, sample, opts...), "with the default 20 ms the Set lands before the waiters arrive")
	assert.Contains(t, r.failures(), "to wake all 4 waiters")

	assert.True(t, conform.Event(t, mk, sample, append(opts, conform.WithSettle(200*time.Millisecond))...))
}

// TestEventBroadcastWaitsAllowForHandlesSlowToMake: handles to one event
// that each take a while to make (a client each, dialled, as a distributed
// engine's) are all made before the broadcast's waiters' ctx begins, which
// allows the settle and the timeout: a ctx begun before them ran out while
// they were made, before the Set, and no waiter was woken.
func TestEventBroadcastWaitsAllowForHandlesSlowToMake(t *testing.T) {
	t.Parallel() // the quick check: the package is its longest
	shared := adapters.NewValueEvent[int]()
	type handle struct{ *adapters.ValueEvent[int] }
	mk := func() any {
		time.Sleep(100 * time.Millisecond) // dialled
		return handle{shared}
	}
	assert.True(t, conform.Event(t, mk, func(i int) int { return i }, conform.Handles(), conform.WithWaiters(6),
		conform.WithTimeout(300*time.Millisecond), conform.WithSettle(100*time.Millisecond),
		conform.Skip("get-on-empty", "set-get-clear", "wait-for-next-blocks-while-set")))
}
