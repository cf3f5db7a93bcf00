package adapters

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gomixin/mixin/internal/errs"
)

// Locksmith watches locks for unusually long holds, which may mean deadlock,
// livelock or starvation (Python's asyncutils locksmiths). A lock may decline
// to be watched through an AcknowledgeLocksmith(Locksmith) bool method.
type Locksmith interface {
	// Threshold is how long a hold may last before the locksmith reports it.
	Threshold() time.Duration
}

// ErrDeclined is matched by the error of Watchdog.Watch for a lock whose
// AcknowledgeLocksmith returned false.
var ErrDeclined = errors.New("mixin: lock declined the locksmith")

// Hold is a report of a lock held longer than a Watchdog's threshold.
type Hold struct {
	// Lock is the lock held.
	Lock *Lock
	// Holder is the task that acquired it, when its ctx carried one.
	Holder Task
	// HasHolder reports whether Holder is known.
	HasHolder bool
	// For is how long it had been held when the report was made.
	For time.Duration

	dog *Watchdog
	rec *holdRecord
}

// ForceRelease releases the lock on behalf of its holder, bypassing any
// ownership check: for breaking a deadlock the report revealed. It fails if
// the hold already ended (the lock was released, or re-acquired since): the
// check and the release are one step, so it never releases a later hold.
// The holder whose hold was force-released must not release it afterwards:
// an owner lock refuses that release, but over a lock that does not know
// its holder (a sync.Mutex) it would release the next holder's hold.
func (h Hold) ForceRelease(ctx context.Context) error {
	if ctx == nil {
		return nilCtx("Hold.ForceRelease")
	}
	return h.dog.forceRelease(ctx, h)
}

// Watchdog is a ready Locksmith: it reports every watched lock held longer
// than its threshold to a callback, once per hold, and can force-release it.
// Make one with NewWatchdog; it is safe for concurrent use. A zero Watchdog
// is usable too: its threshold is 0 (every recorded hold is reported by
// Check) and it has no callback.
type Watchdog struct {
	threshold time.Duration
	report    func(Hold)
	mu        sync.Mutex
	locks     map[*Lock]*holdRecord // the hold already reported, nil if none
	reporting                       // its logger and observer (see watchdogreport.go)
}

// NewWatchdog returns a Watchdog that reports holds longer than threshold to
// report, and to the logger and observer its options give (WithLogger,
// WithObserver), as does the observer of the lock held (an observer given
// to both hears each hold twice). Check it by hand with Check, or in the
// background with Run.
func NewWatchdog(threshold time.Duration, report func(Hold), opts ...WatchdogOption) *Watchdog {
	if report == nil {
		report = func(Hold) {}
	}
	w := &Watchdog{threshold: threshold, report: report, locks: map[*Lock]*holdRecord{}}
	for _, o := range opts {
		if o != nil {
			o.applyWatchdog(w)
		}
	}
	return w
}

// Threshold returns the hold time beyond which the Watchdog reports.
func (w *Watchdog) Threshold() time.Duration { return w.threshold }

// Watch starts watching a lock. v may be a *Lock, an *OwnerLock, or any value
// that composes as a lock or an owner lock (checked first, as NewLock does). A lock whose
// AcknowledgeLocksmith returns false is refused with ErrDeclined. Only
// acquisitions made through the returned proxy are timed.
func (w *Watchdog) Watch(v any) (*Lock, error) {
	var l *Lock
	switch x := v.(type) {
	case *Lock:
		l = x
	case *OwnerLock:
		l = x.AsLock()
	default:
		var err error
		if l, err = NewLock(v); err != nil {
			o, oerr := NewOwnerLock(v)
			if oerr != nil {
				return nil, err
			}
			l = o.AsLock()
		}
	}
	if !l.usable() {
		return nil, errUnusable("Lock")
	}
	if l.ack != nil && !l.ack(w) {
		return nil, errs.Errorf("%s: %w", l.typ, ErrDeclined)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.locks == nil { // a zero Watchdog
		w.locks = map[*Lock]*holdRecord{}
	}
	if _, ok := w.locks[l]; !ok {
		w.locks[l] = nil
		l.watched.Add(1) // several Watchdogs may watch one lock
	}
	return l, nil
}

// Unwatch stops watching a lock.
func (w *Watchdog) Unwatch(l *Lock) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.locks[l]; ok {
		delete(w.locks, l)
		l.watched.Add(-1)
	}
}

// Check reports every watched lock held longer than the threshold and not yet
// reported for this hold, calling the report callback for each (outside the
// Watchdog's own lock), and returns them.
func (w *Watchdog) Check() []Hold {
	now := time.Now()
	var out []Hold
	w.mu.Lock()
	for l, reported := range w.locks {
		rec := l.rec.Load()
		if rec == nil || rec == reported {
			continue
		}
		held := now.Sub(rec.since)
		if held < w.threshold {
			continue
		}
		w.locks[l] = rec
		out = append(out, Hold{Lock: l, Holder: rec.holder, HasHolder: rec.holder != 0, For: held, dog: w, rec: rec})
	}
	w.mu.Unlock()
	for i, h := range out {
		// An observer or report func that panics is contained (the other
		// holds are told all the same); one that exits the goroutine leaves
		// this hold and the ones after it unmarked, told by the next Check.
		doorObserver.call(func() {
			w.tell(h)
			if w.report != nil {
				doorReport.contain(func() { w.report(h) })
			}
		}, func() { w.unmark(out[i:]) })
	}
	return out
}

// unmark forgets that holds were reported, so that the next Check reports
// them (their report did not complete).
func (w *Watchdog) unmark(holds []Hold) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range holds {
		if w.locks[h.Lock] == h.rec {
			w.locks[h.Lock] = nil
		}
	}
}

// Run checks every interval until ctx ends; an interval <= 0 checks every
// threshold (every second for a zero Watchdog).
func (w *Watchdog) Run(ctx context.Context, interval time.Duration) {
	if ctx == nil {
		return
	}
	if interval <= 0 {
		interval = w.threshold
		if interval <= 0 {
			interval = time.Second
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Check()
		}
	}
}

func (w *Watchdog) forceRelease(ctx context.Context, h Hold) error {
	if h.Lock == nil || w == nil {
		return errUnusable("Lock")
	}
	l := h.Lock
	// The check and the release are one step under hmu, which every
	// release of a recorded hold takes too: a release and a new acquisition
	// between them cannot make this release the next holder's hold.
	l.hmu.Lock()
	defer l.hmu.Unlock()
	if h.rec == nil || l.rec.Load() != h.rec {
		return errs.Errorf("force-release of %s: the reported hold has ended: %w", l.typ, ErrNotLocked)
	}
	err := l.endHold(ctx, l.unchecked, true)
	if l.probe != nil {
		l.probe.forcedRelease(ctx, h.rec.since, err)
	}
	return err
}
