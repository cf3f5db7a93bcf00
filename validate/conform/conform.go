// Package conform holds behavioural conformance suites: they check that a
// value is a lock, an owner lock, a counting semaphore, an event, an awaitable or a context
// manager in what it does, not only in its method names. Each suite first
// runs the ABC check, then exercises the value's behaviour as subtests, and
// says on failure what was expected and what happened.
//
//	func TestMyLock(t *testing.T) {
//		conform.Lock(t, func() any { return mylock.New() })
//	}
//
// Suites take a testing.TB: with a *testing.T each property is a subtest;
// with another TB the properties run one after the other, their failures
// reported through Errorf (which is how the suites' own tests check that
// they fail on broken implementations). A property an implementation does
// not claim is skipped with Skip.
package conform

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// Option configures a suite.
type Option func(*config)

type config struct {
	skip     []string
	timeout  time.Duration
	waiters  int
	allowErr bool
	handles  bool
	settle   time.Duration
}

func newConfig(opts []Option) *config {
	c := &config{timeout: 2 * time.Second, waiters: 50, settle: 20 * time.Millisecond}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c
}

// Skip skips the named properties (the subtest names, e.g.
// "cancelled-acquire-leaves-free").
func Skip(properties ...string) Option {
	return func(c *config) { c.skip = append(c.skip, properties...) }
}

// WithTimeout sets how long a property waits for something that should
// happen (a wake-up, a release) before it reports a failure, and how long
// past its ctx's end a blocking call may take before the suite reports that
// it ignores its ctx and goes on. Default 2s.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithWaiters sets how many goroutines the contention and broadcast
// properties use. Default 50.
func WithWaiters(n int) Option {
	return func(c *config) {
		if n > 1 {
			c.waiters = n
		}
	}
}

// Handles says the factory makes handles, not locks or events: every call
// returns another handle to one shared lock (or event), as a file lock, an
// etcd mutex or a Redis lock gives one handle per holder. Each contender then
// gets a handle of its own (Set and WaitForNext run on different handles),
// and the properties share the one lock, each leaving it free. Without it,
// each property makes a fresh value and its contenders share it.
func Handles() Option {
	return func(c *config) { c.handles = true }
}

// WithSettle sets how long a property lets its waiters start waiting before
// it sets, releases or resolves what they wait for (default 20ms). A
// distributed event or lock, whose waiters first reach their server, wants
// more: a waiter still on its way when the Set lands waits for the next one.
func WithSettle(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.settle = d
		}
	}
}

// AllowResultError accepts an error from a resolved awaitable (exec.Cmd's
// exit status, a cancelled context's Err) as its result, not a failure.
func AllowResultError() Option {
	return func(c *config) { c.allowErr = true }
}

// property runs one named property: as a subtest of a *testing.T, else in
// sequence. It reports whether it passed.
func (c *config) property(t testing.TB, name string, f func(t testing.TB)) bool {
	t.Helper()
	if slices.Contains(c.skip, name) {
		if tt, ok := t.(*testing.T); ok {
			return tt.Run(name, func(t *testing.T) { t.Skip("skipped with conform.Skip") })
		}
		return true
	}
	if tt, ok := t.(*testing.T); ok {
		return tt.Run(name, func(t *testing.T) { t.Helper(); guarded(t, f) })
	}
	rec := &prefixed{TB: t, name: name}
	guarded(rec, f)
	return !rec.failed.Load()
}

// guarded runs a property, turning a panic of the implementation under test
// into a failure of the property rather than a crash of the suite.
func guarded(t testing.TB, f func(t testing.TB)) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("the implementation panicked: %v", r)
		}
	}()
	f(t)
}

// prefixed passes a property's failures on, prefixed with its name. Its
// contenders report from goroutines of their own: failed is atomic.
type prefixed struct {
	testing.TB
	name   string
	failed atomic.Bool
}

func (p *prefixed) Errorf(format string, args ...any) {
	p.failed.Store(true)
	p.TB.Errorf("%s: %s", p.name, fmt.Sprintf(format, args...))
}

func (p *prefixed) Error(args ...any) {
	p.failed.Store(true)
	p.TB.Errorf("%s: %s", p.name, fmt.Sprint(args...))
}

func (p *prefixed) Fail() { p.failed.Store(true); p.TB.Errorf("%s: failed", p.name) }

// raise sets m to n if n is larger.
func raise(m *atomic.Int32, n int32) {
	for {
		cur := m.Load()
		if n <= cur || m.CompareAndSwap(cur, n) {
			return
		}
	}
}
