package adapters

import (
	"context"
	"time"
)

// The observed paths of Group and Pool: their hooks call these only when
// the proxy has a probe.

// taskStart counts and reports a group task's start, after its wait since
// submitted, and returns when it started.
func (p *probe) taskStart(ctx context.Context, submitted int64) int64 {
	start := now()
	d := max(0, start-submitted)
	p.queued(d)
	task, _ := TaskOf(ctx)
	p.reportTask(ctx, OpTaskStart, OutcomeOK, time.Duration(d), nil, task)
	return start
}

// taskEnd counts and reports a group task's end: its error, or its panic.
// kept says whether the group keeps the error as a failure: one it keeps is
// never counted as ended by the ctx, one it leaves out always is.
func (p *probe) taskEnd(ctx context.Context, started int64, err error, pe *PanicError, kept bool) {
	var d int64
	if started != 0 { // 0: the task never began (its start's report did not return)
		d = now() - started
	}
	out := outcomeOf(ctx, err)
	switch {
	case pe != nil:
		out, err = OutcomePanicked, pe
	case kept && out == OutcomeCtxEnded:
		out = OutcomeError
	case !kept && err != nil && out != OutcomePanicked:
		out = OutcomeCtxEnded
	}
	p.ended(d, out)
	task, _ := TaskOf(ctx)
	p.reportTask(ctx, OpTaskEnd, out, time.Duration(d), err, task)
}

// taskNotRun counts and reports a task its executor never started.
func (p *probe) taskNotRun(ctx context.Context, submitted int64, err error) {
	p.notRun.Add(1)
	task, _ := TaskOf(ctx)
	p.reportTask(ctx, OpTaskStart, outcomeOf(ctx, err), time.Duration(now()-submitted), err, task)
}

// notRun counts and reports a Submit that gave up waiting for a place, and
// returns its error.
func (p *Pool) notRun(ctx context.Context, asked int64, err error) error {
	if p.probe != nil {
		p.probe.notRun.Add(1)
		p.probe.report(ctx, OpQueue, outcomeOf(ctx, err), time.Duration(now()-asked), err)
	}
	return err
}

// poolEnd counts the end of a pool function that started at started (a
// Pool reports no OpTaskEnd: its functions return nothing to report).
func (p *probe) poolEnd(started int64, pe *PanicError, goexit bool) {
	out := OutcomeOK
	if pe != nil || goexit {
		out = OutcomePanicked
	}
	p.ended(max(0, now()-started), out)
}
