package adapters

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
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

	dog   *Watchdog
	since int64
}

// ForceRelease releases the lock on behalf of its holder, bypassing any
// ownership check: for breaking a deadlock the report revealed. It fails if
// the hold already ended (the lock was released, or re-acquired since).
func (h Hold) ForceRelease(ctx context.Context) error {
	return h.dog.forceRelease(ctx, h)
}

// Watchdog is a ready Locksmith: it reports every watched lock held longer
// than its threshold to a callback, once per hold, and can force-release it.
// Make one with NewWatchdog; it is safe for concurrent use.
type Watchdog struct {
	threshold time.Duration
	report    func(Hold)
	mu        sync.Mutex
	locks     map[*Lock]int64 // the hold (since) already reported, 0 if none
}

// NewWatchdog returns a Watchdog that reports holds longer than threshold to
// report. Check it by hand with Check, or in the background with Run.
func NewWatchdog(threshold time.Duration, report func(Hold)) *Watchdog {
	if report == nil {
		report = func(Hold) {}
	}
	return &Watchdog{threshold: threshold, report: report, locks: map[*Lock]int64{}}
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
		return nil, fmt.Errorf("mixin: %s: %w", l.typ, ErrDeclined)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.locks[l] = 0
	l.watched.Store(true)
	return l, nil
}

// Unwatch stops watching a lock.
func (w *Watchdog) Unwatch(l *Lock) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.locks[l]; ok {
		delete(w.locks, l)
		l.watched.Store(false)
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
		since := l.since.Load()
		if since == 0 || since == reported {
			continue
		}
		held := now.Sub(time.Unix(0, since))
		if held < w.threshold {
			continue
		}
		w.locks[l] = since
		holder := Task(l.holder.Load())
		out = append(out, Hold{Lock: l, Holder: holder, HasHolder: holder != 0, For: held, dog: w, since: since})
	}
	w.mu.Unlock()
	for _, h := range out {
		w.report(h)
	}
	return out
}

// Run checks every interval until ctx ends.
func (w *Watchdog) Run(ctx context.Context, interval time.Duration) {
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
	if h.since == 0 || h.Lock.since.Load() != h.since {
		return fmt.Errorf("mixin: force-release of %s: the reported hold has ended: %w", h.Lock.typ, ErrNotLocked)
	}
	return h.Lock.releaseNow(ctx, h.Lock.unchecked)
}
