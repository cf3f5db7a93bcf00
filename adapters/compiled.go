package adapters

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/internal/reflectx"
)

// Compiled bindings: a proxy whose T is any (the Composer's) over a value
// whose methods use a concrete type X (Wait(ctx) (int, error), Enter() X,
// an event's Get, Set and WaitForNext over X) cannot bind those methods by
// a type assertion to the proxy's shapes, which say any. Without help it
// calls them through reflect.Value.Call: hundreds of nanoseconds and
// several allocations a call. RegisterType[X] compiles, once, the shape
// rows of every kind at X and an adapter from each to the rows at any, so
// that such a value's methods are called directly; the binder finds them by
// the method's type. Types not registered keep the reflective binding.

// compiledKey names one shape row compiled at some X: the method's type (its
// func type without receiver, which names X), the canonical func F it binds
// to at T = any, and the method's name.
type compiledKey struct {
	method reflect.Type
	f      reflect.Type
	name   string
}

// compiledRows holds the binders by key: func(v any) (F, bool) for the key's
// F. The values of a key never change once stored.
var compiledRows sync.Map

// compiledTypes holds the Xs registered, so that a second RegisterType[X]
// costs a look-up.
var compiledTypes sync.Map

// RegisterType compiles the bindings of values whose methods take or return
// X for the proxies whose T is any: the Composer's Awaitable, Context and
// Event, and NewAwaitable[any], NewContext[any] and NewEvent[any]. Their
// methods are then called directly, as compiled code, instead of through
// reflection (reflect.Value.Call costs hundreds of nanoseconds and several
// allocations per call; the compiled binding, the call and the conversion
// of X to any).
//
// A plugin or a package whose types are composed calls it from an init
// function for its own result types (plugins share the host's registry).
// The predeclared types (bool, string, the numeric types, []byte,
// []string, []any, map[string]any) and time.Time and time.Duration are
// registered already. RegisterType is safe for concurrent use and
// idempotent; it affects values bound after it returns.
func RegisterType[X any]() {
	if _, done := compiledTypes.LoadOrStore(reflect.TypeFor[X](), true); done {
		return
	}
	compile(waitMethod[X](), eraseWaitFn[X])
	compile(enterMethod[X](), eraseCtxFunc[X])
	em := eventMethodsFor[X]()
	compile(em.get, eraseFunc[X])
	compile(em.set, eraseSet[X])
	compile(em.next, eraseCtxFunc[X])
	compile(em.wait, eraseCtxFunc[X])
	compiledRows.LoadOrStore(compiledKey{method: reflect.TypeFor[func(context.Context, func(X) bool) (X, error)](),
		f: reflect.TypeFor[untilFunc[any]](), name: "WaitUntil"}, func(v any) (untilFunc[any], bool) {
		x, ok := v.(untiler[X])
		if !ok {
			return nil, false
		}
		return func(ctx context.Context, match func(any) bool) (any, error) {
			got, err := x.WaitUntil(ctx, func(t X) bool { return match(t) })
			return got, err
		}, true
	})
}

// untilFunc is what an event's WaitUntil binds to.
type untilFunc[T any] func(ctx context.Context, match func(T) bool) (T, error)

// compiledUntil binds v's WaitUntil(ctx, func(X) bool) (X, error) through
// the code compiled for its X, or returns nil.
func compiledUntil[T any](v any) untilFunc[T] {
	m := reflect.ValueOf(v).MethodByName("WaitUntil")
	if !m.IsValid() {
		return nil
	}
	f, _ := bindCompiled[untilFunc[T]](v, "WaitUntil", m.Type())
	return f
}

// compile stores, for each shape of rows at X that mentions X, the binder
// that binds a value with that shape and erases what it binds to F at any.
func compile[FX, F any](rows methodRows[FX], erase func(FX) F) {
	f := reflect.TypeFor[F]()
	for _, s := range rows.shapes {
		if s.viaReflect == nil {
			continue // the shape does not mention X: bound as it is
		}
		bind := s.bind
		compiledRows.LoadOrStore(compiledKey{method: s.typ, f: f, name: s.name}, func(v any) (F, bool) {
			fx, ok := bind(v)
			if !ok {
				var zero F
				return zero, false
			}
			return erase(fx), true
		})
	}
}

// bindCompiled binds v's method name, of type method, through the rows
// compiled for its X, when they exist.
func bindCompiled[F any](v any, name string, method reflect.Type) (F, bool) {
	b, ok := compiledRows.Load(compiledKey{method: method, f: reflect.TypeFor[F](), name: name})
	if !ok {
		var zero F
		return zero, false
	}
	return b.(func(v any) (F, bool))(v)
}

// eraseCtxFunc adapts a func(ctx) (X, error) to a func(ctx) (any, error).
func eraseCtxFunc[X any](f func(context.Context) (X, error)) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		x, err := f(ctx)
		return x, err
	}
}

// eraseFunc adapts a func() (X, error) to a func() (any, error).
func eraseFunc[X any](f func() (X, error)) func() (any, error) {
	return func() (any, error) {
		x, err := f()
		return x, err
	}
}

// eraseSet adapts a Set over X to one over any: a value that is not an X
// (nor assignable to one) is ErrType, as through reflection.
func eraseSet[X any](s setFn[X]) setFn[any] {
	param := reflect.TypeFor[X]()
	return setFn[any]{param: param, fn: func(t any) error {
		if x, ok := t.(X); ok {
			return s.fn(x)
		}
		// nil for a pointer, or a value of a named type whose underlying
		// type is X's: what reflection would pass.
		arg, err := reflectx.ArgValue(t, param)
		if err != nil {
			return errs.Errorf("%v: %w", err, ErrType)
		}
		// (comma-ok: a nil for an interface X is X's zero value, which
		// Interface gives as nil)
		x, _ := arg.Convert(param).Interface().(X)
		return s.fn(x)
	}}
}

// eraseWaitFn adapts an awaitable's binding at X to one at any.
func eraseWaitFn[X any](w waitFn[X]) waitFn[any] {
	out := waitFn[any]{plain: w.plain, future: w.future, done: w.done, err: w.err}
	if w.direct != nil {
		out.direct = erasedWaiter[X]{w.direct}
	}
	if w.ctx != nil {
		out.ctx = eraseCtxFunc(w.ctx)
	}
	if w.blocking != nil {
		out.blocking = eraseFunc(w.blocking)
	}
	return out
}

// erasedWaiter is a canonical Wait over X seen as one over any.
type erasedWaiter[X any] struct{ w waiterT[X] }

func (e erasedWaiter[X]) Wait(ctx context.Context) (any, error) {
	x, err := e.w.Wait(ctx)
	return x, err
}

func init() {
	RegisterType[bool]()
	RegisterType[string]()
	RegisterType[int]()
	RegisterType[int8]()
	RegisterType[int16]()
	RegisterType[int32]()
	RegisterType[int64]()
	RegisterType[uint]()
	RegisterType[uint8]()
	RegisterType[uint16]()
	RegisterType[uint32]()
	RegisterType[uint64]()
	RegisterType[uintptr]()
	RegisterType[float32]()
	RegisterType[float64]()
	RegisterType[complex64]()
	RegisterType[complex128]()
	RegisterType[[]byte]()
	RegisterType[[]string]()
	RegisterType[[]any]()
	RegisterType[map[string]any]()
	RegisterType[time.Time]()
	RegisterType[time.Duration]()
}
