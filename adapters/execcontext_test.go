package adapters_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

func TestPoolFullWithEndedCtx(t *testing.T) {
	p := adapters.NewPool(adapters.WithSize(1))
	defer p.Close()
	release := make(chan struct{})
	require.NoError(t, p.Submit(context.Background(), func() { <-release }))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	ran := false
	err := p.Submit(ctx, func() { ran = true })
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a full pool and an ended ctx: the ctx error, not a hang")
	close(release)
	require.NoError(t, p.Wait(context.Background()))
	assert.False(t, ran, "a refused function never runs")
	assert.Equal(t, 1, p.Size())
}

func TestPoolCloseAndPanics(t *testing.T) {
	p := adapters.NewPool(adapters.WithSize(2))
	require.NoError(t, p.Submit(context.Background(), func() { panic("in pool") }))
	p.Close()
	p.Close()
	assert.ErrorIs(t, p.Submit(context.Background(), func() {}), adapters.ErrClosed)
	defer func() {
		var pe *adapters.PanicError
		require.ErrorAs(t, recover().(error), &pe)
		assert.Equal(t, "in pool", pe.Value)
	}()
	_ = p.Wait(context.Background())
	t.Fatal("Wait did not re-raise")
}

func TestPoolBoundsConcurrency(t *testing.T) {
	p := adapters.NewPool(adapters.WithSize(3))
	defer p.Close()
	var cur, peak atomic.Int32
	for range 30 {
		require.NoError(t, p.Submit(context.Background(), func() {
			raise32(&peak, cur.Add(1))
			time.Sleep(time.Millisecond)
			cur.Add(-1)
		}))
	}
	require.NoError(t, p.Wait(context.Background()))
	assert.LessOrEqual(t, peak.Load(), int32(3))
	assert.Positive(t, adapters.DefaultPool().Size())
}

// slowSession is a context manager whose Enter blocks until told.
type slowSession struct {
	proceed chan struct{}
	entered atomic.Int32
	exited  atomic.Int32
	exitErr atomic.Value
}

func (s *slowSession) Enter() (int, error) {
	<-s.proceed
	return int(s.entered.Add(1)), nil
}

func (s *slowSession) Exit(err error) error {
	s.exited.Add(1)
	if err != nil {
		s.exitErr.Store(err)
	}
	return nil
}

func TestExecContextLateEnterIsMatchedByOneExit(t *testing.T) {
	s := &slowSession{proceed: make(chan struct{})}
	x, err := adapters.NewExecContext[int](s)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = x.Enter(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second, "the caller got its ctx error at once")

	close(s.proceed) // the Enter completes for a caller that left
	require.Eventually(t, func() bool { return s.exited.Load() == 1 }, time.Second, time.Millisecond)
	assert.Equal(t, int32(1), s.entered.Load())
	time.Sleep(10 * time.Millisecond)
	assert.Equal(t, int32(1), s.exited.Load(), "exactly one Exit")
	assert.ErrorIs(t, s.exitErr.Load().(error), context.DeadlineExceeded, "the Exit is told why")
}

func TestExecContextDoRunsEnterAndExitOnTheExecutor(t *testing.T) {
	s := &slowSession{proceed: make(chan struct{})}
	close(s.proceed)
	p := adapters.NewPool(adapters.WithSize(1))
	defer p.Close()
	x, err := adapters.NewExecContext[int](s, adapters.WithExecutor(p))
	require.NoError(t, err)
	assert.Same(t, p, x.Loop())
	err = x.Do(context.Background(), func(_ context.Context, n int) error {
		assert.Equal(t, 1, n)
		return errBody
	})
	assert.ErrorIs(t, err, errBody)
	assert.Equal(t, int32(1), s.exited.Load())
	require.NoError(t, p.Wait(context.Background()))
}

func TestExecContextWithoutEnterIsEnteredInline(t *testing.T) {
	p := adapters.NewPool(adapters.WithSize(1))
	defer p.Close()
	block := make(chan struct{})
	require.NoError(t, p.Submit(context.Background(), func() { <-block })) // the pool is full
	c := &closePlain{}
	x, err := adapters.NewExecContext[any](c, adapters.WithExecutor(p))
	require.NoError(t, err)
	v, err := x.Enter(context.Background())
	require.NoError(t, err, "no executor needed")
	assert.Same(t, c, v)
	close(block)
	require.NoError(t, x.Exit(context.Background(), nil))
	assert.True(t, c.closed)
	require.NoError(t, p.Wait(context.Background()))
}

func TestExecContextExitRunsEvenWhenCtxHasEnded(t *testing.T) {
	s := &shop.Session{}
	x, err := adapters.NewExecContext[*shop.Conn](s)
	require.NoError(t, err)
	_, err = x.Enter(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = x.Exit(ctx, nil)
	require.Eventually(t, func() bool { _, e := s.Counts(); return e == 1 }, time.Second, time.Millisecond)
}

func TestExecContextRunner(t *testing.T) {
	x, err := adapters.NewExecContext[any](&closePlain{})
	require.NoError(t, err)
	r := x.Runner()
	var ran atomic.Bool
	require.NoError(t, r(context.Background(), func() { ran.Store(true) }))
	assert.True(t, ran.Load())
	done := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, r(ctx, func() { <-done }), context.DeadlineExceeded)
	close(done)
	assert.PanicsWithError(t, "mixin: panic: run broke", func() { _ = r(context.Background(), func() { panic("run broke") }) })
	var zero *adapters.ExecContext[int]
	assert.ErrorIs(t, zero.Runner()(context.Background(), func() {}), adapters.ErrUnusable)
	_, err = zero.Enter(context.Background())
	assert.ErrorIs(t, err, adapters.ErrUnusable)
}

func TestExecContextRefusals(t *testing.T) {
	_, err := adapters.NewExecContext[any](42)
	require.ErrorIs(t, err, validate.ErrAbstract)
	assert.EqualError(t, err, "mixin: can't compose int as exec-context: missing abstract method Exit, or instead Shutdown (a graceful server), GracefulStop and Stop (a graceful stopper), Close (io.Closer) or Stop (a stopper)")
}
