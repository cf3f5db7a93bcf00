package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// service records the order of its hooks.
type service struct {
	mu  sync.Mutex
	log []string
}

func (s *service) add(e string) { s.mu.Lock(); s.log = append(s.log, e); s.mu.Unlock() }
func (s *service) Setup(context.Context) error {
	s.add("setup")
	return nil
}
func (s *service) Cleanup() { s.add("cleanup") }

func TestGroupSetupTasksCleanupOrder(t *testing.T) {
	s := &service{}
	g, err := adapters.NewGroup(s)
	require.NoError(t, err)
	require.NoError(t, g.Enter(context.Background()))
	started := make(chan struct{})
	g.Go(func(ctx context.Context) error {
		s.add("task")
		close(started)
		<-ctx.Done()
		s.add("task cancelled")
		return ctx.Err()
	})
	<-started
	require.NoError(t, g.Exit(context.Background(), nil), "the cancellation Exit caused is left out")
	assert.Equal(t, []string{"setup", "task", "cleanup", "task cancelled"}, s.log)
	assert.Zero(t, g.RunningTasks())
}

func TestGroupExitCancelsAThousandTasksAndWaitsForAll(t *testing.T) {
	g, err := adapters.NewGroup(nil)
	require.NoError(t, err)
	require.NoError(t, g.Enter(context.Background()))
	var returned atomic.Int32
	var started sync.WaitGroup
	for range 1000 {
		started.Add(1)
		g.Go(func(ctx context.Context) error {
			started.Done()
			<-ctx.Done()
			time.Sleep(time.Microsecond)
			returned.Add(1)
			return ctx.Err()
		})
	}
	started.Wait()
	assert.Equal(t, 1000, g.RunningTasks())
	require.NoError(t, g.Exit(context.Background(), nil))
	assert.Equal(t, int32(1000), returned.Load(), "every task had returned when Exit returned")
	assert.Zero(t, g.RunningTasks())
	goleak.VerifyNone(t)
}

func TestGroupErrorsJoinedMinusExitsCancellations(t *testing.T) {
	e1, e2 := errors.New("one"), errors.New("two")
	g, err := adapters.NewGroup(nil, adapters.ContinueOnError())
	require.NoError(t, err)
	require.NoError(t, g.Enter(context.Background()))
	g.Go(func(context.Context) error { return e1 })
	g.Go(func(context.Context) error { return e2 })
	g.Go(func(context.Context) error { return nil })
	blocked := make(chan struct{})
	g.Go(func(ctx context.Context) error { close(blocked); <-ctx.Done(); return ctx.Err() })
	<-blocked
	require.Eventually(t, func() bool { return g.RunningTasks() == 1 }, time.Second, time.Millisecond)
	body := errors.New("body")
	err = g.Exit(context.Background(), body)
	assert.ErrorIs(t, err, e1)
	assert.ErrorIs(t, err, e2)
	assert.ErrorIs(t, err, body)
	assert.NotErrorIs(t, err, context.Canceled, "Exit's own cancellation is left out")
}

func TestGroupFirstFailureCancelsSiblings(t *testing.T) {
	boom := errors.New("boom")
	g, err := adapters.NewGroup(nil)
	require.NoError(t, err)
	var sawCancel atomic.Bool
	g.Go(func(ctx context.Context) error {
		<-ctx.Done()
		sawCancel.Store(true)
		return ctx.Err()
	})
	g.Go(func(context.Context) error { return boom })
	err = g.Wait(context.Background())
	assert.True(t, sawCancel.Load())
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, context.Canceled, "the sibling's cancellation is the failure's doing")
}

func TestGroupPanickingTaskIsReraisedInTheCaller(t *testing.T) {
	g, err := adapters.NewGroup(nil)
	require.NoError(t, err)
	var other atomic.Bool
	g.Go(func(ctx context.Context) error { <-ctx.Done(); other.Store(true); return nil })
	g.Go(func(context.Context) error { panic("task broke") })
	defer func() {
		r := recover()
		var pe *adapters.PanicError
		require.ErrorAs(t, r.(error), &pe)
		assert.Equal(t, "task broke", pe.Value)
		assert.Contains(t, string(pe.Stack), "group_test.go")
		assert.True(t, other.Load(), "re-raised after the other tasks returned")
	}()
	_ = g.Exit(context.Background(), nil)
	t.Fatal("Exit did not re-raise")
}

func TestGroupExitCtxEndsWithAStubbornTask(t *testing.T) {
	g, err := adapters.NewGroup(nil)
	require.NoError(t, err)
	release := make(chan struct{})
	g.Go(func(context.Context) error { <-release; return nil }) // ignores its ctx
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = g.Exit(ctx, nil)
	assert.ErrorIs(t, err, adapters.ErrStillRunning)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "1 still running")
	close(release)
	require.NoError(t, g.Wait(context.Background()))
}

func TestGroupTasksHaveTheirOwnTaskIdentity(t *testing.T) {
	var g adapters.Group // the zero Group is ready
	var mu sync.Mutex
	seen := map[adapters.Task]bool{}
	for range 20 {
		g.Go(func(ctx context.Context) error {
			task, ok := adapters.TaskOf(ctx)
			if !ok {
				return errors.New("no task")
			}
			mu.Lock()
			seen[task] = true
			mu.Unlock()
			return nil
		})
	}
	require.NoError(t, g.Wait(context.Background()))
	assert.Len(t, seen, 20)
	assert.IsType(t, adapters.GoExecutor{}, g.Loop())
}

func TestGroupOnABoundedPool(t *testing.T) {
	p := adapters.NewPool(adapters.WithSize(2))
	defer p.Close()
	g, err := adapters.NewGroup(nil, adapters.WithExecutor(p))
	require.NoError(t, err)
	var cur, peak atomic.Int32
	for range 20 {
		g.Go(func(context.Context) error {
			raise32(&peak, cur.Add(1))
			time.Sleep(time.Millisecond)
			cur.Add(-1)
			return nil
		})
	}
	require.NoError(t, g.Wait(context.Background()))
	assert.LessOrEqual(t, peak.Load(), int32(2))
	assert.Same(t, p, g.Loop())
}

type failingSetup struct{}

func (failingSetup) Setup() error { return errors.New("setup failed") }

type badHooks struct{}

func (badHooks) Setup(int) {}

func TestGroupSetupFailureAndRefusal(t *testing.T) {
	g, err := adapters.NewGroup(failingSetup{})
	require.NoError(t, err)
	assert.EqualError(t, g.Enter(context.Background()), "setup failed")
	_, err = adapters.NewGroup(badHooks{})
	require.ErrorIs(t, err, validate.ErrAbstract)
	assert.Contains(t, err.Error(), "Setup has signature func(int), want func(context.Context) error")
	var nilG *adapters.Group
	assert.ErrorIs(t, nilG.Exit(context.Background(), nil), adapters.ErrUnusable)
	assert.NotPanics(t, func() { nilG.Go(func(context.Context) error { return nil }) })
}

func ExampleGroup() {
	g, _ := adapters.NewGroup(nil)
	_ = g.Enter(context.Background())
	results := make([]int, 3)
	for i := range results {
		g.Go(func(ctx context.Context) error {
			results[i] = i * i
			return nil
		})
	}
	g.Go(func(ctx context.Context) error {
		<-ctx.Done() // runs until Exit cancels it
		return ctx.Err()
	})
	time.Sleep(10 * time.Millisecond)
	fmt.Println(g.Exit(context.Background(), nil), results)
	// Output:
	// <nil> [0 1 4]
}
