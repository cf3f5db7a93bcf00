// Package mixinotel records what the library's proxies do as OpenTelemetry
// metrics, and optionally spans: an adapters.Observer to give a Composer
// (mixin.WithObserver), one composite (mixin.Observe) or one proxy
// (adapters.WithObserver).
//
// Metrics (every one with the attributes mixin.kind, mixin.name and, where
// it applies, outcome):
//
//	mixin.lock.wait.duration   histogram, s    the wait of each acquisition, whatever its outcome
//	mixin.lock.hold.duration   histogram, s    each hold, at its release (outcome ok or lost)
//	mixin.lock.acquires        counter         acquisitions, by outcome
//	mixin.lock.lost            counter         holds whose lease was lost
//	mixin.lock.waiters         up-down counter callers waiting now
//	mixin.context.enter.duration, mixin.context.exit.duration
//	                           histogram, s    Enter and Exit of contexts and exec-contexts, by outcome
//	mixin.await.duration       histogram, s    Await of awaitables, Wait of events
//	mixin.group.tasks          counter         group tasks ended, by outcome
//	mixin.group.task.queue.duration
//	                           histogram, s    a task's (or a pool function's) wait for a place
//
// Spans, with WithTracerProvider: mixin.lock.wait and mixin.lock.hold for
// each acquisition and hold, and mixin.do for each Do body, children of the
// span in the caller's ctx, made when the operation ends with the times it
// had (an observer sees an operation only once it is over).
package mixinotel

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/gomixin/mixin/adapters"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/gomixin/mixin/contrib/otel"

// The attribute keys.
const (
	KindKey    = attribute.Key("mixin.kind")
	NameKey    = attribute.Key("mixin.name")
	OutcomeKey = attribute.Key("outcome")
)

// DurationBuckets are the histograms' bucket boundaries, in seconds: those
// OpenTelemetry's database connection-pool conventions advise for
// db.client.connection.wait_time (1 ms to 10 s), below which come 1, 10 and
// 100 µs, since an uncontended lock is taken in well under a millisecond.
var DurationBuckets = []float64{0.000001, 0.00001, 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// Option configures an Observer.
type Option func(*config)

type config struct {
	mp metric.MeterProvider
	tp trace.TracerProvider
}

// WithMeterProvider records to mp instead of the global MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithTracerProvider makes spans for lock waits and holds and Do bodies
// with tp's tracer; without it, the Observer makes no spans.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// Observer is an adapters.Observer that records to OpenTelemetry. Make one
// with New; it is safe for concurrent use. Its zero value is not usable.
type Observer struct {
	wait, hold, enter, exit, await, queue metric.Float64Histogram
	acquires, lost, tasks                 metric.Int64Counter
	waiters                               metric.Int64UpDownCounter
	tracer                                trace.Tracer // nil: no spans

	sets sync.Map // attrKey -> metric.MeasurementOption, one per label set
}

var _ adapters.Observer = (*Observer)(nil)

// New makes an Observer with its instruments.
func New(opts ...Option) (*Observer, error) {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	m := cfg.mp.Meter(ScopeName)
	o := &Observer{}
	var err error
	hist := func(dst *metric.Float64Histogram, name, desc string) {
		if err == nil {
			*dst, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
				metric.WithExplicitBucketBoundaries(DurationBuckets...))
		}
	}
	count := func(dst *metric.Int64Counter, name, unit, desc string) {
		if err == nil {
			*dst, err = m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
	}
	hist(&o.wait, "mixin.lock.wait.duration", "The time a caller waited to acquire a lock.")
	hist(&o.hold, "mixin.lock.hold.duration", "The time a lock was held, from its acquisition to its release.")
	hist(&o.enter, "mixin.context.enter.duration", "The time a context's Enter took.")
	hist(&o.exit, "mixin.context.exit.duration", "The time a context's Exit took.")
	hist(&o.await, "mixin.await.duration", "The time an Await (an event's Wait) took.")
	hist(&o.queue, "mixin.group.task.queue.duration", "The time a task waited for its executor to start it.")
	count(&o.acquires, "mixin.lock.acquires", "{acquire}", "Lock acquisitions, by outcome.")
	count(&o.lost, "mixin.lock.lost", "{hold}", "Lock holds whose lease was lost.")
	count(&o.tasks, "mixin.group.tasks", "{task}", "Group tasks ended, by outcome.")
	if err == nil {
		o.waiters, err = m.Int64UpDownCounter("mixin.lock.waiters", metric.WithUnit("{waiter}"),
			metric.WithDescription("Callers waiting to acquire a lock."))
	}
	if err != nil {
		return nil, err
	}
	if cfg.tp != nil {
		o.tracer = cfg.tp.Tracer(ScopeName)
	}
	return o, nil
}

type attrKey struct {
	kind, name  string
	outcome     adapters.Outcome
	withOutcome bool
}

// attrs returns the measurement option of e's labels, made once per set.
func (o *Observer) attrs(e *adapters.Observation, withOutcome bool) metric.MeasurementOption {
	k := attrKey{kind: e.Kind, name: e.Name}
	if withOutcome {
		k.outcome, k.withOutcome = e.Outcome, true
	}
	if v, ok := o.sets.Load(k); ok {
		return v.(metric.MeasurementOption)
	}
	kv := []attribute.KeyValue{KindKey.String(e.Kind), NameKey.String(e.Name)}
	if withOutcome {
		kv = append(kv, OutcomeKey.String(e.Outcome.String()))
	}
	opt := metric.WithAttributeSet(attribute.NewSet(kv...))
	v, _ := o.sets.LoadOrStore(k, opt)
	return v.(metric.MeasurementOption)
}

// Observe records e.
func (o *Observer) Observe(ctx context.Context, e adapters.Observation) {
	secs := e.Duration.Seconds()
	switch e.Op {
	case adapters.OpWait:
		o.waiters.Add(ctx, 1, o.attrs(&e, false))
	case adapters.OpAcquire:
		if e.Waited {
			o.waiters.Add(ctx, -1, o.attrs(&e, false))
		}
		set := o.attrs(&e, true)
		o.wait.Record(ctx, secs, set)
		o.acquires.Add(ctx, 1, set)
		o.span(ctx, "mixin.lock.wait", &e)
	case adapters.OpRelease:
		if e.Outcome == adapters.OutcomeOK || e.Outcome == adapters.OutcomeLost {
			o.hold.Record(ctx, secs, o.attrs(&e, true))
			o.span(ctx, "mixin.lock.hold", &e)
		}
		if e.Outcome == adapters.OutcomeLost {
			o.lost.Add(ctx, 1, o.attrs(&e, false))
		}
	case adapters.OpDo:
		o.span(ctx, "mixin.do", &e)
	case adapters.OpEnter:
		o.enter.Record(ctx, secs, o.attrs(&e, true))
	case adapters.OpExit:
		o.exit.Record(ctx, secs, o.attrs(&e, true))
	case adapters.OpAwait:
		o.await.Record(ctx, secs, o.attrs(&e, true))
	case adapters.OpTaskStart, adapters.OpQueue:
		if e.Outcome == adapters.OutcomeOK {
			o.queue.Record(ctx, secs, o.attrs(&e, false))
		}
	case adapters.OpTaskEnd:
		o.tasks.Add(ctx, 1, o.attrs(&e, true))
	}
}

// span makes a span for an operation that has just ended and lasted
// e.Duration, a child of ctx's span.
func (o *Observer) span(ctx context.Context, name string, e *adapters.Observation) {
	if o.tracer == nil {
		return
	}
	end := time.Now()
	_, s := o.tracer.Start(ctx, name, trace.WithTimestamp(end.Add(-e.Duration)),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(KindKey.String(e.Kind), NameKey.String(e.Name), OutcomeKey.String(e.Outcome.String())))
	if e.Outcome != adapters.OutcomeOK {
		msg := e.Outcome.String()
		if e.Err != nil {
			msg = e.Err.Error()
		}
		s.SetStatus(codes.Error, msg)
	}
	s.End(trace.WithTimestamp(end))
}
