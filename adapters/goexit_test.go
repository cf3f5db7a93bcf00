package adapters_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// A runtime.Goexit in user code that a proxy runs on a goroutine of its own
// reaches the waiting caller as ErrGoexit, never as a success.

// exitingLocker's context-less Lock calls runtime.Goexit.
type exitingLocker struct{}

func (exitingLocker) Lock()   { runtime.Goexit() }
func (exitingLocker) Unlock() {}

func TestGoexitInAContextlessAcquire(t *testing.T) {
	l, err := adapters.NewLock(&exitingLocker{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background()) // can end: Lock runs on a goroutine
	defer cancel()
	ok, err := l.Acquire(ctx)
	assert.False(t, ok)
	assert.ErrorIs(t, err, adapters.ErrGoexit)
	assert.False(t, l.Locked(), "nothing was acquired")
}

// exitingContext counts Exits; its Enter or Exit calls runtime.Goexit on
// request.
type exitingContext struct {
	exitInEnter, exitInExit bool
	exits                   atomic.Int32
}

func (c *exitingContext) Enter(context.Context) (int, error) {
	if c.exitInEnter {
		runtime.Goexit()
	}
	return 1, nil
}

func (c *exitingContext) Exit(context.Context, error) (bool, error) {
	c.exits.Add(1)
	if c.exitInExit {
		runtime.Goexit()
	}
	return false, nil
}

func TestGoexitInExecContext(t *testing.T) {
	pool := adapters.NewPool(adapters.WithSize(2))
	defer func() { require.NoError(t, pool.Wait(context.Background())) }()
	defer pool.Close()

	v := &exitingContext{exitInEnter: true}
	x, err := adapters.NewExecContext[int](v, adapters.WithExecutor(pool))
	require.NoError(t, err)
	err = x.Do(context.Background(), func(context.Context, int) error {
		t.Error("the body ran although Enter never returned")
		return nil
	})
	assert.ErrorIs(t, err, adapters.ErrGoexit)
	assert.Zero(t, v.exits.Load(), "an Enter that did not complete is not exited")

	v = &exitingContext{exitInExit: true}
	x, err = adapters.NewExecContext[int](v, adapters.WithExecutor(pool))
	require.NoError(t, err)
	err = x.Do(context.Background(), func(context.Context, int) error { return nil })
	assert.ErrorIs(t, err, adapters.ErrGoexit, "an Exit that never returned is not a clean exit")
	assert.Equal(t, int32(1), v.exits.Load())

	err = x.Runner()(context.Background(), func() { runtime.Goexit() })
	assert.ErrorIs(t, err, adapters.ErrGoexit)
}
