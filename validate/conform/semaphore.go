package conform

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// Semaphore checks that the values newSem makes are counting semaphores of
// permits permits, composed as locks: the ABC check (a lock, with no
// adapter), then never more than permits holders at once under contention
// ("at-most-n-holders": Python's BoundedSemaphore lets value holders in),
// permits holders admitted without waiting ("admits-n"), Locked saying
// whether every permit is taken ("locked-means-full"), a Release admitting
// a waiter ("release-admits-next"), and a cancelled Acquire taking no permit
// ("cancelled-acquire-leaves-permits"). With Handles, every call of newSem
// returns another handle on one shared semaphore, each holding at most one
// permit (as the distributed engines' semaphores do); without it, each
// property makes one value and its contenders share it. Every blocking call
// is bounded, as in Lock. It reports whether every property passed.
func Semaphore(t testing.TB, newSem func() any, permits int, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	if permits < 1 {
		t.Errorf("conform.Semaphore: permits is %d, want at least 1", permits)
		return false
	}
	mk := func(t testing.TB) *adapters.Lock {
		t.Helper()
		l, err := adapters.NewLock(newSem())
		if err != nil {
			t.Errorf("not a lock: %+v", err)
			return nil
		}
		return l
	}
	if !c.property(t, "abc", func(t testing.TB) { t.Helper(); mk(t) }) {
		return false
	}
	s := semSuite{c: c, n: permits, mk: mk}
	ok := c.property(t, "at-most-n-holders", s.atMostN)
	ok = c.property(t, "admits-n", s.admitsN) && ok
	ok = c.property(t, "locked-means-full", s.lockedMeansFull) && ok
	ok = c.property(t, "release-admits-next", s.releaseAdmitsNext) && ok
	ok = c.property(t, "cancelled-acquire-leaves-permits", s.cancelledLeavesPermits) && ok
	return ok
}

// semSuite is the semaphore properties over one factory.
type semSuite struct {
	c  *config
	n  int
	mk func(testing.TB) *adapters.Lock
}

// holders are the permits a property took: one proxy per permit (with
// Handles, a handle each; without, the one shared value).
type holders struct {
	t    testing.TB
	c    *config
	ctx  context.Context
	held []*adapters.Lock
}

// take acquires n permits through get, each expected to be free; it
// reports whether all came.
func (h *holders) take(get func(testing.TB) *adapters.Lock, n int) bool {
	h.t.Helper()
	for range n {
		l := get(h.t)
		if l == nil {
			return false
		}
		if !acquireFree(h.t, h.c, l, h.ctx) {
			return false
		}
		h.held = append(h.held, l)
	}
	return true
}

// give releases the permit taken last; it reports whether it was released.
func (h *holders) give() bool {
	h.t.Helper()
	l := h.held[len(h.held)-1]
	h.held = h.held[:len(h.held)-1]
	err, ok := releaseWithin(h.t, h.c, l, h.ctx)
	if ok && err != nil {
		h.t.Errorf("expected Release of a held permit to succeed, got %v", err)
	}
	return ok && err == nil
}

// giveAll releases every permit still taken.
func (h *holders) giveAll() {
	h.t.Helper()
	for len(h.held) > 0 {
		h.give()
	}
}

func (s semSuite) holders(t testing.TB) *holders {
	ctx, cancel := context.WithTimeout(context.Background(), 5*s.c.timeout)
	t.Cleanup(cancel)
	return &holders{t: t, c: s.c, ctx: ctx}
}

func (s semSuite) atMostN(t testing.TB) {
	t.Helper()
	get := handles(s.c, s.mk)
	if get(t) == nil {
		return
	}
	var inside, worst atomic.Int32
	var calls fold
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), s.c.timeout*5)
	defer cancel()
	const rounds = 10
	for range max(s.c.waiters, 2*s.n+1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := get(t)
			if l == nil {
				return
			}
			task := adapters.WithTask(ctx)
			for range rounds {
				err := safely(func() error {
					return l.Do(task, func(context.Context) error {
						raise(&worst, inside.Add(1))
						time.Sleep(100 * time.Microsecond)
						inside.Add(-1)
						return nil
					})
				})
				calls.add(err)
				if err != nil {
					return
				}
			}
		}()
	}
	waitAll(t, s.c, &wg, ctx, "Do under contention", nil)
	calls.report(t, "Do calls under contention")
	if w := int(worst.Load()); w > s.n {
		t.Errorf("expected at most %d holders at a time, saw %d at once", s.n, w)
	}
}

func (s semSuite) admitsN(t testing.TB) {
	t.Helper()
	h := s.holders(t)
	defer h.giveAll()
	// Each permit is taken by a task of its own, as separate holders are.
	get := handles(s.c, s.mk)
	for i := range s.n {
		l := get(t)
		if l == nil {
			return
		}
		ctx, cancel := context.WithTimeout(adapters.WithTask(context.Background()), s.c.timeout)
		got, err, returned := acquireWithin(t, s.c, l, ctx)
		cancel()
		if !returned {
			return
		}
		if err != nil || !got {
			t.Errorf("expected %d of %d permits to be taken without waiting, permit %d: Acquire returned %v, %v", s.n, s.n, i+1, got, err)
			return
		}
		h.held = append(h.held, l)
	}
}

func (s semSuite) lockedMeansFull(t testing.TB) {
	t.Helper()
	h := s.holders(t)
	defer h.giveAll()
	get := handles(s.c, s.mk)
	probe := get(t)
	if probe == nil {
		return
	}
	locked := func(when string, want bool) bool {
		got, ok := call(t, s.c, "Locked", probe.Locked)
		if ok && got != want {
			if want {
				t.Errorf("expected Locked with all %d permits taken (%s), Locked says free", s.n, when)
			} else {
				t.Errorf("expected Locked false %s (%d of %d permits taken), Locked says full", when, len(h.held), s.n)
			}
		}
		return ok
	}
	if !locked("with none taken", false) {
		return
	}
	if s.n > 1 {
		if !h.take(get, s.n-1) || !locked("with one permit left", false) {
			return
		}
	}
	if !h.take(get, 1) || !locked("", true) {
		return
	}
	if h.give() {
		locked("after one was released", false)
	}
}

func (s semSuite) releaseAdmitsNext(t testing.TB) {
	t.Helper()
	h := s.holders(t)
	defer h.giveAll()
	get := handles(s.c, s.mk)
	if !h.take(get, s.n) {
		return
	}
	w := get(t)
	if w == nil {
		return
	}
	waiter, cancel := context.WithTimeout(adapters.WithTask(context.Background()), 3*s.c.timeout)
	defer cancel()
	acquired := acquireAsync(w, waiter)
	select {
	case err := <-acquired:
		t.Errorf("expected an Acquire to wait while all %d permits are taken, it returned %v", s.n, err)
		if err == nil {
			_, _ = releaseWithin(t, s.c, w, waiter)
		}
		return
	case <-time.After(s.c.settle):
	}
	if !h.give() {
		return
	}
	select {
	case err := <-acquired:
		if err != nil {
			t.Errorf("expected a Release to admit the waiter, its Acquire returned %v", err)
			return
		}
		_, _ = releaseWithin(t, s.c, w, waiter)
	case <-time.After(2 * s.c.timeout):
		t.Errorf("expected a Release to admit the waiter, its Acquire did not return within %v", 2*s.c.timeout)
	}
}

func (s semSuite) cancelledLeavesPermits(t testing.TB) {
	t.Helper()
	h := s.holders(t)
	get := handles(s.c, s.mk)
	if !h.take(get, s.n) {
		h.giveAll()
		return
	}
	// Several cancelled Acquires: a permit each might leak.
	failed := 0
	for i := range 3 {
		other := get(t)
		if other == nil {
			h.giveAll()
			return
		}
		short, cancel := context.WithTimeout(adapters.WithTask(context.Background()), time.Duration(5*(i+1))*time.Millisecond)
		got, err, returned := acquireWithin(t, s.c, other, short)
		cancel()
		if !returned {
			failed++
			continue
		}
		if got || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("expected Acquire with every permit taken to end with its ctx (false, deadline exceeded), got %v, %v", got, err)
			if got {
				h.held = append(h.held, other)
			}
		}
	}
	h.giveAll()
	if failed > 0 {
		return
	}
	// Every permit is free again: n acquisitions succeed without waiting.
	again := s.holders(t)
	defer again.giveAll()
	for i := range s.n {
		l := get(t)
		if l == nil {
			return
		}
		ctx, cancel := context.WithTimeout(adapters.WithTask(context.Background()), s.c.timeout)
		got, err, returned := acquireWithin(t, s.c, l, ctx)
		cancel()
		if !returned {
			return
		}
		if err != nil || !got {
			t.Errorf("expected all %d permits free after cancelled Acquires, permit %d: Acquire returned %v, %v", s.n, i+1, got, err)
			return
		}
		again.held = append(again.held, l)
	}
}
