package adapters_test

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// goid returns the calling goroutine's id, from its stack header.
func goid() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(buf[:bytes.IndexByte(buf, ' ')]), 10, 64)
	return id
}

// holderMutex is a sync.Mutex that, as go-deadlock's does, notes which
// goroutine locked it, and counts the locks taken on a goroutine other than
// the caller's (of Do) and the unlocks made by another goroutine than the
// one that locked.
type holderMutex struct {
	mu      sync.Mutex
	holder  atomic.Uint64
	crossed atomic.Int64
}

func (m *holderMutex) Lock()   { m.mu.Lock(); m.holder.Store(goid()) }
func (m *holderMutex) Unlock() { m.check(); m.mu.Unlock() }
func (m *holderMutex) TryLock() bool {
	if !m.mu.TryLock() {
		return false
	}
	m.holder.Store(goid())
	return true
}

func (m *holderMutex) check() {
	if m.holder.Swap(0) != goid() {
		m.crossed.Add(1)
	}
}

// TestLockerIsLockedOnTheCallersGoroutine: a sync.Locker with TryLock is
// locked and unlocked on the goroutine of the caller of Do, also when it
// waits with a ctx that can end under contention (issue 24: go-deadlock
// reported "Recursive locking" when a helper goroutine took it).
func TestLockerIsLockedOnTheCallersGoroutine(t *testing.T) {
	m := &holderMutex{}
	l, err := adapters.NewLock(m)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var done atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				me := goid()
				err := l.Do(ctx, func(context.Context) error {
					if m.holder.Load() != me {
						m.crossed.Add(1)
					}
					time.Sleep(10 * time.Microsecond)
					return nil
				})
				cancel()
				if assert.NoError(t, err) {
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(400), done.Load())
	assert.Zero(t, m.crossed.Load(), "locks or unlocks made on another goroutine than the caller's")
	assert.False(t, l.Locked())
}

// TestLockerWaitersTakeTurns: callers waiting with a ctx that can end take
// the lock in arrival order, and one that gives up leaves the lock to the
// next.
func TestLockerWaitersTakeTurns(t *testing.T) {
	l, err := adapters.NewLock(&sync.Mutex{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ok, err := l.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)

	var order []int
	var omu sync.Mutex
	var wg sync.WaitGroup
	gaveUp, giveUp := context.WithCancel(ctx)
	start := func(i int, ctx context.Context) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Do(ctx, func(context.Context) error {
				omu.Lock()
				order = append(order, i)
				omu.Unlock()
				return nil
			}); err != nil {
				assert.ErrorIs(t, err, context.Canceled)
			}
		}()
		time.Sleep(50 * time.Millisecond) // queued before the next
	}
	start(0, gaveUp)
	for i := 1; i <= 3; i++ {
		start(i, ctx)
	}
	giveUp()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, l.Release(ctx))
	wg.Wait()
	assert.Equal(t, []int{1, 2, 3}, order)
	assert.False(t, l.Locked())
}

// readerLock is a shared lock without TryLock (as an RWMutex's RLocker) that,
// as go-deadlock's does, notes the goroutines holding it and counts a lock
// taken by a goroutine that already holds it: recursive locking.
type readerLock struct {
	rw        sync.RWMutex
	mu        sync.Mutex
	holders   map[uint64]int
	recursive atomic.Int64
}

func (r *readerLock) Lock() {
	me := goid()
	r.mu.Lock()
	if r.holders[me] > 0 {
		r.recursive.Add(1)
	}
	r.mu.Unlock()
	r.rw.RLock()
	r.mu.Lock()
	r.holders[me]++
	r.mu.Unlock()
}

func (r *readerLock) Unlock() {
	me := goid()
	r.mu.Lock()
	if r.holders[me] == 0 { // not a holder: any holder's entry goes, as go-deadlock does
		me = 0
	}
	for g := range r.holders {
		if me == 0 || g == me {
			if r.holders[g]--; r.holders[g] == 0 {
				delete(r.holders, g)
			}
			break
		}
	}
	r.mu.Unlock()
	r.rw.RUnlock()
}

// A locker without TryLock, acquired for callers whose ctx can end, is
// taken by a goroutine of the proxy's; never twice by the same one while
// held, which a goroutine-tracking locker would report as recursive.
func TestLockerWithoutTryLockIsNeverTakenTwiceByOneGoroutine(t *testing.T) {
	r := &readerLock{holders: map[uint64]int{}}
	l, err := adapters.NewLock(r)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			assert.NoError(t, l.Do(ctx, func(context.Context) error {
				time.Sleep(2 * time.Millisecond)
				return nil
			}))
		}()
	}
	wg.Wait()
	assert.Zero(t, r.recursive.Load(), "one goroutine took the lock twice while holding it")
	assert.False(t, l.Locked())
}
