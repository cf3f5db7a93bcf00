package disttest

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/contrib/internal/serverproc"
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

// semaphoreHoldersUnderFaults: semaphores of 1 and 2 permits, ten handles
// on clients of their own, half of them behind a proxy that now delays the
// traffic to the server (up to 300 ms), now cuts every connection for 50
// ms, acquiring with random deadlines (0 to 150 ms: cut off before, during
// and after their requests) and releasing at once, for 2.5 s: never more
// holders than permits at once, by the handles' own word (from Acquire's
// return to the call of Release), and some holds made. (It was three
// engines' own review tests.)
func semaphoreHoldersUnderFaults(t *testing.T, e Engine) {
	needSemaphore(t, e)
	for _, permits := range []int{1, 2} {
		name := Unique(t)
		p, err := serverproc.NewProxy(e.Addr)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		var in, most, holds atomic.Int64
		var wg sync.WaitGroup
		for i := range 10 {
			at := e.Addr
			if i%2 == 1 {
				at = p.Addr()
			}
			s := e.NewSemaphore(t, at, name, permits, 2*time.Second, 500*time.Millisecond)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					actx, acancel := context.WithTimeout(ctx, time.Duration(rand.IntN(150))*time.Millisecond)
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
					rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
					_ = s.Release(rctx)
					rcancel()
				}
			}()
		}
		wg.Add(1)
		go func() { // the proxied clients' network misbehaves
			defer wg.Done()
			for ctx.Err() == nil {
				time.Sleep(300 * time.Millisecond)
				switch rand.IntN(3) {
				case 0:
					p.Delay(serverproc.ToServer, time.Duration(rand.IntN(300))*time.Millisecond)
				case 1:
					p.Cut()
					time.Sleep(50 * time.Millisecond)
					p.Resume()
				case 2:
					p.Delay(serverproc.ToServer, 0)
				}
			}
		}()
		wg.Wait()
		cancel()
		p.Delay(serverproc.ToServer, 0)
		p.Resume()
		_ = p.Close()
		t.Logf("permits %d: %d holds, at most %d at once", permits, holds.Load(), most.Load())
		assert.LessOrEqual(t, most.Load(), int64(permits), "more holders than permits")
		assert.Positive(t, holds.Load())
	}
}
