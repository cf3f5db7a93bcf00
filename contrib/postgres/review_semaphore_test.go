package postgres_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

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
