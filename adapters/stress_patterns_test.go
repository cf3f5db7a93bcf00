package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
)

// The concurrent patterns the first stress suite did not drive (issue 16):
// Go and Submit during Wait and Exit, bodies that outlive their ctx over a
// ctx-honouring lock, Set during WaitForValue, late Awaits of a finished
// process, and a hot OwnerMutex holder beside a waiter.

func TestStressGoDuringWaitAndExit(t *testing.T) {
	d := stressFor(t)
	var st stats
	deadline := time.Now().Add(d)
	var afterExit atomic.Int64
	for round := 0; time.Now().Before(deadline); round++ {
		var opts []adapters.GroupOption
		pool := adapters.NewPool(adapters.WithSize(8))
		if round%2 == 1 {
			opts = append(opts, adapters.WithExecutor(pool))
		}
		g, err := adapters.NewGroup(nil, opts...)
		require.NoError(t, err)
		var exited atomic.Bool
		var live atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					st.ops.Add(1)
					switch r.IntN(4) {
					case 0: // a waiter that may give up
						ctx, cancel := randomCtx(r)
						func() {
							defer func() {
								if v := recover(); v != nil {
									var pe *adapters.PanicError
									if !errors.As(v.(error), &pe) {
										panic(v)
									}
								}
							}()
							if errors.Is(g.Wait(ctx), adapters.ErrStillRunning) {
								st.cancels.Add(1)
							}
						}()
						cancel()
					case 1: // the pool's own Submit and Wait, side by side
						_ = pool.Submit(context.Background(), func() {})
						ctx, cancel := randomCtx(r)
						_ = pool.Wait(ctx)
						cancel()
					default:
						kind := r.IntN(20)
						g.Go(func(ctx context.Context) error {
							if exited.Load() {
								afterExit.Add(1)
							}
							live.Add(1)
							defer live.Add(-1)
							switch kind {
							case 0:
								st.panics.Add(1)
								panic("task broke")
							case 1:
								st.errs.Add(1)
								return errInjected
							case 2:
								<-ctx.Done()
								return ctx.Err()
							}
							return nil
						})
					}
				}
			}()
		}
		time.Sleep(time.Duration(1+round%5) * time.Millisecond)
		func() {
			defer func() {
				if v := recover(); v != nil {
					var pe *adapters.PanicError
					require.ErrorAs(t, v.(error), &pe)
				}
			}()
			_ = g.Exit(context.Background(), nil)
		}()
		assert.Zero(t, live.Load(), "a task outlived Exit")
		exited.Store(true)
		time.Sleep(100 * time.Microsecond) // Go calls after Exit start nothing
		close(stop)
		wg.Wait()
		pool.Close()
		require.NoError(t, pool.Wait(context.Background()))
	}
	assert.Zero(t, afterExit.Load(), "Go after Exit started a task")
	goleak.VerifyNone(t)
	st.log(t, "group/Go during Wait and Exit", d)
}

// etcdLike is a lock whose Acquire and Release honour their ctx, as etcd's
// Lock and Unlock do: a Release with an ended ctx fails and the lock stays
// held. holders counts who is inside, to catch two at once.
type etcdLike struct {
	sem     chan struct{}
	holders atomic.Int32
	worst   atomic.Int32
}

func (l *etcdLike) Acquire(ctx context.Context) (bool, error) {
	select {
	case l.sem <- struct{}{}:
		raise32(&l.worst, l.holders.Add(1))
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (l *etcdLike) Release(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.holders.Add(-1)
	<-l.sem
	return nil
}

func (l *etcdLike) Locked() bool { return len(l.sem) > 0 }

func TestStressBodiesOutliveTheirCtx(t *testing.T) {
	d := stressFor(t)
	var st stats
	v := &etcdLike{sem: make(chan struct{}, 1)}
	l, err := adapters.NewLock(v)
	require.NoError(t, err)
	run(t, 16, d, func(r *rand.Rand) {
		ctx, cancel := endingCtx(r)
		defer cancel()
		st.ops.Add(1)
		func() {
			defer recoverInjected("body broke")
			err := l.Do(ctx, func(ctx context.Context) error {
				switch r.IntN(4) {
				case 0: // outlives its ctx
					<-ctx.Done()
					return ctx.Err()
				case 1:
					st.panics.Add(1)
					<-ctx.Done()
					panic("body broke")
				}
				return nil
			})
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				st.cancels.Add(1)
			}
		}()
	})
	assert.Equal(t, int32(1), v.worst.Load(), "never two holders")
	assert.False(t, v.Locked(), "a release with an ended ctx left the lock held")
	goleak.VerifyNone(t)
	st.log(t, "lock/bodies outlive their ctx", d)
}

func TestStressSetDuringWaitForValue(t *testing.T) {
	d := stressFor(t)
	var st stats
	deadline := time.Now().Add(d)
	var lost atomic.Int64
	for round := 0; time.Now().Before(deadline); round++ {
		e := adapters.NewValueEvent[int]()
		var ev *adapters.Event[any] // half the rounds through the Composer's T
		evInt, err := adapters.NewEvent[int](e)
		require.NoError(t, err)
		if round%2 == 1 {
			ev, err = adapters.NewEvent[any](e)
			require.NoError(t, err)
		}
		const target = -1
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				st.ops.Add(1)
				var err error
				if ev != nil {
					err = ev.WaitForValue(ctx, target)
				} else {
					err = evInt.WaitForValue(ctx, target)
				}
				if err != nil {
					lost.Add(1)
					t.Errorf("waiter %d of round %d: %v", w, round, err)
				}
			}()
		}
		r := rand.New(rand.NewPCG(uint64(round), 3))
		for range r.IntN(200) {
			e.Set(r.IntN(10))
			st.ops.Add(1)
		}
		e.Set(target) // held from now on: every waiter must see it
		wg.Wait()
	}
	assert.Zero(t, lost.Load(), "a waiter missed the Set of its value")
	goleak.VerifyNone(t)
	st.log(t, "event/Set during WaitForValue", d)
}

func TestStressLateAwaitsOfAFinishedProcess(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine")
	}
	d := stressFor(t)
	var st stats
	deadline := time.Now().Add(d)
	for round := 0; time.Now().Before(deadline); round++ {
		code := round % 7
		cmd := exec.Command(sh, "-c", fmt.Sprintf("exit %d", code))
		require.NoError(t, cmd.Start())
		a, err := adapters.NewAwaitable[any](cmd)
		require.NoError(t, err)
		run(t, 8, 5*time.Millisecond, func(r *rand.Rand) {
			ctx, cancel := randomCtx(r)
			defer cancel()
			st.ops.Add(1)
			_, err := a.Await(ctx)
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				st.cancels.Add(1)
				return
			}
			checkExit(t, err, code)
		})
		_, err = a.Await(context.Background()) // late: after every other
		checkExit(t, err, code)
	}
	goleak.VerifyNone(t)
	st.log(t, "awaitable/late Awaits of exec.Cmd", d)
}

func checkExit(t *testing.T, err error, code int) {
	t.Helper()
	if code == 0 {
		assert.NoError(t, err)
		return
	}
	var exit *exec.ExitError
	if assert.ErrorAs(t, err, &exit, "a late Await got something other than the process's result") {
		assert.Equal(t, code, exit.ExitCode())
	}
}

func TestStressHotOwnerMutexHolder(t *testing.T) {
	d := stressFor(t)
	var st stats
	l, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
	require.NoError(t, err)
	var holds atomic.Int64
	var inside, worstInside atomic.Int32
	var stops []func()
	for range 2 { // two hot tasks
		hot := adapters.WithTask(context.Background())
		stops = append(stops, repeat(func() {
			st.ops.Add(1)
			_ = l.Do(hot, func(context.Context) error {
				raise32(&worstInside, inside.Add(1))
				defer inside.Add(-1)
				holds.Add(1)
				time.Sleep(time.Millisecond)
				return nil
			})
		}))
	}
	var worstWait time.Duration
	var worstHolds, waits int64
	deadline := time.Now().Add(d)
	r := rand.New(rand.NewPCG(5, 5))
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(adapters.WithTask(context.Background()), 10*time.Second)
		before, start := holds.Load(), time.Now()
		err := l.Do(ctx, func(context.Context) error {
			raise32(&worstInside, inside.Add(1))
			defer inside.Add(-1)
			return nil
		})
		worstWait, worstHolds = max(worstWait, time.Since(start)), max(worstHolds, holds.Load()-before)
		cancel()
		require.NoError(t, err, "the waiter was starved past 10s")
		waits++
		time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
	}
	for _, stop := range stops {
		stop()
	}
	assert.Equal(t, int32(1), worstInside.Load(), "never two holders")
	assert.False(t, l.Locked())
	goleak.VerifyNone(t)
	t.Logf("owner-lock/hot holders: %d waits beside two hot tasks, worst wait %v, worst %d holds by the hot tasks during one wait",
		waits, worstWait, worstHolds)
	st.log(t, "owner-lock/hot holders", d)
}
