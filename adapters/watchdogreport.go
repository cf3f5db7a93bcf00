package adapters

import (
	"context"
	"log/slog"
	"time"
)

// WatchdogOption configures a Watchdog: WithLogger, or WithObserver.
type WatchdogOption interface{ applyWatchdog(*Watchdog) }

type watchdogOptionFunc func(*Watchdog)

func (f watchdogOptionFunc) applyWatchdog(w *Watchdog) { f(w) }

func (o ObserveOption) applyWatchdog(w *Watchdog) {
	var c probeConfig
	o.applyProbe(&c)
	if c.obs != nil {
		w.obs = Observers(w.obs, c.obs)
	}
}

// WithLogger makes a Watchdog log every hold it reports to l, at level
// Warn: the lock's name, its holder's task and how long it has been held.
func WithLogger(l *slog.Logger) WatchdogOption {
	return watchdogOptionFunc(func(w *Watchdog) { w.log = l })
}

// reporting is where a Watchdog reports besides its callback.
type reporting struct {
	log *slog.Logger
	obs Observer
}

// LongHoldMessage is the message of a Watchdog's log records.
const LongHoldMessage = "mixin: lock held longer than the watchdog's threshold"

// tell reports h to the logger, the Watchdog's observer and the lock's, as
// an OpLongHold with the holder's task.
func (w *Watchdog) tell(h Hold) {
	l := h.Lock
	kind, name := "lock", l.typ.String()
	if p := l.probe; p != nil {
		kind, name = p.kind, p.name
	}
	ctx := context.Background()
	if w.log != nil {
		holder := "unknown"
		if h.HasHolder {
			holder = h.Holder.String()
		}
		w.log.LogAttrs(ctx, slog.LevelWarn, LongHoldMessage,
			slog.String("mixin.kind", kind), slog.String("mixin.name", name),
			slog.String("holder", holder), slog.Duration("held", h.For),
			slog.Duration("threshold", w.threshold))
	}
	e := Observation{Kind: kind, Name: name, Op: OpLongHold, Outcome: OutcomeOK, Duration: h.For, Task: h.Holder}
	if w.obs != nil {
		observe(w.obs, ctx, e)
	}
	if l.probe != nil && l.probe.obs != nil {
		observe(l.probe.obs, ctx, e)
	}
}

// forcedRelease counts and reports a hold a Watchdog force-released, which
// began at since: an OpRelease like the holder's own.
func (p *probe) forcedRelease(ctx context.Context, since time.Time, err error) {
	out := outcomeOf(ctx, err)
	var d time.Duration
	switch out {
	case OutcomeOK, OutcomeLost:
		d = time.Since(since)
		p.held.Add(-1)
		p.holdNs.Add(int64(d))
		maxInto(&p.maxHoldNs, int64(d))
		if out == OutcomeLost {
			p.lost.Add(1)
		}
	default:
		p.errs.Add(1)
	}
	p.report(ctx, OpRelease, out, d, err)
}
