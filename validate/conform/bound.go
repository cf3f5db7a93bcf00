package conform

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// within runs a blocking call of the implementation on a goroutine of its
// own and waits for it until ctx has ended and the grace (the suite's
// timeout) has passed too; for a ctx that cannot end, for the timeout alone.
// A call that is still blocked then fails the property ("Acquire did not
// return within 2s of its ctx ending") instead of hanging the suite; if it
// returns later, undo (when not nil) gives back what it got, so that the
// suite can unblock it by releasing what it holds and leave nothing behind.
func within[R any](t testing.TB, c *config, what string, ctx context.Context, fn func() R, undo func(R)) (R, bool) {
	t.Helper()
	type outcome struct {
		r        R
		returned bool
		panicked any
	}
	out := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if !o.returned {
				o.panicked = recover()
			}
			out <- o
		}()
		o.r = fn()
		o.returned = true
	}()
	// A panic in the implementation is raised again in the property's
	// goroutine, where the suite turns it into a failure; a Goexit ended
	// the call's goroutine, and fails the property here.
	deliver := func(o outcome) (R, bool) {
		switch {
		case o.returned:
			return o.r, true
		case o.panicked == nil:
			t.Errorf("%s called runtime.Goexit instead of returning", what)
			var zero R
			return zero, false
		}
		panic(o.panicked)
	}
	if ctx.Done() != nil {
		select {
		case o := <-out:
			return deliver(o)
		case <-ctx.Done():
		}
	}
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case o := <-out:
		return deliver(o)
	case <-timer.C:
	}
	if ctx.Done() == nil {
		t.Errorf("%s did not return within %v", what, c.timeout)
	} else {
		t.Errorf("%s did not return within %v of its ctx ending: it ignores its ctx", what, c.timeout)
	}
	go func() {
		// undo calls the implementation (a late Acquire's Release): a
		// panic there has no property left to fail, and must not end the
		// test binary.
		defer func() { _ = recover() }()
		if o := <-out; o.returned && undo != nil {
			undo(o.r)
		}
	}()
	var zero R
	return zero, false
}

// errPanicked is matched by the error safely returns for a panic.
var errPanicked = errors.New("the implementation panicked")

// safely calls fn on a goroutine the suite started, and returns a panic of
// the implementation as an error, for the property to report on its own
// goroutine: a panic there must fail the property, not end the test binary.
func safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errPanicked, r)
		}
	}()
	return fn()
}

// call runs a non-blocking call of the implementation (Locked, IsSet, Get,
// Set, Clear) within the suite's timeout: one that blocks fails the
// property, naming the call, instead of hanging the suite.
func call[R any](t testing.TB, c *config, what string, fn func() R) (R, bool) {
	t.Helper()
	return within(t, c, what, context.Background(), fn, nil)
}

// bounded runs a call that returns an error with a ctx of the suite's
// timeout, bounded as within bounds it.
func (c *config) bounded(t testing.TB, what string, fn func(ctx context.Context) error) (error, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	return within(t, c, what, ctx, func() error { return fn(ctx) }, nil)
}

// fold counts the outcomes of one property's many calls, so that a failure
// repeated by every contender is said once, with its count.
type fold struct {
	mu    sync.Mutex
	total int
	errs  map[string]int
}

func (f *fold) add(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total++
	if err == nil {
		return
	}
	if f.errs == nil {
		f.errs = map[string]int{}
	}
	f.errs[err.Error()]++
}

// report says each distinct failure once: "49 of 1000 Do calls failed:
// context deadline exceeded".
func (f *fold) report(t testing.TB, calls string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	msgs := make([]string, 0, len(f.errs))
	for m := range f.errs {
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool { return f.errs[msgs[i]] > f.errs[msgs[j]] })
	for _, m := range msgs {
		how := "failed"
		if strings.Contains(m, context.DeadlineExceeded.Error()) {
			how = "ended by their deadline"
		}
		t.Errorf("%d of %d %s %s: %s", f.errs[m], f.total, calls, how, m)
	}
}

// handles returns the factory properties use: in handles mode every call
// makes another handle to the one lock or event under test; otherwise one
// value is made and shared, as a lock shared by goroutines is used.
func handles[V any](c *config, mk func(testing.TB) V) func(testing.TB) V {
	if c.handles {
		return mk
	}
	var once sync.Once
	var v V
	return func(t testing.TB) V {
		t.Helper()
		once.Do(func() { v = mk(t) })
		return v
	}
}

// waitAll waits for the goroutines of wg until ctx has ended and the grace
// has passed; those still blocked then fail the property, and unblock (when
// not nil) is called, again and again until they return, to free them.
func waitAll(t testing.TB, c *config, wg *sync.WaitGroup, ctx context.Context, what string, unblock func()) bool {
	t.Helper()
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	select {
	case <-all:
		return true
	case <-ctx.Done():
	}
	select {
	case <-all:
		return true
	case <-time.After(c.timeout):
	}
	t.Errorf("%s did not return within %v of its ctx ending: it ignores its ctx", what, c.timeout)
	if unblock != nil {
		go func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-all:
					return
				case <-tick.C:
					unblock()
				}
			}
		}()
	}
	return false
}
