package adapters

import (
	"sync/atomic"
	"time"
)

// LockStats is a snapshot of what a Lock or OwnerLock did, as database/sql's
// DBStats is of a pool. Its counters start when the proxy gets an observer
// (WithObserver, WithStats, or the Composer's options); without one, every
// field is zero.
type LockStats struct {
	Acquires     int64         // acquisitions that succeeded
	Waits        int64         // of them, those that waited (did not succeed at once, 1µs or more)
	WaitTime     time.Duration // the total time callers waited, successful or not
	MaxWait      time.Duration // the longest wait, successful or not
	HoldTime     time.Duration // the total time the lock was held, over the holds released (a shared lock's holds are timed from the latest acquisition)
	CtxEnded     int64         // acquisitions given up because the caller's ctx ended
	Refused      int64         // acquisitions the value said no to (Acquire reported false)
	Errors       int64         // acquisitions and releases that failed otherwise (a panic is one)
	Lost         int64         // releases that found the lease lost (ErrLockLost)
	NotOwner     int64         // an owner lock's releases refused to a task that does not hold it
	WaitingNow   int64         // callers waiting now
	HeldNow      int64         // holds not released now (a shared lock's readers count one each)
	LongestHold  time.Duration // the longest hold released
	AcquiresFast int64         // acquisitions that succeeded at once (Acquires - Waits)
}

// lockCounters are the atomics behind LockStats.
type lockCounters struct {
	acquires, waits, ctxEnded, refused, errs, lost, notOwner atomic.Int64
	waitNs, maxWaitNs, holdNs, maxHoldNs                     atomic.Int64
	waiting, held                                            atomic.Int64
	heldAt                                                   atomic.Int64 // when the last hold began (now())
}

// waitThreshold is the shortest acquisition counted as a wait.
const waitThreshold = int64(time.Microsecond)

func maxInto(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

func (c *lockCounters) snapshot() LockStats {
	s := LockStats{
		Acquires: c.acquires.Load(), Waits: c.waits.Load(),
		WaitTime: time.Duration(c.waitNs.Load()), MaxWait: time.Duration(c.maxWaitNs.Load()),
		HoldTime: time.Duration(c.holdNs.Load()), LongestHold: time.Duration(c.maxHoldNs.Load()),
		CtxEnded: c.ctxEnded.Load(), Refused: c.refused.Load(), Errors: c.errs.Load(),
		Lost: c.lost.Load(), NotOwner: c.notOwner.Load(),
		WaitingNow: max(0, c.waiting.Load()), HeldNow: max(0, c.held.Load()),
	}
	s.AcquiresFast = s.Acquires - s.Waits
	return s
}

// Stats returns a snapshot of the lock's counters (all zero unless the lock
// has an observer or WithStats). It is safe to call concurrently with
// everything else.
func (l *Lock) Stats() LockStats {
	if l == nil || l.probe == nil {
		return LockStats{}
	}
	return l.probe.lockCounters.snapshot()
}

// Stats returns a snapshot of the owner lock's counters (see Lock.Stats).
func (o *OwnerLock) Stats() LockStats { return o.AsLock().Stats() }

// GroupStats is a snapshot of what a Group's tasks, or a Pool's functions,
// did. Its counters start when the Group or Pool gets an observer
// (WithObserver, WithStats, or the Composer's options); without one, every
// field is zero.
type GroupStats struct {
	Started   int64         // tasks (functions) started
	Running   int64         // of them, those running now
	Failed    int64         // tasks that returned an error (a Pool's functions never do)
	Panicked  int64         // tasks that panicked or called runtime.Goexit
	NotRun    int64         // tasks that never started (the ctx ended or the executor was closed first)
	QueueWait time.Duration // the total time tasks waited between Go (Submit) and their start
	MaxQueue  time.Duration // the longest of those waits
	RunTime   time.Duration // the total run time of the tasks that ended
}

// groupCounters are the atomics behind GroupStats.
type groupCounters struct {
	started, running, failed, panicked, notRun atomic.Int64
	queueNs, maxQueueNs, runNs                 atomic.Int64
}

func (c *groupCounters) snapshot() GroupStats {
	return GroupStats{
		Started: c.started.Load(), Running: max(0, c.running.Load()), Failed: c.failed.Load(),
		Panicked: c.panicked.Load(), NotRun: c.notRun.Load(),
		QueueWait: time.Duration(c.queueNs.Load()), MaxQueue: time.Duration(c.maxQueueNs.Load()),
		RunTime: time.Duration(c.runNs.Load()),
	}
}

// queued records a task's start after a wait of d.
func (c *groupCounters) queued(d int64) {
	c.started.Add(1)
	c.running.Add(1)
	c.queueNs.Add(d)
	maxInto(&c.maxQueueNs, d)
}

// ended records a task's end after a run of d.
func (c *groupCounters) ended(d int64, out Outcome) {
	c.running.Add(-1)
	c.runNs.Add(d)
	switch out {
	case OutcomeOK, OutcomeCtxEnded:
	case OutcomePanicked:
		c.panicked.Add(1)
	default:
		c.failed.Add(1)
	}
}

// Stats returns a snapshot of the group's task counters (all zero unless the
// group has an observer or WithStats).
func (g *Group) Stats() GroupStats {
	if g == nil || g.probe == nil {
		return GroupStats{}
	}
	return g.probe.groupCounters.snapshot()
}

// Stats returns a snapshot of the pool's counters (all zero unless the pool
// has an observer or WithStats): Failed is always zero.
func (p *Pool) Stats() GroupStats {
	if p == nil || p.probe == nil {
		return GroupStats{}
	}
	return p.probe.groupCounters.snapshot()
}
