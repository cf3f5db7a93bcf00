package conform_test

import (
	"context"
	"testing"
	"time"

	"github.com/gomixin/mixin/validate/conform"
)

// reviewDeafLock ignores its ctx in Acquire (blocks until the lock is free), and
// its Release frees the lock, then panics.
type reviewDeafLock struct{ sem chan struct{} }

func (l *reviewDeafLock) Acquire(context.Context) (bool, error) {
	l.sem <- struct{}{}
	return true, nil
}
func (l *reviewDeafLock) Release(context.Context) error {
	select {
	case <-l.sem:
	default:
	}
	panic("Release broke")
}
func (l *reviewDeafLock) Locked() bool { return len(l.sem) == 1 }

// conform.Lock over a lock whose Acquire ignores its ctx and whose Release
// panics: an Acquire the suite gave up on returns later, and the suite's
// undo (within's goroutine in bound.go) releases it on a goroutine of its
// own, unguarded: the Release's panic ends the test binary.
func TestReviewLockSuiteDeafAcquirePanickingRelease(t *testing.T) {
	r := &recorder{TB: t}
	var passed bool
	returnsWithin(t, 30*time.Second, "the suite", func() {
		passed = conform.Lock(r, func() any { return &reviewDeafLock{sem: make(chan struct{}, 1)} },
			conform.WithTimeout(50*time.Millisecond), conform.WithWaiters(2))
	})
	if passed {
		t.Errorf("a broken lock passed the suite")
	}
	time.Sleep(200 * time.Millisecond) // let late Acquires return and be undone
}
