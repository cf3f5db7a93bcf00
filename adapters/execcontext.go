package adapters

import (
	"context"

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

type execConfig struct{ exec Executor }

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
	enter, err := bindEnter[T](v, m)
	if err != nil {
		return nil, err
	}
	x := &ExecContext[T]{exec: cfg.exec}
	x.runner = x.run
	exit := bindExit(v, m)
	c := &Context[T]{value: v}
	c.exit = func(ctx context.Context, err error) (bool, error) {
		type res struct {
			suppress bool
			err      error
		}
		var r res
		// Scheduled even when ctx has ended, so that an Enter is never left
		// without its Exit; waited for only until ctx ends.
		if serr := x.runner(ctx, func() { r.suppress, r.err = exit(ctx, err) }); serr != nil {
			return false, serr
		}
		return r.suppress, r.err
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

// run submits fn without regard to ctx (so that it is never lost) and waits
// for it until ctx ends. The submission itself waits for a place in the pool.
func (x *ExecContext[T]) run(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	var pe *PanicError
	var exited error
	err := x.exec.Submit(context.WithoutCancel(ctx), func() {
		guard(fn, func(p *PanicError, goexit bool) {
			pe = p
			if goexit {
				exited = ErrGoexit
			}
			close(done)
		})
	})
	if err != nil {
		return err
	}
	select {
	case <-done:
		if pe != nil {
			panic(pe)
		}
		return exited
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (x *ExecContext[T]) usable() bool { return x != nil && x.c != nil }

// Runner returns the func that runs work on this context's executor, made
// once per proxy (Python's cached runner property). A panic in the work is
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
	if !x.usable() {
		var zero T
		return zero, errUnusable("ExecContext")
	}
	return x.c.Enter(ctx)
}

// Exit runs the value's Exit (or Close) on the executor with err, and returns
// as Context.Exit does. When ctx ends first it returns ctx.Err() at once; the
// Exit still runs.
func (x *ExecContext[T]) Exit(ctx context.Context, err error) error {
	if !x.usable() {
		return errUnusable("ExecContext")
	}
	return x.c.Exit(ctx, err)
}

// Do enters, runs fn in the caller's goroutine, and exits, as Context.Do
// does, with Enter and Exit on the executor.
func (x *ExecContext[T]) Do(ctx context.Context, fn func(context.Context, T) error) error {
	if !x.usable() {
		return errUnusable("ExecContext")
	}
	return x.c.Do(ctx, fn)
}
