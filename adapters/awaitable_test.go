package adapters_test

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate"
)

func TestAwaitWaitGroup(t *testing.T) {
	var wg sync.WaitGroup
	a, err := adapters.NewAwaitable[any](&wg)
	require.NoError(t, err)
	wg.Add(1)
	release := make(chan struct{})
	go func() { <-release; wg.Done() }()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = a.Await(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "ctx ending first returns its error at once")

	close(release)
	_, err = a.Await(context.Background())
	assert.NoError(t, err)
}

func TestAwaitExecCmdIsNotWaitedTwice(t *testing.T) {
	cmd := exec.Command("sh", "-c", "read x; exit 3")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	a, err := adapters.NewAwaitable[any](cmd)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.Await(ctx)
	assert.ErrorIs(t, err, context.Canceled)

	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	_, err = a.Await(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Wait is running on its own goroutine")

	_, _ = stdin.Write([]byte("go\n"))
	_, err = a.Await(context.Background())
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "the next Await joined the Wait in flight, which did not run twice")
	assert.Equal(t, 3, exitErr.ExitCode())
}

func TestAwaitJoinsTheCallInFlight(t *testing.T) {
	job := shop.NewJob(42)
	a, err := adapters.NewAwaitable[int](job)
	require.NoError(t, err)

	var wg sync.WaitGroup
	results := make([]int, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			v, err := a.Await(ctx)
			assert.NoError(t, err)
			results[i] = v
		}()
	}
	require.Eventually(t, func() bool { return adapters.Waiters(a) == len(results) }, 5*time.Second, time.Millisecond)
	close(job.Release)
	wg.Wait()
	for _, r := range results {
		assert.Equal(t, 42, r)
	}
	assert.Equal(t, 1, job.CallCount())
}

func TestAwaitResultNobodyReceivedIsKeptOnlyByAFuture(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []adapters.AwaitOption
		nextCalls int
		lastCalls int
		why       string
	}{
		{"future", nil, 1, 1, "a future's outcome is every later caller's: Wait is not called again"},
		// Not a future: a result nobody received is not kept (a re-armed
		// WaitGroup would read as done), and each Await calls Wait anew.
		{"RepeatWait", []adapters.AwaitOption{adapters.RepeatWait()}, 2, 3, "the next Await calls Wait anew"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := shop.NewJob(7)
			a, err := adapters.NewAwaitable[int](job, tc.opts...)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			defer cancel()
			_, err = a.Await(ctx)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			close(job.Release)
			require.Eventually(t, func() bool { return job.CallCount() == 1 }, time.Second, time.Millisecond)
			time.Sleep(5 * time.Millisecond) // let the abandoned call finish
			v, err := a.Await(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 7, v)
			assert.Equal(t, tc.nextCalls, job.CallCount(), tc.why)

			v, err = a.Await(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 7, v)
			assert.Equal(t, tc.lastCalls, job.CallCount(), tc.why)
		})
	}
}

func TestAwaitContextContext(t *testing.T) {
	target, cancel := context.WithCancel(context.Background())
	a, err := adapters.NewAwaitable[any](target)
	require.NoError(t, err)
	short, cancel2 := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel2()
	_, err = a.Await(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	cancel()
	_, err = a.Await(context.Background())
	assert.ErrorIs(t, err, context.Canceled, "Await returns the awaited context's Err")
}

func TestAwaitCtxAwareTyped(t *testing.T) {
	f := shop.Future{Ch: make(chan string, 1)}
	a, err := adapters.NewAwaitable[string](f)
	require.NoError(t, err)
	f.Ch <- "ready"
	v, err := a.Await(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ready", v)

	anyA, err := adapters.NewAwaitable[any](f)
	require.NoError(t, err)
	f.Ch <- "again"
	got, err := anyA.Await(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "again", got, "Awaitable[any] over Wait(ctx) (string, error)")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.Await(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestAwaitChan(t *testing.T) {
	job := shop.NewJob(5)
	a, err := adapters.NewAwaitable[int](job)
	require.NoError(t, err)
	ch := a.Chan(context.Background())
	select {
	case <-ch:
		t.Fatal("resolved before Wait returned")
	case <-time.After(5 * time.Millisecond):
	}
	close(job.Release)
	r := <-ch
	require.NoError(t, r.Err)
	assert.Equal(t, 5, r.Value)
}

type panicky struct{ release chan struct{} }

func (p panicky) Wait() error { <-p.release; panic("wait broke") }

func TestAwaitPanicInContextlessWaitIsRaisedInTheCaller(t *testing.T) {
	p := panicky{release: make(chan struct{})}
	a, err := adapters.NewAwaitable[any](p)
	require.NoError(t, err)
	close(p.release)
	defer func() {
		r := recover()
		var pe *adapters.PanicError
		require.True(t, errors.As(r.(error), &pe))
		assert.Equal(t, "wait broke", pe.Value)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, _ = a.Await(ctx)
	t.Fatal("Await did not panic")
}

func TestAwaitPanicOnChanBecomesAnError(t *testing.T) {
	p := panicky{release: make(chan struct{})}
	close(p.release)
	a, err := adapters.NewAwaitable[any](p)
	require.NoError(t, err)
	r := <-a.Chan(context.Background())
	var pe *adapters.PanicError
	assert.ErrorAs(t, r.Err, &pe)
}

type waitShapes struct{}

func (waitShapes) Wait() int { return 9 }

type waitCtxErr struct{ err error }

func (w waitCtxErr) Wait(context.Context) error { return w.err }

func TestAwaitShapes(t *testing.T) {
	sentinel := errors.New("w")
	tests := []struct {
		name    string
		v       any
		want    any
		wantErr error
	}{
		{"Wait() T", waitShapes{}, 9, nil},
		{"Wait(ctx) error", waitCtxErr{sentinel}, nil, sentinel},
		{"Wait() (T, error)", func() any { j := shop.NewJob(3); close(j.Release); return j }(), 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := adapters.NewAwaitable[any](tt.v)
			require.NoError(t, err)
			got, err := a.Await(context.Background())
			assert.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAwaitableRefusals(t *testing.T) {
	_, err := adapters.NewAwaitable[any](sync.WaitGroup{})
	assert.EqualError(t, err, "mixin: can't compose sync.WaitGroup as awaitable: method Wait has pointer receiver (compose &v, a *sync.WaitGroup)")
	_, err = adapters.NewAwaitable[any](42)
	assert.ErrorIs(t, err, validate.ErrAbstract)
	_, err = adapters.NewAwaitable[string](shop.NewJob(1))
	assert.ErrorContains(t, err, "Wait has signature func() (int, error), want func(context.Context) (string, error)")
	var zero *adapters.Awaitable[int]
	_, err = zero.Await(context.Background())
	assert.ErrorIs(t, err, adapters.ErrUnusable)
}
