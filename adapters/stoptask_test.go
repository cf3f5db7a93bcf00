package adapters_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// Task is a pool library's own task type, as alitto/pond's is.
type Task interface {
	Done() <-chan struct{}
	Wait() error
}

type drainTask struct {
	done chan struct{}
	err  error
}

func (t *drainTask) Done() <-chan struct{} { return t.done }
func (t *drainTask) Wait() error           { <-t.done; return t.err }

// taskPool is shaped like pond's Pool: Stop stops taking work and returns a
// task that completes when what was queued has drained.
type taskPool struct {
	mu      sync.Mutex
	stopped bool
	drained *drainTask
}

func newTaskPool() *taskPool { return &taskPool{drained: &drainTask{done: make(chan struct{})}} }

func (p *taskPool) Stop() Task {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	return p.drained
}

// waitPool's Stop returns a value with only Wait() error.
type waitPool struct{ wg sync.WaitGroup }

type waiter struct{ wg *sync.WaitGroup }

func (w waiter) Wait() error { w.wg.Wait(); return errors.New("drained with an error") }

func (p *waitPool) Stop() waiter { return waiter{&p.wg} }

// badStop returns nothing to await.
type badStop struct{}

func (badStop) Stop() int { return 0 }

// A stopper whose Stop returns something to await (pond's Stop() pond.Task)
// is a graceful context: Exit stops it and awaits what Stop returned,
// bounded by Exit's ctx (issue 24, item 2).
func TestStopperThatReturnsATask(t *testing.T) {
	ctx := context.Background()

	t.Run("done and wait", func(t *testing.T) {
		p := newTaskPool()
		c, err := adapters.NewContext[any](p)
		require.NoError(t, err)
		p.drained.err = errors.New("a task failed")
		go func() { time.Sleep(10 * time.Millisecond); close(p.drained.done) }()
		err = c.Do(ctx, func(context.Context, any) error { return nil })
		assert.True(t, p.stopped)
		assert.EqualError(t, err, "a task failed", "Exit returns the drained task's outcome")
	})

	t.Run("bounded by Exit's ctx", func(t *testing.T) {
		p := newTaskPool()
		c, err := adapters.NewContext[any](p)
		require.NoError(t, err)
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = c.Exit(short, nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, "Exit's ctx ended before the stop completed")
		assert.Less(t, time.Since(start), time.Second)
		close(p.drained.done)
	})

	t.Run("wait only", func(t *testing.T) {
		p := &waitPool{}
		p.wg.Add(1)
		c, err := adapters.NewContext[any](p)
		require.NoError(t, err)
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, c.Exit(short, nil), context.DeadlineExceeded)
		p.wg.Done()
		assert.EqualError(t, c.Exit(ctx, nil), "drained with an error")
	})

	t.Run("nothing to await is refused", func(t *testing.T) {
		_, err := adapters.NewContext[any](badStop{})
		require.ErrorIs(t, err, validate.ErrAbstract)
		assert.ErrorContains(t, err, "Stop has signature func() int, want func() or one of func() bool | func() interface { Done() <-chan struct {} } | func() interface { Wait() error }")
		var ae *validate.AbstractError
		require.ErrorAs(t, err, &ae)
		assert.Contains(t, ae.Problems[0].Want, "func() interface { Done() <-chan struct {} }")
		assert.Contains(t, ae.Problems[0].Want, "func() interface { Wait() error }")
	})
}
