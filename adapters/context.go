package adapters

import (
	"context"
	"errors"
	"reflect"

	"github.com/gomixin/mixin/validate"
)

// The Context kind: Python's AsyncContextMixin. Abstract: Exit (or io.Closer's
// Close); optional: Enter.
var contextKind = &kindSpec{spec: validate.Spec{
	Name: "context",
	Methods: []validate.Method{
		exitMethod,
		enterMethod,
	},
	Alternatives: []validate.Spec{{
		Name: "io.Closer",
		Methods: []validate.Method{
			{Name: "Close", Shapes: []reflect.Type{
				validate.Shape[func() error](),
				validate.Shape[func()](),
			}},
			enterMethod,
		},
	}},
}}

var exitMethod = validate.Method{
	Name: "Exit",
	Shapes: []reflect.Type{
		validate.Shape[func(context.Context, error) (bool, error)](),
		validate.Shape[func(error) bool](),
		validate.Shape[func(error) error](),
		validate.Shape[func(error)](),
	},
	Hints: []string{"Close", "Stop", "Shutdown"},
}

var enterMethod = validate.Method{
	Name: "Enter",
	Shapes: []reflect.Type{
		validate.Shape[func(context.Context) (validate.T, error)](),
		validate.Shape[func() (validate.T, error)](),
		validate.Shape[func() validate.T](),
	},
	Optional: true,
}

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
// or io.Closer's Close() error (or Close()), which never suppresses. Enter is
// optional, as Enter(ctx) (T, error), Enter() (T, error) or Enter() T; without
// it, Enter yields v itself, which must then be a T. A value that does not fit
// is refused with a *validate.AbstractError naming every problem.
func NewContext[T any](v any) (*Context[T], error) {
	m, err := contextKind.match(v, typeArg[T]())
	if err != nil {
		return nil, err
	}
	c := &Context[T]{value: v}
	if c.enter, err = bindEnter[T](v, m); err != nil {
		return nil, err
	}
	c.exit = bindExit(v, m)
	// The canonical shapes are also kept as interfaces, so that the hot path
	// makes one indirect call per method, as calling them by hand does.
	if x, ok := v.(enterT[T]); ok && c.enter != nil {
		c.enterT = x
	}
	if b, _ := m.Method("Exit"); m.Form == 0 && b.Shape == 0 {
		c.exitC = v.(exitCanon)
	}
	return c, nil
}

// bindExit returns the value's Exit (or Close) as the canonical func.
func bindExit(v any, m *validate.Match) func(context.Context, error) (bool, error) {
	if m.Form == 1 { // io.Closer
		if b, _ := m.Method("Close"); b.Shape == 0 {
			x := v.(interface{ Close() error })
			return func(context.Context, error) (bool, error) { return false, x.Close() }
		}
		x := v.(interface{ Close() })
		return func(context.Context, error) (bool, error) { x.Close(); return false, nil }
	}
	b, _ := m.Method("Exit")
	switch b.Shape {
	case 0:
		return v.(interface {
			Exit(context.Context, error) (bool, error)
		}).Exit
	case 1:
		x := v.(interface{ Exit(error) bool })
		return func(_ context.Context, err error) (bool, error) { return x.Exit(err), nil }
	case 2:
		x := v.(interface{ Exit(error) error })
		return func(_ context.Context, err error) (bool, error) { return false, x.Exit(err) }
	default:
		x := v.(interface{ Exit(error) })
		return func(_ context.Context, err error) (bool, error) { x.Exit(err); return false, nil }
	}
}

// bindEnter returns the value's Enter as the canonical func, or nil when the
// value has none (then v itself must be a T).
func bindEnter[T any](v any, m *validate.Match) (func(context.Context) (T, error), error) {
	b, ok := m.Method("Enter")
	if !ok {
		if _, isT := v.(T); !isT {
			return nil, validate.Refuse(v, "context", "has no Enter, so Enter would yield the value itself, which is not a %s", reflect.TypeFor[T]())
		}
		return nil, nil
	}
	switch b.Shape {
	case 0:
		if x, ok := v.(interface {
			Enter(context.Context) (T, error)
		}); ok {
			return x.Enter, nil
		}
	case 1:
		if x, ok := v.(interface{ Enter() (T, error) }); ok {
			return func(context.Context) (T, error) { return x.Enter() }, nil
		}
	case 2:
		if x, ok := v.(interface{ Enter() T }); ok {
			return func(context.Context) (T, error) { return x.Enter(), nil }, nil
		}
	}
	// The method returns a type other than T itself (a Context[any] over
	// Enter() *os.File): call it through reflection.
	rm := method(v, m, "Enter")
	shape := b.Shape
	return func(ctx context.Context) (T, error) {
		var in []reflect.Value
		if shape == 0 {
			in = []reflect.Value{reflect.ValueOf(&ctx).Elem()}
		}
		out := rm.Call(in)
		t, err := asT[T](out[0])
		if err != nil {
			return t, err
		}
		if len(out) == 2 {
			return t, asError(out[1])
		}
		return t, nil
	}, nil
}

// Value returns the wrapped value.
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
	if c == nil || c.exit == nil {
		return errUnusable("Context")
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
	if c == nil || c.exit == nil {
		return errUnusable("Context")
	}
	if fn == nil {
		return errNilFunc
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
	completed := false
	defer func() {
		if completed {
			return
		}
		// fn panicked or called runtime.Goexit: Exit sees it, then it goes on
		// unless Exit suppresses a panic.
		r := recover()
		if r == nil {
			_, _ = c.callExit(ctx, ErrGoexit)
			return
		}
		suppress, xerr := c.callExit(ctx, newPanicError(r))
		if !suppress {
			panic(r)
		}
		result = xerr
	}()
	err = fn(ctx, val)
	completed = true
	var suppress bool
	var xerr error
	if c.exitC != nil {
		suppress, xerr = c.exitC.Exit(ctx, err)
	} else {
		suppress, xerr = c.exit(ctx, err)
	}
	return exitResult(err, suppress, xerr)
}
