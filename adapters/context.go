package adapters

import (
	"context"
	"errors"
	"reflect"

	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/internal/reflectx"
	"github.com/gomixin/mixin/validate"
)

// exitFunc is the canonical form of a context's Exit.
type exitFunc = func(ctx context.Context, err error) (suppress bool, _ error)

var (
	// The hints are the near misses a refusal names ("but does have method
	// Flush"): methods people write where a context has Exit.
	exitMethod = abstract([]string{"Close", "Stop", "Shutdown", "Flush", "Release"},
		row(func(x interface {
			Exit(context.Context, error) (bool, error)
		}) exitFunc {
			return x.Exit
		}),
		row(func(x interface{ Exit(error) bool }) exitFunc {
			return func(_ context.Context, err error) (bool, error) { return x.Exit(err), nil }
		}),
		row(func(x interface{ Exit(error) error }) exitFunc {
			return func(_ context.Context, err error) (bool, error) { return false, x.Exit(err) }
		}),
		row(func(x interface{ Exit(error) }) exitFunc {
			return func(_ context.Context, err error) (bool, error) { x.Exit(err); return false, nil }
		}),
	)
	// closeMethod is io.Closer's Close, which never suppresses.
	closeMethod = abstract(nil,
		row(func(x interface{ Close() error }) func() error { return x.Close }),
		row(func(x interface{ Close() }) func() error { return func() error { x.Close(); return nil } }),
	)
	closeOptional = optional(closeMethod.shapes...)
	// shutdownMethod is a graceful shutdown bounded by a ctx (http.Server).
	shutdownMethod = abstract(nil,
		row(func(x interface{ Shutdown(context.Context) error }) func(context.Context) error { return x.Shutdown }),
	)
	// gracefulStopMethod and stopMethod are grpc.Server's.
	gracefulStopMethod = abstract(nil, row(func(x interface{ GracefulStop() }) func() { return x.GracefulStop }))
	stopMethod         = abstract(nil,
		row(func(x interface{ Stop() }) func() { return x.Stop }),
		// time.Timer's: whether it stopped a pending fire is not an error.
		row(func(x interface{ Stop() bool }) func() { return func() { x.Stop() } }),
	)
)

// stopperMethod is a stopper's Stop: time.Ticker's and time.Timer's, or one
// that returns what to await until the stop completes (alitto/pond's
// Stop() pond.Task, a Done channel or a Wait() error), awaited bounded by
// Exit's ctx. Such a Stop returns a type of its library's own, so it is
// called through reflection; it is called once per Exit.
var stopperMethod = abstract(nil,
	row(func(x interface{ Stop() }) func(context.Context) error {
		return func(context.Context) error { x.Stop(); return nil }
	}),
	row(func(x interface{ Stop() bool }) func(context.Context) error {
		return func(context.Context) error { x.Stop(); return nil }
	}),
	row(func(x interface{ Stop() doneTask }) func(context.Context) error {
		return func(ctx context.Context) error { return awaitStopped(ctx, x.Stop()) }
	}).orReflect(stopViaReflect),
	row(func(x interface{ Stop() waitTask }) func(context.Context) error {
		return func(ctx context.Context) error { return awaitStopped(ctx, x.Stop()) }
	}).orReflect(stopViaReflect),
)

// doneTask and waitTask are what a Stop may return to await: any type with
// Done() <-chan struct{} (then also Wait() error or Err() error, if it has
// them, give the outcome), or with Wait() error.
type (
	doneTask interface {
		validate.Result
		Done() <-chan struct{}
	}
	waitTask interface {
		validate.Result
		Wait() error
	}
)

// stopViaReflect calls a Stop that returns its library's own task type.
func stopViaReflect(rm reflect.Value) func(context.Context) error {
	return func(ctx context.Context) error { return awaitStopped(ctx, rm.Call(nil)[0].Interface()) }
}

// awaitStopped awaits what a Stop returned until it completes or ctx ends
// (then ctx.Err(), wrapped; the stop goes on). It returns the task's outcome:
// its Wait() error, else its Err() error, else nil.
func awaitStopped(ctx context.Context, task any) error {
	if task == nil || reflectx.IsNilPointer(task) {
		return nil
	}
	if d, ok := task.(interface{ Done() <-chan struct{} }); ok {
		select {
		case <-d.Done():
		case <-ctx.Done():
			return errs.Errorf("%T: Exit's ctx ended before the stop completed: %w", task, ctx.Err())
		}
		switch t := task.(type) {
		case interface{ Wait() error }:
			return t.Wait()
		case interface{ Err() error }:
			return t.Err()
		}
		return nil
	}
	w, ok := task.(interface{ Wait() error })
	if !ok {
		return nil
	}
	type outcome struct {
		err error
		pe  *PanicError
	}
	done := make(chan outcome, 1)
	var out outcome
	var h handoff
	// A panic or runtime.Goexit in the task's Wait reaches Exit's caller
	// (as a *PanicError, or ErrGoexit), never the process; once that
	// caller has left, the fault handler.
	doorStopWait.spawn(func() { out.err = w.Wait() }, func(pe *PanicError, goexit bool) {
		out.pe = pe
		if goexit {
			out.err = ErrGoexit
		}
		if !h.deliver() {
			doorStopWait.drop(pe, goexit)
			return
		}
		done <- out
	})
	select {
	case <-done:
	case <-ctx.Done():
		if h.leave() {
			return errs.Errorf("%T: Exit's ctx ended before the stop completed: %w", task, ctx.Err())
		}
		<-done
	}
	if out.pe != nil {
		panic(out.pe)
	}
	return out.err
}

// enterMethod is the optional Enter, in the shapes that yield a T.
func enterMethod[T any]() methodRows[func(context.Context) (T, error)] {
	return cachedForT[T](&enterCache, func() methodRows[func(context.Context) (T, error)] {
		return optional(
			row(func(x interface {
				Enter(context.Context) (T, error)
			}) func(context.Context) (T, error) {
				return x.Enter
			}).orReflect(func(rm reflect.Value) func(context.Context) (T, error) {
				return func(ctx context.Context) (T, error) { return callT[T](rm, ctxArg(ctx)) }
			}),
			row(func(x interface{ Enter() (T, error) }) func(context.Context) (T, error) {
				return func(context.Context) (T, error) { return x.Enter() }
			}).orReflect(func(rm reflect.Value) func(context.Context) (T, error) {
				return func(context.Context) (T, error) { return callT[T](rm) }
			}),
			row(func(x interface{ Enter() T }) func(context.Context) (T, error) {
				return func(context.Context) (T, error) { return x.Enter(), nil }
			}).orReflect(func(rm reflect.Value) func(context.Context) (T, error) {
				return func(context.Context) (T, error) { return callT[T](rm) }
			}),
		)
	})
}

// contextForms are the method sets a context manager may have, each with
// how its Exit is made.
var contextForms = func() []form[exitFunc] {
	enter := enterMethod[validate.T]().spec()
	return []form[exitFunc]{
		{"", methods(exitMethod.spec(), enter), func(v any, m *validate.Match) exitFunc {
			return exitMethod.must(v, m)
		}},
		{"a graceful server", methods(shutdownMethod.spec(), closeOptional.spec(), enter), bindShutdown},
		{"a graceful stopper", methods(gracefulStopMethod.spec(), stopMethod.spec(), enter), bindGracefulStop},
		{"io.Closer", methods(closeMethod.spec(), enter), func(v any, m *validate.Match) exitFunc {
			closeFn := closeMethod.must(v, m)
			return func(context.Context, error) (bool, error) { return false, closeFn() }
		}},
		{"a stopper", methods(stopperMethod.spec(), enter), func(v any, m *validate.Match) exitFunc {
			stop := stopperMethod.must(v, m)
			return func(ctx context.Context, _ error) (bool, error) { return false, stop(ctx) }
		}},
	}
}()

// bindShutdown makes Exit a graceful shutdown bounded by Exit's ctx
// (http.Server's Shutdown); when the ctx ends first and the value has Close,
// Close cuts what is left, and Exit returns the ctx's error joined with
// Close's.
func bindShutdown(v any, m *validate.Match) exitFunc {
	shutdown := shutdownMethod.must(v, m)
	closeFn, hasClose := closeOptional.bind(v, m)
	return func(ctx context.Context, _ error) (bool, error) {
		err := shutdown(ctx)
		if err != nil && hasClose && ctx.Err() != nil {
			return false, errors.Join(err, closeFn())
		}
		return false, err
	}
}

// bindGracefulStop makes Exit a graceful stop on a goroutine of its own
// (grpc.Server's GracefulStop), and Stop when Exit's ctx ends first; Exit
// returns once the stop has finished, with the ctx's error if it had to cut.
func bindGracefulStop(v any, m *validate.Match) exitFunc {
	graceful, stop := gracefulStopMethod.must(v, m), stopMethod.must(v, m)
	return func(ctx context.Context, _ error) (bool, error) {
		if ctx.Done() == nil {
			graceful()
			return false, nil
		}
		done := make(chan struct{})
		var panicked *PanicError
		var exited bool
		var h handoff
		doorGraceful.spawn(graceful, func(pe *PanicError, goexit bool) {
			// A panic or runtime.Goexit in GracefulStop reaches Exit's
			// caller, never the process; once that caller has left, the
			// fault handler.
			panicked, exited = pe, goexit
			if !h.deliver() {
				doorGraceful.drop(pe, goexit)
			}
			close(done)
		})
		var err error
		select {
		case <-done:
		case <-ctx.Done():
			stop()
			// Stop cuts what is left, and a GracefulStop that honours it
			// returns now; one that does not is left to return on its
			// own: Exit does not wait past its ctx for it.
			select {
			case <-done:
			default:
				if h.leave() {
					return false, ctx.Err()
				}
				<-done
			}
			err = ctx.Err()
		}
		switch {
		case panicked != nil:
			panic(panicked)
		case exited:
			return false, errors.Join(err, ErrGoexit)
		}
		return false, err
	}
}

// The Context kind: Python's AsyncContextMixin. Abstract: Exit, or a
// graceful shutdown (Shutdown with optional Close; GracefulStop and Stop), or
// io.Closer's Close, or Stop; optional: Enter.
var contextKind = &kindSpec{spec: specOf("context", contextForms...)}

// ContextSpec returns the abstract methods of the context kind: Exit in one of
// its shapes, or io.Closer's Close, and an optional Enter.
func ContextSpec() validate.Spec { return contextKind.copySpec() }

// Context is the proxy of a value composed as a context manager (Python's
// AsyncContextMixin[T]): Enter, then Exit with the body's error, or both
// around a body with Do. T is what Enter yields.
//
// A Context is made by NewContext and is safe for concurrent use as far as the
// wrapped value is. Its zero value is not usable: every method returns an
// error matching ErrUnusable.
type Context[T any] struct {
	value  any
	enterT enterT[T]                        // the canonical Enter, called directly
	enter  func(context.Context) (T, error) // other Enter shapes; both nil: Enter yields the value
	exitC  exitCanon                        // the canonical Exit, called directly
	exit   func(context.Context, error) (bool, error)
	probe  *probe // the observer; nil: none (see contextobserve.go)
}

type enterT[T any] interface {
	Enter(context.Context) (T, error)
}

type exitCanon interface {
	Exit(context.Context, error) (bool, error)
}

// NewContext composes v as a context manager. v needs Exit in one of the
// shapes
//
//	Exit(ctx context.Context, err error) (suppress bool, _ error)
//	Exit(err error) (suppress bool)
//	Exit(err error) error
//	Exit(err error)
//
// or, tried in this order, one of the method sets Go values close with, none
// of which suppresses:
//
//	Shutdown(ctx) error, optional Close() error   (http.Server) a graceful shutdown bounded by
//	                                             Exit's ctx, then Close if the ctx ended first
//	GracefulStop(), Stop()                        (grpc.Server) a graceful stop, then Stop if
//	                                             Exit's ctx ends first
//	Close() error | Close()                       (io.Closer)
//	Stop() | Stop() bool                          (time.Ticker, time.Timer)
//	Stop() X, X with Done() <-chan struct{}       (alitto/pond's Pool) a stop, then
//	    or Wait() error                          what Stop returned awaited, bounded
//	                                             by Exit's ctx
//
// Enter is optional, as Enter(ctx) (T, error), Enter() (T, error) or
// Enter() T; without it, Enter yields v itself (or the value given to
// ForValue), which must then be a T. A value that does not fit is refused
// with a *validate.AbstractError naming every problem. Its options are
// ForValue, WithObserver, WithStats and WithName.
func NewContext[T any](v any, opts ...ContextOption) (*Context[T], error) {
	m, err := contextKind.match(v, typeArg[T]())
	if err != nil {
		return nil, err
	}
	var cfg contextConfig
	for _, o := range opts {
		if o != nil {
			o.applyContext(&cfg)
		}
	}
	c := &Context[T]{value: cfg.valueOr(v)}
	if len(opts) > 0 {
		c.probe = cfg.probe.newProbe("context", v)
	}
	if c.enter, err = bindEnter[T](v, c.value, m); err != nil {
		return nil, err
	}
	c.exit = bindExit(v, m)
	// The canonical shapes are also kept as interfaces, so that the hot path
	// makes one indirect call per method, as calling them by hand does.
	if x, ok := v.(enterT[T]); ok && c.enter != nil {
		c.enterT = x
	}
	if x, ok := v.(exitCanon); ok && m.Form == 0 {
		c.exitC = x // the first Exit shape is tried first: this is it
	}
	return c, nil
}

// bindExit returns the value's Exit (or what stands for it) as the canonical
// func.
func bindExit(v any, m *validate.Match) exitFunc { return bindForm(contextForms, v, m) }

// bindEnter returns the value's Enter as the canonical func, or nil when the
// value has none (then yield, which Enter yields instead, must be a T).
func bindEnter[T any](v, yield any, m *validate.Match) (func(context.Context) (T, error), error) {
	enter, ok := enterMethod[T]().bind(v, m)
	if ok {
		return enter, nil
	}
	if _, isT := yield.(T); !isT {
		return nil, validate.Refuse(v, "context", "has no Enter, so Enter would yield the value itself, which is not a %s", reflect.TypeFor[T]())
	}
	return nil, nil
}

// EventOption configures an Event (NewEvent): WithObserver, WithStats and
// WithName. It is ContextOption under the name a reader of NewEvent looks
// for: the two kinds take the same options.
type EventOption = ContextOption

// ContextOption configures a Context (NewContext) or an Event (NewEvent):
// ForValue (a Context's only), WithObserver, WithStats, WithName.
type ContextOption interface{ applyContext(*contextConfig) }

type contextConfig struct {
	value any
	set   bool
	probe probeConfig
}

func (c contextConfig) valueOr(v any) any {
	if c.set {
		return c.value
	}
	return v
}

// ValueOption is what ForValue returns: an option of NewContext and
// NewExecContext.
type ValueOption struct{ v any }

func (o ValueOption) applyContext(c *contextConfig) { c.value, c.set = o.v, true }
func (o ValueOption) applyExec(c *execConfig)       { c.value, c.set = o.v, true }

// ForValue makes a Context or ExecContext composed over an adapter of v (a
// value written to give v the methods it lacks) stand for v: Value returns
// v, and where the adapter has no Enter, Enter (and Do's body) gets v, which
// must then be a T. Registry.Adapt's adapters are composed with it, so that
// a user's body gets the user's value.
func ForValue(v any) ValueOption { return ValueOption{v} }

// Value returns the wrapped value (the one given to ForValue, if any).
func (c *Context[T]) Value() any {
	if c == nil {
		return nil
	}
	return c.value
}

// Enter enters the context: it calls the value's Enter and returns what it
// yields, or the value itself when it has no Enter. A successful Enter must be
// matched by one Exit.
func (c *Context[T]) Enter(ctx context.Context) (T, error) {
	if ctx == nil {
		var zero T
		return zero, nilCtx("Context.Enter")
	}
	if c != nil && c.probe != nil {
		return c.observedEnter(ctx)
	}
	return c.enterUnobserved(ctx)
}

// enterUnobserved is Enter without the observer.
func (c *Context[T]) enterUnobserved(ctx context.Context) (T, error) {
	if c == nil || c.exit == nil {
		var zero T
		return zero, errUnusable("Context")
	}
	switch {
	case c.enterT != nil:
		return c.enterT.Enter(ctx)
	case c.enter != nil:
		return c.enter(ctx)
	}
	return c.value.(T), nil
}

// callExit calls the value's Exit through the shortest path bound.
func (c *Context[T]) callExit(ctx context.Context, err error) (bool, error) {
	if c.exitC != nil {
		return c.exitC.Exit(ctx, err)
	}
	return c.exit(ctx, err)
}

// Exit exits the context with the error of the body (nil if it succeeded, a
// *PanicError if it panicked). It returns nil when the value's Exit
// suppresses the error; otherwise err, joined with any error Exit itself
// returned.
func (c *Context[T]) Exit(ctx context.Context, err error) error {
	if ctx == nil {
		return nilCtx("Context.Exit")
	}
	if c == nil || c.exit == nil {
		return errUnusable("Context")
	}
	if c.probe != nil {
		suppress, xerr := c.timedExit(ctx, err)
		return exitResult(err, suppress, xerr)
	}
	suppress, xerr := c.callExit(ctx, err)
	return exitResult(err, suppress, xerr)
}

func exitResult(err error, suppress bool, xerr error) error {
	switch {
	case suppress || err == nil:
		return xerr
	case xerr == nil:
		return err
	}
	return errors.Join(err, xerr)
}

// Do is Python's "async with": it enters, runs fn with what Enter yielded,
// and exits with fn's error. If Enter fails, fn does not run and nothing is
// exited. If fn panics, Exit gets a *PanicError and the panic goes on after it
// with its original value, unless Exit suppresses it (then Do returns nil).
// Do returns fn's error unless suppressed, joined with Exit's own.
func (c *Context[T]) Do(ctx context.Context, fn func(context.Context, T) error) (result error) {
	if ctx == nil {
		return nilCtx("Context.Do")
	}
	if c == nil || c.exit == nil {
		return errUnusable("Context")
	}
	if fn == nil {
		return errNilFunc
	}
	if c.probe != nil {
		return c.observedDo(ctx, fn)
	}
	var val T
	var err error
	if c.enterT != nil { // the canonical Enter, without Enter's own call frame
		val, err = c.enterT.Enter(ctx)
	} else {
		val, err = c.Enter(ctx)
	}
	if err != nil {
		return err
	}
	// fn panicked or called runtime.Goexit: Exit sees it, then it goes on
	// unless Exit suppresses a panic.
	var xerr error
	if doorDoBody.suppressible(func() { err = fn(ctx, val) }, func(pe *PanicError, goexit bool) bool {
		if goexit {
			_, _ = c.callExit(ctx, ErrGoexit)
			return false
		}
		var suppress bool
		suppress, xerr = c.callExit(ctx, pe)
		return suppress
	}) {
		return xerr
	}
	var suppress bool
	if c.exitC != nil {
		suppress, xerr = c.exitC.Exit(ctx, err)
	} else {
		suppress, xerr = c.exit(ctx, err)
	}
	return exitResult(err, suppress, xerr)
}
