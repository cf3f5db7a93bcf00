package mixinotel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	mixinotel "github.com/gomixin/mixin/contrib/otel"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// setup returns an Observer over the real SDK, its reader and its span
// recorder.
func setup(t *testing.T) (*mixinotel.Observer, *sdkmetric.ManualReader, *tracetest.SpanRecorder) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() {
		assert.NoError(t, mp.Shutdown(context.Background()))
		assert.NoError(t, tp.Shutdown(context.Background()))
	})
	o, err := mixinotel.New(mixinotel.WithMeterProvider(mp), mixinotel.WithTracerProvider(tp))
	require.NoError(t, err)
	return o, reader, rec
}

// collect reads every metric, by name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func outcomeOf(set attribute.Set) string {
	v, _ := set.Value(mixinotel.OutcomeKey)
	return v.AsString()
}

// histogram returns the histogram's data points by outcome.
func histogram(t *testing.T, m metricdata.Metrics) map[string]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is a float64 histogram", m.Name)
	out := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, p := range h.DataPoints {
		out[outcomeOf(p.Attributes)] = p
	}
	return out
}

// sums returns the counter's values by outcome.
func sums(t *testing.T, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is an int64 sum", m.Name)
	out := map[string]int64{}
	for _, p := range s.DataPoints {
		out[outcomeOf(p.Attributes)] += p.Value
	}
	return out
}

const hold = 20 * time.Millisecond

func TestLockWaitHoldAndOutcomes(t *testing.T) {
	o, reader, spans := setup(t)
	comp, err := mixin.New(mixin.WithObserver(o)).Register("orders", &sync.Mutex{})
	require.NoError(t, err)
	l, _ := comp.Lock()
	ctx := context.Background()

	require.NoError(t, l.Do(ctx, func(context.Context) error {
		done := make(chan struct{})
		go func() { // waits for the hold, then gives up
			defer close(done)
			short, cancel := context.WithTimeout(ctx, hold)
			defer cancel()
			_, err := l.Acquire(short)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}()
		<-done
		return nil
	}))

	ms := collect(t, reader)
	wait := histogram(t, ms["mixin.lock.wait.duration"])
	require.Contains(t, wait, "ok")
	require.Contains(t, wait, "ctx_ended")
	assert.Equal(t, uint64(1), wait["ok"].Count)
	assert.Equal(t, uint64(1), wait["ctx_ended"].Count)
	// The wait's length is the proxy's own clock's: no clock read here
	// bounds it from below (the proxy starts timing after Acquire is
	// called, and may be scheduled late), only that it was measured.
	assert.Greater(t, wait["ctx_ended"].Sum, 0.0)
	attrs := wait["ok"].Attributes
	kind, _ := attrs.Value(mixinotel.KindKey)
	name, _ := attrs.Value(mixinotel.NameKey)
	assert.Equal(t, "lock", kind.AsString())
	assert.Equal(t, "orders", name.AsString())
	assert.Equal(t, "s", ms["mixin.lock.wait.duration"].Unit)

	holdH := histogram(t, ms["mixin.lock.hold.duration"])
	assert.Equal(t, uint64(1), holdH["ok"].Count)
	assert.GreaterOrEqual(t, holdH["ok"].Sum, hold.Seconds())
	assert.Equal(t, map[string]int64{"ok": 1, "ctx_ended": 1}, sums(t, ms["mixin.lock.acquires"]))
	assert.Equal(t, map[string]int64{"": 0}, sums(t, ms["mixin.lock.waiters"]), "nobody waits now")

	names := map[string]int{}
	for _, s := range spans.Ended() {
		names[s.Name()]++
	}
	assert.Equal(t, map[string]int{"mixin.lock.wait": 2, "mixin.lock.hold": 1, "mixin.do": 1}, names)
}

func TestSpansAreChildrenOfTheCallersSpan(t *testing.T) {
	o, _, spans := setup(t)
	tp := sdktrace.NewTracerProvider()
	defer func() { assert.NoError(t, tp.Shutdown(context.Background())) }()
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(o))
	require.NoError(t, err)
	require.NoError(t, l.Do(ctx, func(context.Context) error { time.Sleep(hold); return nil }))
	parent.End()

	ended := spans.Ended()
	require.Len(t, ended, 3)
	for _, s := range ended {
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID(), s.Name())
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), s.Name())
		if s.Name() != "mixin.lock.wait" {
			assert.GreaterOrEqual(t, s.EndTime().Sub(s.StartTime()), hold, s.Name())
		}
	}
}

// leased is a lease-backed lock whose lease the test loses.
type leased struct {
	mu   sync.Mutex
	held bool
	lost chan struct{}
}

func (l *leased) Acquire(context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held, l.lost = true, make(chan struct{})
	return true, nil
}

func (l *leased) Release(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = false
	select {
	case <-l.lost:
		return adapters.ErrLockLost
	default:
		return nil
	}
}

func (l *leased) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

func (l *leased) Lost() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func TestLostLeaseIsCounted(t *testing.T) {
	o, reader, _ := setup(t)
	v := &leased{}
	l, err := adapters.NewLock(v, adapters.WithObserver(o), adapters.WithName("leader"))
	require.NoError(t, err)
	err = l.Do(context.Background(), func(ctx context.Context) error {
		v.mu.Lock()
		close(v.lost)
		v.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	})
	require.ErrorIs(t, err, adapters.ErrLockLost)
	ms := collect(t, reader)
	assert.Equal(t, map[string]int64{"": 1}, sums(t, ms["mixin.lock.lost"]))
	assert.Equal(t, uint64(1), histogram(t, ms["mixin.lock.hold.duration"])["lost"].Count)
}

// slowCloser is a context whose Enter and Exit take a while.
type slowCloser struct{}

func (slowCloser) Enter(context.Context) (int, error) { time.Sleep(hold); return 1, nil }
func (slowCloser) Exit(context.Context, error) (bool, error) {
	time.Sleep(hold)
	return false, errors.New("exit failed")
}

func TestContextEnterExitAndGroupTasks(t *testing.T) {
	o, reader, _ := setup(t)
	c, err := adapters.NewContext[int](slowCloser{}, adapters.WithObserver(o))
	require.NoError(t, err)
	require.Error(t, c.Do(context.Background(), func(context.Context, int) error { return nil }))

	g, err := adapters.NewGroup(nil, adapters.ContinueOnError(), adapters.WithObserver(o))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, g.Enter(ctx))
	g.Go(func(context.Context) error { return nil })
	g.Go(func(context.Context) error { return errors.New("task failed") })
	require.Error(t, g.Exit(ctx, nil))

	ms := collect(t, reader)
	enter := histogram(t, ms["mixin.context.enter.duration"])
	assert.GreaterOrEqual(t, enter["ok"].Sum, hold.Seconds())
	exit := histogram(t, ms["mixin.context.exit.duration"])
	assert.Equal(t, uint64(1), exit["error"].Count)
	assert.Equal(t, map[string]int64{"ok": 1, "error": 1}, sums(t, ms["mixin.group.tasks"]))
	queue := ms["mixin.group.task.queue.duration"].Data.(metricdata.Histogram[float64])
	require.Len(t, queue.DataPoints, 1)
	assert.Equal(t, uint64(2), queue.DataPoints[0].Count)
}

func TestNoSpansWithoutTracerProvider(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { assert.NoError(t, mp.Shutdown(context.Background())) }()
	o, err := mixinotel.New(mixinotel.WithMeterProvider(mp))
	require.NoError(t, err)
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(o))
	require.NoError(t, err)
	require.NoError(t, l.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Equal(t, map[string]int64{"ok": 1}, sums(t, collect(t, reader)["mixin.lock.acquires"]))
}
