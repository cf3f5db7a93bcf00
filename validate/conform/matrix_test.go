package conform_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate/conform"
)

// The suites are there to judge implementations that may be broken, so they
// are driven over broken ones: each method of a lock and of an event made
// to panic, call runtime.Goexit, block until the test ends, or lie, one at a
// time. Every cell must end (no hang), fail the suite (no broken
// implementation passes), and leave nothing running (goleak, TestMain).

type breakage int

const (
	works breakage = iota
	panics
	goexits
	blocks
	lies
)

var breakages = []struct {
	name string
	b    breakage
}{{"panics", panics}, {"goexits", goexits}, {"blocks", blocks}, {"lies", lies}}

// broken is one method's breakage; hit applies it and reports whether the
// method should lie.
type broken struct {
	method string
	b      breakage
	free   <-chan struct{} // closed when the test ends: unblocks what blocks
}

func (k broken) hit(method string) (lie bool) {
	if method != k.method {
		return false
	}
	switch k.b {
	case panics:
		panic(method + " broke")
	case goexits:
		runtime.Goexit()
	case blocks:
		<-k.free
	case lies:
		return true
	}
	return false
}

// brokenLock is a ctx-aware lock over a one-place semaphore, with one method
// broken.
type brokenLock struct {
	broken
	sem chan struct{}
}

func (l *brokenLock) Acquire(ctx context.Context) (bool, error) {
	if l.hit("Acquire") {
		return true, nil // says acquired, takes nothing
	}
	select {
	case l.sem <- struct{}{}:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (l *brokenLock) Release(context.Context) error {
	if l.hit("Release") {
		return nil // says released, keeps it
	}
	select {
	case <-l.sem:
	default:
	}
	return nil
}

func (l *brokenLock) Locked() bool {
	if l.hit("Locked") {
		return len(l.sem) == 0
	}
	return len(l.sem) == 1
}

// brokenEvent is an event over a mutex and a channel closed on each Set,
// with one method broken.
type brokenEvent struct {
	broken
	mu   sync.Mutex
	v    int
	set  bool
	next chan struct{}
}

func newBrokenEvent(k broken) *brokenEvent { return &brokenEvent{broken: k, next: make(chan struct{})} }

func (e *brokenEvent) Set(v int) {
	if e.hit("Set") {
		return // says nothing, sets nothing
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.v, e.set = v, true
	close(e.next)
	e.next = make(chan struct{})
}

func (e *brokenEvent) Get() (int, error) {
	lie := e.hit("Get")
	e.mu.Lock()
	defer e.mu.Unlock()
	if lie {
		return e.v + 1, nil
	}
	if !e.set {
		return 0, adapters.ErrNoValue
	}
	return e.v, nil
}

func (e *brokenEvent) IsSet() bool {
	lie := e.hit("IsSet")
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set != lie
}

func (e *brokenEvent) Clear() {
	if e.hit("Clear") {
		return
	}
	e.mu.Lock()
	e.set = false
	e.mu.Unlock()
}

func (e *brokenEvent) WaitForNext(ctx context.Context) (int, error) {
	lie := e.hit("WaitForNext")
	e.mu.Lock()
	next, v := e.next, e.v
	e.mu.Unlock()
	if lie {
		return v, nil // at once, without waiting for a Set
	}
	select {
	case <-next:
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// suiteCell runs one suite over one breakage and checks that it ended and
// failed.
func suiteCell(t *testing.T, run func(r *recorder, k broken) bool, method string, b breakage) {
	t.Helper()
	free := make(chan struct{})
	defer close(free)
	r := &recorder{TB: t}
	var passed bool
	returnsWithin(t, 60*time.Second, "the suite", func() { passed = run(r, broken{method: method, b: b, free: free}) })
	assert.False(t, passed, "a lock whose %s is broken passed the suite", method)
	assert.NotEmpty(t, r.failures())
}

func TestSuitesOverBrokenImplementations(t *testing.T) {
	suites := []struct {
		name    string
		methods []string
		run     func(r *recorder, k broken) bool
	}{
		{"lock", []string{"Acquire", "Release", "Locked"}, func(r *recorder, k broken) bool {
			return conform.Lock(r, func() any { return &brokenLock{broken: k, sem: make(chan struct{}, 1)} },
				conform.WithTimeout(100*time.Millisecond), conform.WithWaiters(2))
		}},
		{"event", []string{"Set", "Get", "IsSet", "Clear", "WaitForNext"}, func(r *recorder, k broken) bool {
			return conform.Event(r, func() any { return newBrokenEvent(k) }, func(i int) int { return i + 1 },
				conform.WithTimeout(100*time.Millisecond), conform.WithWaiters(2))
		}},
	}
	cells := 0
	for _, s := range suites {
		for _, m := range s.methods {
			for _, b := range breakages {
				cells++
				if testing.Short() && cells%8 != 0 {
					continue // a sample under -short; every cell otherwise
				}
				t.Run(s.name+"/"+m+"/"+b.name, func(t *testing.T) {
					t.Parallel()
					suiteCell(t, s.run, m, b.b)
				})
			}
		}
	}
}
