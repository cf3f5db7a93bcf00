package adapters

import (
	"context"
	"time"
)

// The observed paths of Context, ExecContext, Awaitable and Event: taken
// instead of the plain ones when the proxy has a probe.

// contextProbe makes the probe that NewContext's or NewEvent's options ask
// for.
func contextProbe(opts []ContextOption, kind string, v any) *probe {
	if len(opts) == 0 {
		return nil
	}
	var cfg contextConfig
	for _, o := range opts {
		if o != nil {
			o.applyContext(&cfg)
		}
	}
	return cfg.probe.newProbe(kind, v)
}

// observedEnter is Enter, timed.
func (c *Context[T]) observedEnter(ctx context.Context) (v T, err error) {
	p := c.probe
	start := now()
	finished := false
	defer func() {
		if !finished {
			p.report(ctx, OpEnter, OutcomePanicked, time.Duration(now()-start), nil)
		}
	}()
	v, err = c.enterUnobserved(ctx)
	finished = true
	// An observer that exits the goroutine takes Enter's caller with it:
	// the Enter nobody receives is exited.
	doorObserver.call(func() { p.timed(ctx, OpEnter, start, err) }, func() {
		if err == nil {
			_, _ = c.timedExit(ctx, ErrGoexit)
		}
	})
	return v, err
}

// timedExit calls the value's Exit with err, timed: OutcomeSuppressed when
// it suppressed err.
func (c *Context[T]) timedExit(ctx context.Context, err error) (suppress bool, xerr error) {
	p := c.probe
	start := now()
	finished := false
	defer func() {
		if !finished {
			p.report(ctx, OpExit, OutcomePanicked, time.Duration(now()-start), nil)
		}
	}()
	suppress, xerr = c.callExit(ctx, err)
	finished = true
	out := outcomeOf(ctx, xerr)
	if out == OutcomeOK && suppress && err != nil {
		out = OutcomeSuppressed
	}
	p.report(ctx, OpExit, out, time.Duration(now()-start), xerr)
	return suppress, xerr
}

// observedDo is Do through the observed Enter and Exit, with the body timed
// (OpDo).
func (c *Context[T]) observedDo(ctx context.Context, fn func(context.Context, T) error) (result error) {
	val, err := c.Enter(ctx)
	if err != nil {
		return err
	}
	p := c.probe
	start := now()
	var xerr error
	if doorDoBody.suppressible(func() { err = fn(ctx, val) }, func(pe *PanicError, goexit bool) bool {
		// An observer that exits the goroutine has the context exited.
		doorObserver.call(func() { p.report(ctx, OpDo, OutcomePanicked, time.Duration(now()-start), nil) },
			func() { _, _ = c.timedExit(ctx, ErrGoexit) })
		if goexit {
			_, _ = c.timedExit(ctx, ErrGoexit)
			return false
		}
		var suppress bool
		suppress, xerr = c.timedExit(ctx, pe)
		return suppress
	}) {
		return xerr
	}
	doorObserver.call(func() { p.timed(ctx, OpDo, start, err) }, func() { _, _ = c.timedExit(ctx, err) })
	suppress, xerr := c.timedExit(ctx, err)
	return exitResult(err, suppress, xerr)
}

// observedAwait is Await, timed.
func (a *Awaitable[T]) observedAwait(ctx context.Context) (v T, err error) {
	p := a.probe
	start := now()
	finished := false
	defer func() {
		if !finished {
			p.report(ctx, OpAwait, OutcomePanicked, time.Duration(now()-start), nil)
		}
	}()
	if a.waitT != nil {
		v, err = a.waitT.Wait(ctx)
	} else {
		v, err = a.await(ctx)
	}
	finished = true
	p.timed(ctx, OpAwait, start, err)
	return v, err
}

// observedWait is the event's Wait, timed: a wake-up (OpAwait).
func (e *Event[T]) observedWait(ctx context.Context) (v T, err error) {
	p := e.probe
	start := now()
	finished := false
	defer func() {
		if !finished {
			p.report(ctx, OpAwait, OutcomePanicked, time.Duration(now()-start), nil)
		}
	}()
	v, err = e.waitUnobserved(ctx)
	finished = true
	p.timed(ctx, OpAwait, start, err)
	return v, err
}

// observedSet is the event's Set, timed.
func (e *Event[T]) observedSet(v T) (err error) {
	p := e.probe
	ctx := context.Background()
	start := now()
	finished := false
	defer func() {
		if !finished {
			p.report(ctx, OpSet, OutcomePanicked, time.Duration(now()-start), nil)
		}
	}()
	err = e.set(v)
	finished = true
	p.timed(ctx, OpSet, start, err)
	return err
}
