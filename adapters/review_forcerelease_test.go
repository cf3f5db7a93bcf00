package adapters_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// A Watchdog's ForceRelease "never releases a later hold". Storm: holders
// acquire a watched *sync.Mutex, each acquisition with a task of its own,
// and release unless their hold was force-released (checked in one step
// with the ForceRelease, under mu); a checker force-releases every hold it
// is told of. A hold released by its holder (Release returned nil) and
// then force-released (ForceRelease returned nil for a Hold naming that
// holder) was released twice: the force-release ended a later hold.
func TestReviewForceReleaseNeverReleasesALaterHold(t *testing.T) {
	w := adapters.NewWatchdog(0, nil)
	l, err := w.Watch(&sync.Mutex{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	releasedOK := map[adapters.Task]bool{}
	forcedOK := map[adapters.Task]bool{}
	stop := make(chan struct{})
	var checker sync.WaitGroup
	checker.Add(1)
	go func() {
		defer checker.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, h := range w.Check() {
				if !h.HasHolder {
					continue
				}
				mu.Lock()
				if h.ForceRelease(context.Background()) == nil {
					forcedOK[h.Holder] = true
				}
				mu.Unlock()
			}
		}
	}()
	var wg sync.WaitGroup
	deadline := time.Now().Add(stressFor(t)) // 2 s; 200 ms under -short
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				ctx := adapters.WithTask(context.Background())
				task, _ := adapters.TaskOf(ctx)
				actx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
				ok, _ := l.Acquire(actx)
				cancel()
				if !ok {
					continue
				}
				// A holder whose hold was force-released must not release
				// (see Hold.ForceRelease): the check and the Release are
				// one step with the checker's ForceRelease (mu).
				mu.Lock()
				if !forcedOK[task] && l.Release(ctx) == nil {
					releasedOK[task] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	checker.Wait()
	var twice int
	for task := range forcedOK {
		if releasedOK[task] {
			twice++
		}
	}
	if twice > 0 {
		t.Errorf("%d holds were released by their holder and force-released too (of %d forced, %d released)", twice, len(forcedOK), len(releasedOK))
	}
	for l.Locked() {
		_ = l.Release(context.Background())
	}
}
