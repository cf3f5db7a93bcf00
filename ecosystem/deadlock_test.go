package ecosystem_test

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sasha-s/go-deadlock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/validate/conform"
)

// countDeadlockReports makes go-deadlock count its reports (and print
// nothing) instead of exiting the process, for the rest of the test.
func countDeadlockReports(t *testing.T) *atomic.Int64 {
	var reports atomic.Int64
	saved := deadlock.Opts.OnPotentialDeadlock
	savedLog := deadlock.Opts.LogBuf
	deadlock.Opts.OnPotentialDeadlock = func() { reports.Add(1) }
	deadlock.Opts.LogBuf = io.Discard
	t.Cleanup(func() {
		deadlock.Opts.OnPotentialDeadlock = saved
		deadlock.Opts.LogBuf = savedLog
	})
	return &reports
}

// go-deadlock's Mutex and RWMutex note the goroutine that holds them; the
// proxy takes them on the caller's goroutine, so that go-deadlock sees no
// recursive locking where there is none (issue 24: 18 reports for 20 Do
// calls, 101 to 150 per conform.Lock run, then os.Exit(2)).
func TestGoDeadlockMutexesSeeTheirHolder(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() any
	}{
		{"Mutex", func() any { return &deadlock.Mutex{} }},
		{"RWMutex", func() any { return &deadlock.RWMutex{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reports := countDeadlockReports(t)
			conform.Lock(t, tc.make)
			assert.Zero(t, reports.Load(), "go-deadlock reports under conform.Lock")

			c, err := mixin.Compose(tc.make(), mixin.Require(mixin.KindLock))
			require.NoError(t, err)
			lock, _ := c.Lock()
			var wg sync.WaitGroup
			var held, inside atomic.Int32
			for range 20 {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					assert.NoError(t, lock.Do(ctx, func(context.Context) error {
						if inside.Add(1) > 1 {
							t.Error("two holders at once")
						}
						time.Sleep(time.Millisecond)
						inside.Add(-1)
						held.Add(1)
						return nil
					}))
				})
			}
			wg.Wait()
			assert.Equal(t, int32(20), held.Load())
			assert.Zero(t, reports.Load(), "go-deadlock reports under 20 concurrent Do with deadlines")
		})
	}
}
