package adapters_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// stopper is grpc.Server-shaped: GracefulStop waits for in-flight work,
// which Stop cuts.
type stopper struct {
	cut             chan struct{}
	graceful, stops atomic.Int64
}

func (s *stopper) GracefulStop() { s.graceful.Add(1); <-s.cut }
func (s *stopper) Stop()         { s.stops.Add(1); close(s.cut) }

func TestGracefulStopThenStopWhenExitsCtxEnds(t *testing.T) {
	s := &stopper{cut: make(chan struct{})}
	c, err := adapters.NewContext[any](s)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = c.Exit(ctx, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "it had to cut")
	assert.Equal(t, int64(1), s.graceful.Load())
	assert.Equal(t, int64(1), s.stops.Load(), "Stop when the graceful stop outlived Exit's ctx")
}

// shutdowner is http.Server-shaped: Shutdown(ctx) and Close.
type shutdowner struct {
	inFlight chan struct{}
	closed   atomic.Bool
}

func (s *shutdowner) Shutdown(ctx context.Context) error {
	select {
	case <-s.inFlight:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s *shutdowner) Close() error { s.closed.Store(true); return nil }

func TestShutdownThenCloseWhenExitsCtxEnds(t *testing.T) {
	s := &shutdowner{inFlight: make(chan struct{})}
	c, err := adapters.NewContext[any](s)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, c.Exit(ctx, nil), context.DeadlineExceeded)
	assert.True(t, s.closed.Load(), "Close cuts what Shutdown could not finish")

	s = &shutdowner{inFlight: make(chan struct{})}
	close(s.inFlight)
	c, err = adapters.NewContext[any](s)
	require.NoError(t, err)
	require.NoError(t, c.Exit(context.Background(), nil))
	assert.False(t, s.closed.Load(), "a graceful shutdown that finished needs no Close")
}
