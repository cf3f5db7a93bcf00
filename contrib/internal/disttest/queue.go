package disttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

// queueSurvivesLeavers: waiters queue behind a holder; the first gives up
// (its ctx ends), the second's process dies (its connections go silent for
// good, as a crashed or frozen host's do: no reset reaches the server), and
// the third must still get the lock once the holder releases it, within
// the dead waiter's lease and its grace: neither stalls the queue. Run
// over a lock (permits 1) and, when the engine has one, a semaphore of
// two permits.
func queueSurvivesLeavers(t *testing.T, e Engine) {
	type maker struct {
		name    string
		permits int
		make    func(t testing.TB, addr, name string, lease time.Duration) Lock
	}
	makers := []maker{{"lock", 1, func(t testing.TB, addr, name string, lease time.Duration) Lock {
		return e.NewLock(t, addr, name, lease, 0)
	}}}
	if e.NewSemaphore != nil {
		makers = append(makers, maker{"semaphore-of-2", 2, func(t testing.TB, addr, name string, lease time.Duration) Lock {
			return e.NewSemaphore(t, addr, name, 2, lease, 0)
		}})
	}
	for _, m := range makers {
		t.Run(m.name, func(t *testing.T) {
			name := Unique(t)
			ctx := context.Background()
			var holders []Lock
			for range m.permits {
				h := m.make(t, e.Addr, name, 0)
				ok, err := h.Acquire(ctx)
				require.NoError(t, err)
				require.True(t, ok)
				holders = append(holders, h)
			}
			settle := 300 * time.Millisecond // each waiter reaches the server before the next starts

			// The waiter that gives up.
			quitter := m.make(t, e.Addr, name, 0)
			qctx, quit := context.WithCancel(ctx)
			quitted := make(chan error, 1)
			go func() {
				ok, err := quitter.Acquire(qctx)
				if ok {
					_ = quitter.Release(ctx)
				}
				quitted <- err
			}()
			time.Sleep(settle)

			// The waiter that dies: through a proxy that goes silent.
			p, err := serverproc.NewProxy(e.Addr)
			require.NoError(t, err)
			defer p.Close()
			dying := m.make(t, p.Addr(), name, e.Lease)
			dctx, bury := context.WithCancel(ctx)
			defer bury()
			died := make(chan bool, 1)
			go func() {
				ok, _ := dying.Acquire(dctx)
				died <- ok
			}()
			time.Sleep(settle)

			// The waiter that must get it.
			last := m.make(t, e.Addr, name, 0)
			limit := 5*(e.Lease+e.Grace) + 5*time.Second
			lctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			got := make(chan error, 1)
			go func() {
				ok, err := last.Acquire(lctx)
				if err == nil && !ok {
					err = context.Canceled
				}
				got <- err
			}()
			time.Sleep(settle)

			quit()
			select {
			case err := <-quitted:
				assert.ErrorIs(t, err, context.Canceled, "the waiter that gave up")
			case <-time.After(limit):
				t.Fatalf("the waiter that gave up did not return within %v of its ctx ending", limit)
			}
			p.Silence() // the dying waiter's host is gone
			require.NoError(t, holders[0].Release(ctx))

			select {
			case err := <-got:
				if assert.NoError(t, err, "the last waiter, behind one that gave up and one that died") {
					assert.NoError(t, last.Release(ctx))
				}
			case <-time.After(limit + time.Second):
				t.Errorf("the last waiter did not get the lock within %v of its release: a waiter that gave up or died stalls the queue", limit)
			}
			for _, h := range holders[1:] {
				assert.NoError(t, h.Release(ctx))
			}
			// Let the dead waiter's Acquire end: its connections are gone.
			bury()
			_ = p.Close()
			select {
			case ok := <-died:
				if ok {
					_ = dying.Release(ctx)
				}
			case <-time.After(limit):
				t.Errorf("the dead waiter's Acquire did not return within %v of its ctx ending", limit)
			}
		})
	}
}
