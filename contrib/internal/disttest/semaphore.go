package disttest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/validate/conform"
)

// The semaphore tests run when the engine has a semaphore (NewSemaphore):
// each skips otherwise.

func needSemaphore(t *testing.T, e Engine) {
	t.Helper()
	if e.NewSemaphore == nil {
		t.Skip("this engine has no semaphore")
	}
}

// semaphoreConforms: conform's semaphore properties over handles on one
// semaphore, a client each, for one and three permits.
func semaphoreConforms(t *testing.T, e Engine) {
	needSemaphore(t, e)
	for _, n := range []int{1, 3} {
		name := Unique(t)
		conform.Semaphore(t, func() any { return e.NewSemaphore(t, e.Addr, name, n, 0, 0) }, n,
			conform.Handles(), conform.WithWaiters(8), conform.WithSettle(200*time.Millisecond))
	}
}

// semaphoreComposes: the Composer takes a semaphore's handle as a lock and
// an owner lock, with no adapter.
func semaphoreComposes(t *testing.T, e Engine) {
	needSemaphore(t, e)
	c, err := mixin.Compose(e.NewSemaphore(t, e.Addr, Unique(t), 2, 0, 0))
	require.NoError(t, err)
	assert.True(t, c.Has(mixin.KindLock), "kinds: %v", c.Kinds())
	assert.True(t, c.Has(mixin.KindOwnerLock), "kinds: %v", c.Kinds())
}

// semaphoreTokens: every hold of a permit gets a fencing token of its own,
// larger than every token handed out before it was taken, whichever permit
// it is; holders at once have different tokens.
func semaphoreTokens(t *testing.T, e Engine) {
	needSemaphore(t, e)
	name := Unique(t)
	const permits = 3
	ctx := context.Background()
	hs := make([]Lock, permits)
	for i := range hs {
		hs[i] = e.NewSemaphore(t, e.Addr, name, permits, 0, 0)
	}
	var last int64
	seen := map[int64]bool{}
	for round := range 3 {
		var before int64 = last
		for i, h := range hs {
			ok, err := h.Acquire(ctx)
			require.NoError(t, err)
			require.True(t, ok)
			tok, held := h.Token()
			require.True(t, held)
			assert.Greater(t, tok, before, "round %d, holder %d: larger than every earlier token", round, i)
			assert.False(t, seen[tok], "round %d, holder %d: token %d handed out twice", round, i, tok)
			seen[tok] = true
			last = max(last, tok)
		}
		for _, h := range hs {
			require.NoError(t, h.Release(ctx))
		}
	}
}

// semaphoreHolders: 16 handles, a client each, take a semaphore of 3
// permits in turns; the holds that overlapped, counted by the holders, never
// exceed 3, and every handle gets its turns.
func semaphoreHolders(t *testing.T, e Engine) {
	needSemaphore(t, e)
	name := Unique(t)
	const permits, handles, rounds = 3, 16, 5
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	inside, worst := 0, 0
	var wg sync.WaitGroup
	errs := make(chan error, handles*rounds)
	for range handles {
		h := e.NewSemaphore(t, e.Addr, name, permits, 0, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				ok, err := h.Acquire(ctx)
				if err != nil || !ok {
					errs <- err
					return
				}
				mu.Lock()
				inside++
				worst = max(worst, inside)
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
				mu.Lock()
				inside--
				mu.Unlock()
				errs <- h.Release(ctx)
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, handles*rounds, n, "every hold made and given back")
	assert.LessOrEqual(t, worst, permits, "holders at once")
}
