package conform

import (
	"context"
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
	done := make(chan R, 1)
	go func() { done <- fn() }()
	var deadline <-chan time.Time
	if ctx.Done() == nil {
		timer := time.NewTimer(c.timeout)
		defer timer.Stop()
		deadline = timer.C
	} else {
		select {
		case r := <-done:
			return r, true
		case <-ctx.Done():
		}
		timer := time.NewTimer(c.timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	select {
	case r := <-done:
		return r, true
	case <-deadline:
	}
	if ctx.Done() == nil {
		t.Errorf("%s did not return within %v", what, c.timeout)
	} else {
		t.Errorf("%s did not return within %v of its ctx ending: it ignores its ctx", what, c.timeout)
	}
	go func() {
		r := <-done
		if undo != nil {
			undo(r)
		}
	}()
	var zero R
	return zero, false
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
