package adapters

import (
	"context"
	"sync/atomic"

	"github.com/gomixin/mixin/validate"
)

// The ExecContext kind: Python's ExecutorRequiredAsyncContextMixin. The same
// abstract methods as the context kind.
var execContextKind = &kindSpec{spec: func() validate.Spec {
	s := contextKind.copySpec()
	s.Name = "exec-context"
	return s
}()}

// ExecContextSpec returns the abstract methods of the exec-context kind, the
// same as ContextSpec's.
func ExecContextSpec() validate.Spec { return execContextKind.copySpec() }

// Runner runs fn on an executor and waits for it: Python's runner. When ctx
// ends first it returns ctx.Err() at once, and fn goes on running.
type Runner func(ctx context.Context, fn func()) error

// ExecOption configures an ExecContext.
type ExecOption interface{ applyExec(*execConfig) }

type execConfig struct {
	exec Executor
	contextConfig
}

// ExecutorOption sets the executor of an ExecContext or a Group.
type ExecutorOption struct{ e Executor }

func (o ExecutorOption) applyExec(c *execConfig)   { c.exec = o.e }
func (o ExecutorOption) applyGroup(c *groupConfig) { c.exec = o.e }

// WithExecutor makes an ExecContext or a Group run on e. A nil e keeps the
// default: DefaultPool for an ExecContext, a goroutine per task for a Group.
func WithExecutor(e Executor) ExecutorOption { return ExecutorOption{e} }

// ExecContext is the proxy of a value composed as a context manager whose
// Enter and Exit block (Python's ExecutorRequiredAsyncContextMixin[T]): they
// run on an executor, so that a caller whose ctx ends gets ctx.Err() at once.
// An Enter that completes after its caller left is matched by exactly one
// Exit, so nothing is left entered. A value with no Enter of its own is
// entered inline, without the executor.
//
// An ExecContext is made by NewExecContext and is safe for concurrent use as
// far as the wrapped value is. Its zero value is not usable: every method
// returns an error matching ErrUnusable.
type ExecContext[T any] struct {
	c      *Context[T]
	exec   Executor
	runner Runner
}

// NewExecContext composes v as an executor-backed context manager. v needs
// what NewContext needs. Enter and Exit run on WithExecutor's executor,
// DefaultPool by default.
func NewExecContext[T any](v any, opts ...ExecOption) (*ExecContext[T], error) {
	m, err := execContextKind.match(v, typeArg[T]())
	if err != nil {
		return nil, err
	}
	var cfg execConfig
	for _, o := range opts {
		if o != nil {
			o.applyExec(&cfg)
		}
	}
	if cfg.exec == nil {
		cfg.exec = DefaultPool()
	}
	enter, err := bindEnter[T](v, cfg.valueOr(v), m)
	if err != nil {
		return nil, err
	}
	x := &ExecContext[T]{exec: cfg.exec}
	x.runner = x.run
	exit := bindExit(v, m)
	c := &Context[T]{value: cfg.valueOr(v), probe: cfg.probe.newProbe("exec-context", v)}
	c.exit = func(ctx context.Context, err error) (bool, error) {
		var suppress bool
		var xerr error
		// Never lost: an Enter must not be left without its Exit, so Exit
		// still runs when ctx ends before it could start (see exitLater).
		if serr := x.do(ctx, func() { suppress, xerr = exit(ctx, err) }, true); serr != nil {
			return false, serr
		}
		return suppress, xerr
	}
	if enter != nil {
		c.enter = func(ctx context.Context) (T, error) {
			type res struct {
				v   T
				err error
			}
			start := func(fn func()) error { return x.exec.Submit(ctx, fn) }
			r, err := callAbandonable(ctx, start, func() res {
				v, err := enter(ctx)
				return res{v, err}
			}, func(r res) {
				if r.err == nil { // entered for a caller that left: exit once
					_, _ = exit(context.WithoutCancel(ctx), ctx.Err())
				}
			})
			if err != nil {
				var zero T
				return zero, err
			}
			return r.v, r.err
		}
	}
	x.c = c
	return x, nil
}

// run is the Runner: it runs fn on the executor and waits for it. When ctx
// ends before fn could start (a full pool), fn does not run.
func (x *ExecContext[T]) run(ctx context.Context, fn func()) error {
	switch {
	case ctx == nil:
		return nilCtx("ExecContext.Runner")
	case fn == nil:
		return errNilFunc
	}
	return x.do(ctx, fn, false)
}

// do submits fn and waits for it until ctx ends. A caller whose ctx ends
// while it waits for a place leaves at once with ctx.Err(); when mustRun is
// set, fn is then submitted later on the caller's behalf (exitLater) rather
// than dropped, and on a closed executor it runs on a goroutine of its own.
func (x *ExecContext[T]) do(ctx context.Context, fn func(), mustRun bool) error {
	done := make(chan struct{})
	var pe *PanicError
	var exited error
	var h handoff
	var claimed atomic.Bool // an executor that runs a function twice runs it once
	job := func() {
		if !claimed.CompareAndSwap(false, true) {
			return
		}
		doorExecWork.guard(fn, func(p *PanicError, goexit bool) {
			pe = p
			if goexit {
				exited = ErrGoexit
			}
			if !h.deliver() { // the caller left: nobody receives a panic
				doorExecWork.drop(p, goexit)
			}
			close(done)
		})
	}
	var err error
	doorExecutor.call(func() { err = x.exec.Submit(ctx, job) }, nil)
	switch {
	case err == nil:
	case !mustRun:
		return err
	case ctx.Err() != nil:
		h.leave()
		doorExecutor.spawn(func() { exitLater(x.exec, context.WithoutCancel(ctx), job) }, doorExecutor.drop)
		return ctx.Err()
	default: // the executor refuses work (closed): run it anyway
		doorExecWork.spawn(job, doorExecWork.drop)
	}
	select {
	case <-done:
	case <-ctx.Done():
		if h.leave() {
			return ctx.Err()
		}
		<-done
	}
	if pe != nil {
		panic(pe)
	}
	return exited
}

// exitLater submits an Exit whose caller could not wait for a place, waiting
// as long as the place takes; an executor that refuses it outright (closed)
// has it run here. A panic in it, or in Submit (which may or may not have
// started it: it is not run twice), has nobody to go to and goes to the
// fault handler.
func exitLater(exec Executor, ctx context.Context, job func()) {
	var err error
	if doorExecutor.contain(func() { err = exec.Submit(ctx, job) }) && err != nil {
		job()
	}
}

func (x *ExecContext[T]) usable() bool { return x != nil && x.c != nil }

// Runner returns the func that runs work on this context's executor, made
// once per proxy (Python's cached runner property). It waits for the work
// until its ctx ends; work that could not start before then (a full pool)
// does not run, and work already running goes on. A panic in the work is
// re-raised in the caller as a *PanicError.
func (x *ExecContext[T]) Runner() Runner {
	if !x.usable() {
		return func(context.Context, func()) error { return errUnusable("ExecContext") }
	}
	return x.runner
}

// Loop returns the executor Enter and Exit run on.
func (x *ExecContext[T]) Loop() Executor {
	if !x.usable() {
		return nil
	}
	return x.exec
}

// Value returns the wrapped value.
func (x *ExecContext[T]) Value() any {
	if !x.usable() {
		return nil
	}
	return x.c.value
}

// Enter runs the value's Enter on the executor and returns what it yields
// (the value itself, inline, when it has no Enter). When ctx ends first it
// returns ctx.Err() at once; an Enter that still completes is then matched by
// one Exit, with ctx's error.
func (x *ExecContext[T]) Enter(ctx context.Context) (T, error) {
	if ctx == nil {
		var zero T
		return zero, nilCtx("ExecContext.Enter")
	}
	if !x.usable() {
		var zero T
		return zero, errUnusable("ExecContext")
	}
	return x.c.Enter(ctx)
}

// Exit runs the value's Exit (or Close) on the executor with err, and returns
// as Context.Exit does. When ctx ends first it returns ctx.Err() at once; the
// Exit still runs, as soon as the executor has a place for it, and on a
// goroutine of its own when the executor is closed.
func (x *ExecContext[T]) Exit(ctx context.Context, err error) error {
	if ctx == nil {
		return nilCtx("ExecContext.Exit")
	}
	if !x.usable() {
		return errUnusable("ExecContext")
	}
	return x.c.Exit(ctx, err)
}

// Do enters, runs fn in the caller's goroutine, and exits, as Context.Do
// does, with Enter and Exit on the executor.
func (x *ExecContext[T]) Do(ctx context.Context, fn func(context.Context, T) error) error {
	if ctx == nil {
		return nilCtx("ExecContext.Do")
	}
	if !x.usable() {
		return errUnusable("ExecContext")
	}
	return x.c.Do(ctx, fn)
}
