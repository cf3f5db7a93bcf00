package postgres_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/disttest"
	"github.com/gomixin/mixin/contrib/postgres"
)

// TestReviewNewSemaphoreHugePermitsDoesNotPanic (FIXED: more than
// MaxPermits is an error. Was: NewSemaphore
// makes a slice of permits slot keys up front, so math.MaxInt permits
// panics with "makeslice: len out of range", and a large count such as
// 1<<30 allocates gigabytes): a constructor given bad input returns an
// error, or a usable semaphore, and does not panic.
func TestReviewNewSemaphoreHugePermitsDoesNotPanic(t *testing.T) {
	srv.Need(t)
	p := newPool(t, srv.Addr)
	var s *postgres.Semaphore
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panicked: %v", r)
				t.Errorf("NewSemaphore(..., math.MaxInt) panicked: %v", r)
			}
		}()
		s, err = postgres.NewSemaphore(p, disttest.Unique(t), math.MaxInt)
	}()
	if err != nil || s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := s.Acquire(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.Release(ctx))
}

// TestReviewNeverTooManyHolders: semaphores of 1 and 2 permits, ten
// handles on pools of their own acquiring with random deadlines (cut off
// before, during and after their statements) and releasing at once: never
// more holders than permits at once by the handles' own word.
func TestReviewNeverTooManyHolders(t *testing.T) {
	srv.Need(t)
	for _, permits := range []int{1, 2} {
		name := disttest.Unique(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		var in, most, holds atomic.Int64
		var wg sync.WaitGroup
		for range 10 {
			s, err := postgres.NewSemaphore(newPool(t, srv.Addr), name, permits, postgres.WithLease(2*time.Second))
			require.NoError(t, err)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					actx, acancel := context.WithTimeout(ctx, time.Duration(rand.IntN(60))*time.Millisecond)
					ok, _ := s.Acquire(actx)
					acancel()
					if !ok {
						continue
					}
					n := in.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					holds.Add(1)
					time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
					in.Add(-1)
					rctx, rcancel := context.WithTimeout(context.Background(), 3*time.Second)
					_ = s.Release(rctx)
					rcancel()
				}
			}()
		}
		wg.Wait()
		cancel()
		t.Logf("permits %d: %d holds, at most %d at once", permits, holds.Load(), most.Load())
		assert.LessOrEqual(t, most.Load(), int64(permits), "more holders than permits")
		assert.Positive(t, holds.Load())
	}
}
