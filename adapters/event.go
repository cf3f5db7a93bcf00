package adapters

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"sync"

	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/internal/reflectx"
	"github.com/gomixin/mixin/validate"
)

// ErrNoValue is matched by the error of Get on an event that holds no value:
// Python's EventValueError.
var ErrNoValue = errors.New("mixin: event holds no value")

// setFn is what Set binds to: it reports a value of a dynamic type the
// wrapped Set cannot take (ErrType); param is that Set's parameter type, when
// the proxy's T is an interface type and the value's Set takes another.
type setFn[T any] struct {
	fn    func(T) error
	param reflect.Type
}

// eventMethods are the event's abstract methods, for the proxy's T.
type eventMethods[T any] struct {
	clear      methodRows[func() error]
	isSetM     methodRows[func() bool]
	get        methodRows[func() (T, error)]
	set        methodRows[setFn[T]]
	next, wait methodRows[func(context.Context) (T, error)]
}

// ctxT is the reflective binder of a func(ctx) (T, error) method.
func ctxT[T any]() func(reflect.Value) func(context.Context) (T, error) {
	return func(rm reflect.Value) func(context.Context) (T, error) {
		return func(ctx context.Context) (T, error) { return callT[T](rm, ctxArg(ctx)) }
	}
}

func eventMethodsFor[T any]() *eventMethods[T] {
	return cachedForT[T](&eventCache, func() *eventMethods[T] {
		getByReflect := func(rm reflect.Value) func() (T, error) {
			return func() (T, error) { return callT[T](rm) }
		}
		return &eventMethods[T]{
			clear: abstract([]string{"Reset"},
				row(func(x interface{ Clear() }) func() error { return func() error { x.Clear(); return nil } }),
				row(func(x interface{ Clear() error }) func() error { return x.Clear }), // a distributed event's
			),
			isSetM: abstract([]string{"Ready"}, row(func(x interface{ IsSet() bool }) func() bool { return x.IsSet })),
			get: abstract([]string{"Value", "Load"},
				row(func(x interface{ Get() (T, error) }) func() (T, error) { return x.Get }).orReflect(getByReflect),
				row(func(x interface{ Get() (T, bool) }) func() (T, error) {
					return func() (T, error) {
						t, ok := x.Get()
						if !ok {
							return t, ErrNoValue
						}
						return t, nil
					}
				}).orReflect(getByReflect),
			),
			set: abstract([]string{"Store", "Fire"},
				row(func(x interface{ Set(T) }) setFn[T] {
					return setFn[T]{fn: func(t T) error { x.Set(t); return nil }}
				}).orReflect(setByReflect[T]),
				// A Set that can fail (a distributed event's): TrySet returns its error.
				row(func(x interface{ Set(T) error }) setFn[T] { return setFn[T]{fn: x.Set} }).orReflect(setByReflect[T]),
			),
			next: abstract([]string{"Next", "Wait"},
				row(func(x interface {
					WaitForNext(context.Context) (T, error)
				}) func(context.Context) (T, error) {
					return x.WaitForNext
				}).orReflect(ctxT[T]()),
			),
			wait: optional(
				row(func(x interface {
					Wait(context.Context) (T, error)
				}) func(context.Context) (T, error) {
					return x.Wait
				}).orReflect(ctxT[T]()),
			),
		}
	})
}

// untilByReflect binds a value's WaitUntil(ctx, func(X) bool) (X, error)
// for a proxy whose T is an interface type that X implements (an Event[any]
// over a distributed event of strings), so that the proxy's Wait and
// WaitForValue still read and wait in one step. It returns nil when the
// value has no such method.
func untilByReflect[T any](v any) func(context.Context, func(T) bool) (T, error) {
	m := reflect.ValueOf(v).MethodByName("WaitUntil")
	if !m.IsValid() {
		return nil
	}
	mt := m.Type()
	if mt.NumIn() != 2 || mt.NumOut() != 2 || mt.In(0) != reflect.TypeFor[context.Context]() ||
		mt.Out(1) != reflect.TypeFor[error]() {
		return nil
	}
	pt, x := mt.In(1), mt.Out(0)
	if pt.Kind() != reflect.Func || pt.NumIn() != 1 || pt.NumOut() != 1 || pt.In(0) != x ||
		pt.Out(0).Kind() != reflect.Bool || !x.AssignableTo(reflect.TypeFor[T]()) {
		return nil
	}
	return func(ctx context.Context, match func(T) bool) (T, error) {
		pred := reflect.MakeFunc(pt, func(args []reflect.Value) []reflect.Value {
			t, _ := args[0].Interface().(T)
			return []reflect.Value{reflect.ValueOf(match(t)).Convert(pt.Out(0))}
		})
		out := m.Call([]reflect.Value{ctxArg(ctx), pred})
		t, _ := out[0].Interface().(T)
		err, _ := out[1].Interface().(error)
		return t, err
	}
}

// setByReflect binds a Set (or Set returning an error) that takes a concrete
// type when T is an interface type: each value's dynamic type is checked
// before the call.
func setByReflect[T any](rm reflect.Value) setFn[T] {
	param := rm.Type().In(0)
	return setFn[T]{param: param, fn: func(t T) error {
		arg, err := reflectx.ArgValue(any(t), param)
		if err != nil {
			return errs.Errorf("%v: %w", err, ErrType) // NewEvent names the type
		}
		out := rm.Call([]reflect.Value{arg})
		if len(out) == 1 && !out[0].IsNil() { // Set(T) error
			return out[0].Interface().(error)
		}
		return nil
	}}
}

// The Event kind: Python's EventMixin. Abstract: Clear, Get, IsSet, Set,
// WaitForNext; optional: Wait (used when present: it can check and wait in
// one step, which the proxy cannot do from outside).
var eventKind = &kindSpec{spec: func() validate.Spec {
	m := eventMethodsFor[validate.T]()
	return validate.Spec{Name: "event", Methods: methods(
		m.clear.spec(), m.get.spec(), m.isSetM.spec(), m.set.spec(), m.next.spec(), m.wait.spec())}
}()}

// EventSpec returns the abstract methods of the event kind: Clear(),
// Get() (T, error) or Get() (T, bool), IsSet() bool, Set(T) and
// WaitForNext(ctx) (T, error); Wait(ctx) (T, error) is optional.
func EventSpec() validate.Spec { return eventKind.copySpec() }

// Event is the proxy of a value composed as an event that holds a value
// (Python's EventMixin[T]): it adds Wait, Await, WaitForValue and Stream to
// the value's five methods. An event is also an awaitable.
//
// An Event is made by NewEvent and is safe for concurrent use as far as the
// wrapped value is. Its zero value is not usable: its methods return errors
// matching ErrUnusable (IsSet returns false, Set and Clear do nothing).
type Event[T any] struct {
	value any
	clear func() error
	get   func() (T, error)
	getT  getterT[T] // the canonical Get, called directly
	isSet func() bool
	set   func(T) error
	next  func(context.Context) (T, error)
	wait  func(context.Context) (T, error)               // the value's own Wait, may be nil
	until func(context.Context, func(T) bool) (T, error) // the value's own WaitUntil, may be nil
	seq   func(context.Context) iter.Seq[T]              // the value's own Stream, may be nil
	param reflect.Type                                   // the dynamic type Set takes, when T is an interface type
	name  string
	probe *probe // the observer; nil: none (see contextobserve.go)

	mu      sync.Mutex
	lastErr error // the last Set refused for its dynamic type
}

type getterT[T any] interface{ Get() (T, error) }

// untiler and streamer are the optional methods the proxy uses when the value
// has them: ValueEvent has both, and any event of the user's may.
type untiler[T any] interface {
	WaitUntil(context.Context, func(T) bool) (T, error)
}

type streamer[T any] interface {
	Stream(context.Context) iter.Seq[T]
}

// anyFollower is a ValueEvent of any T, for an Event[any] over it.
type anyFollower interface {
	waitUntilAny(context.Context, func(any) bool) (any, error)
	streamAny(context.Context) iter.Seq[any]
}

// NewEvent composes v as an event. v needs Clear() (or Clear() error),
// Get() (T, error) or Get() (T, bool), IsSet() bool, Set(T) (or Set(T)
// error, whose errors TrySet and TryClear return) and WaitForNext(ctx)
// (T, error); an
// optional Wait(ctx) (T, error) is used by the proxy's Wait. A value that
// does not fit is refused with a *validate.AbstractError naming every
// problem. Its options are WithObserver, WithStats and WithName.
func NewEvent[T any](v any, opts ...EventOption) (*Event[T], error) {
	m, err := eventKind.match(v, typeArg[T]())
	if err != nil {
		return nil, err
	}
	e := &Event[T]{value: v, name: reflect.TypeOf(v).String(), probe: contextProbe(opts, "event", v)}
	em := eventMethodsFor[T]()
	e.clear, e.isSet = em.clear.must(v, m), em.isSetM.must(v, m)
	e.get = em.get.must(v, m)
	if x, ok := v.(getterT[T]); ok {
		e.getT = x
	}
	set := em.set.must(v, m)
	e.set, e.param = set.fn, set.param
	if e.param != nil {
		e.set = func(t T) error {
			if err := set.fn(t); err != nil {
				return errs.Errorf("Set on %s: %w", e.name, err)
			}
			return nil
		}
	}
	e.next = em.next.must(v, m)
	e.wait, _ = em.wait.bind(v, m)
	e.bindFollowers(v)
	return e, nil
}

// bindFollowers binds the value's WaitUntil and Stream: its own when their T
// is the proxy's, a ValueEvent's through any when the proxy's T is an
// interface type.
func (e *Event[T]) bindFollowers(v any) {
	if x, ok := v.(untiler[T]); ok {
		e.until = x.WaitUntil
	}
	if x, ok := v.(streamer[T]); ok {
		e.seq = x.Stream
	}
	if reflect.TypeFor[T]().Kind() != reflect.Interface {
		return
	}
	f, ok := v.(anyFollower)
	if !ok {
		if e.until == nil {
			// Compiled for the value's X (RegisterType), else by reflection.
			if e.until = compiledUntil[T](v); e.until == nil {
				e.until = untilByReflect[T](v)
			}
		}
		return
	}
	if e.until == nil {
		e.until = func(ctx context.Context, match func(T) bool) (T, error) {
			got, err := f.waitUntilAny(ctx, func(x any) bool {
				if x == nil { // a nil of an interface type: T's zero value
					var zero T
					return match(zero)
				}
				t, ok := x.(T)
				return ok && match(t)
			})
			t, _ := got.(T)
			return t, err
		}
	}
	if e.seq == nil {
		e.seq = func(ctx context.Context) iter.Seq[T] {
			return func(yield func(T) bool) {
				for x := range f.streamAny(ctx) {
					t, _ := x.(T)
					if !yield(t) {
						return
					}
				}
			}
		}
	}
}

func (e *Event[T]) usable() bool { return e != nil && e.set != nil }

// Value returns the wrapped value.
func (e *Event[T]) Value() any {
	if e == nil {
		return nil
	}
	return e.value
}

// Set sets the event's value and wakes its waiters (as the value's Set does).
// A value of a dynamic type the wrapped Set cannot take (possible only when T
// is an interface type) is not set, and a value's Set(T) error may fail (a
// distributed event's): use TrySet to get that error, or Err.
func (e *Event[T]) Set(v T) { e.keep(e.TrySet(v)) }

// keep records the error of a Set or Clear called without a way to return it.
func (e *Event[T]) keep(err error) {
	if err != nil && e.usable() {
		e.mu.Lock()
		e.lastErr = err
		e.mu.Unlock()
	}
}

// TrySet is Set that returns its error: one matching ErrType when the wrapped
// Set cannot take v's dynamic type, or the error of a Set(T) error.
func (e *Event[T]) TrySet(v T) error {
	if !e.usable() {
		return errUnusable("Event")
	}
	if e.probe != nil {
		return e.observedSet(v)
	}
	return e.set(v)
}

// Err returns the error of the last Set or Clear that failed (a value of a
// dynamic type the wrapped Set cannot take, or the error of a value's
// Set(T) error or Clear() error), or nil.
func (e *Event[T]) Err() error {
	if !e.usable() {
		return errUnusable("Event")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastErr
}

// Get returns the event's value, or an error matching ErrNoValue when it
// holds none.
func (e *Event[T]) Get() (T, error) {
	if e != nil && e.getT != nil {
		return e.getT.Get() // the hot path: small enough to inline
	}
	if !e.usable() {
		var zero T
		return zero, errUnusable("Event")
	}
	return e.get()
}

// IsSet reports whether the event holds a value.
func (e *Event[T]) IsSet() bool { return e.usable() && e.isSet() }

// Clear empties the event. The error of a value's Clear() error is kept for
// Err; TryClear returns it.
func (e *Event[T]) Clear() { e.keep(e.TryClear()) }

// TryClear is Clear that returns the error of a value's Clear() error.
func (e *Event[T]) TryClear() error {
	if !e.usable() {
		return errUnusable("Event")
	}
	return e.clear()
}

// WaitForNext waits for the next Set, even when a value is held, and returns
// its value; ctx.Err() when ctx ends first.
func (e *Event[T]) WaitForNext(ctx context.Context) (T, error) {
	if ctx == nil {
		var zero T
		return zero, nilCtx("Event.WaitForNext")
	}
	if !e.usable() {
		var zero T
		return zero, errUnusable("Event")
	}
	return e.next(ctx)
}

// Wait returns the event's value if it holds one, else waits for the next
// Set; ctx.Err() when ctx ends first. With the value's own Wait (ValueEvent
// has one) or WaitUntil (a distributed event's) the check and the wait are
// one step; with neither, a Set between them is missed and Wait waits for
// the one after.
func (e *Event[T]) Wait(ctx context.Context) (T, error) {
	if ctx == nil {
		var zero T
		return zero, nilCtx("Event.Wait")
	}
	if e != nil && e.probe != nil {
		return e.observedWait(ctx)
	}
	return e.waitUnobserved(ctx)
}

// waitUnobserved is Wait without the observer.
func (e *Event[T]) waitUnobserved(ctx context.Context) (T, error) {
	var zero T
	switch {
	case !e.usable():
		return zero, errUnusable("Event")
	case e.wait != nil:
		return e.wait(ctx)
	case e.until != nil: // any value will do: the current one, else the next
		return e.until(ctx, func(T) bool { return true })
	case e.isSet():
		if v, err := e.get(); !errors.Is(err, ErrNoValue) {
			return v, err
		}
	}
	return e.next(ctx)
}

// Await is Wait: an event is an awaitable that resolves to its value.
func (e *Event[T]) Await(ctx context.Context) (T, error) { return e.Wait(ctx) }

// AsAwaitable returns the event as an *Awaitable whose Await is the event's
// Wait.
func (e *Event[T]) AsAwaitable() *Awaitable[T] {
	if !e.usable() {
		return nil
	}
	// Observed through the event's Wait, which Await calls directly.
	return &Awaitable[T]{value: e.value, wait: e.Wait, direct: e, derived: true}
}

// WaitOption configures WaitForValue.
type WaitOption[T any] func(*waitConfig[T])

type waitConfig[T any] struct {
	setAtTimeout bool
	equal        func(a, b T) bool
}

// SetAtTimeout makes WaitForValue set the awaited value when ctx's deadline
// passes, waking every waiter (the value then persists), before it returns
// the deadline error. A ctx cancelled for another reason sets nothing.
func SetAtTimeout[T any]() WaitOption[T] {
	return func(c *waitConfig[T]) { c.setAtTimeout = true }
}

// WithEqual sets how WaitForValue compares values. Without it, == is used,
// which needs comparable values.
func WithEqual[T any](equal func(a, b T) bool) WaitOption[T] {
	return func(c *waitConfig[T]) { c.equal = equal }
}

// ErrNotComparable is matched by the error of WaitForValue for a value that
// == cannot compare, when no WithEqual was given.
var ErrNotComparable = errors.New("mixin: values are not comparable (give WithEqual)")

// WaitForValue returns nil once the event holds v: at once if it does, else
// when a Set sets it. When ctx ends first it returns ctx.Err(); with
// SetAtTimeout, a deadline first sets v. Values are compared with WithEqual's
// func, else ==; a type == cannot compare is an error matching
// ErrNotComparable, not a panic, and a v of a dynamic type the wrapped Set
// cannot take (the event could never hold it) one matching ErrType.
//
// Over an event with WaitUntil(ctx, func(T) bool) (T, error) (ValueEvent
// has it), the read and the wait are one step and no Set is missed. Over an
// event without, it reads, then waits for each next Set: a Set in between
// can be missed.
func (e *Event[T]) WaitForValue(ctx context.Context, v T, opts ...WaitOption[T]) error {
	if ctx == nil {
		return nilCtx("Event.WaitForValue")
	}
	if !e.usable() {
		return errUnusable("Event")
	}
	var cfg waitConfig[T]
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if e.param != nil && any(v) == nil {
		// nil through an interface-typed T means the nil of the type the
		// value's Set takes: a typed nil, which is what Set(nil) stored.
		if t, ok := nilOf[T](e.param); ok {
			v = t
		}
	}
	eq := cfg.equal
	if eq == nil {
		var err error
		if eq, err = defaultEqual(v); err != nil {
			return errs.Errorf("WaitForValue on %s: %w", e.name, err)
		}
	}
	if e.param != nil {
		if _, err := reflectx.ArgValue(any(v), e.param); err != nil {
			// Set only takes e.param: the event can never hold v.
			return errs.Errorf("WaitForValue on %s: %v: %w", e.name, err, ErrType)
		}
	}
	var err error
	if e.until != nil { // read and wait in one step
		_, err = e.until(ctx, func(got T) bool { return eq(got, v) })
	} else {
		err = e.waitForValue(ctx, v, eq)
	}
	if err != nil && cfg.setAtTimeout && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if serr := e.set(v); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return err
}

// waitForValue is WaitForValue over an event without WaitUntil: it reads,
// then waits for each next Set, so a Set between the read and the wait (or
// between two waits) can be missed.
func (e *Event[T]) waitForValue(ctx context.Context, v T, eq func(a, b T) bool) error {
	if cur, err := e.get(); err == nil && eq(cur, v) {
		return nil
	}
	for {
		got, err := e.next(ctx)
		if err != nil {
			return err
		}
		if eq(got, v) {
			return nil
		}
	}
}

// defaultEqual returns == for T, checking first that v's type can be
// compared; values of another dynamic type compare unequal.
// nilOf returns the nil of type p as a T, when p has one and T holds it.
func nilOf[T any](p reflect.Type) (T, bool) {
	switch p.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		t, ok := reflect.Zero(p).Interface().(T)
		return t, ok
	}
	var zero T
	return zero, false
}

// defaultEqual returns == for v, or ErrNotComparable when == could panic:
// when T, or v's dynamic value (an interface field holding a slice), is not
// comparable. A v that is comparable compares with any value without a
// panic.
func defaultEqual[T any](v T) (func(a, b T) bool, error) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Interface {
		if !t.Comparable() {
			return nil, errs.Errorf("%s: %w", t, ErrNotComparable)
		}
		if rv := reflect.ValueOf(any(v)); !rv.Comparable() {
			return nil, errs.Errorf("%s holding an uncomparable value: %w", t, ErrNotComparable)
		}
		return func(a, b T) bool { return any(a) == any(b) }, nil
	}
	dt := reflect.TypeOf(any(v))
	if dt != nil && (!dt.Comparable() || !reflect.ValueOf(any(v)).Comparable()) {
		return nil, errs.Errorf("%s: %w", dt, ErrNotComparable)
	}
	return func(a, b T) bool {
		if reflect.TypeOf(any(a)) != dt {
			return false
		}
		return any(a) == any(b)
	}, nil
}

// Stream yields each value set, as observed, until ctx ends or the loop
// breaks (Python's stream_history_for); it starts no goroutine. It uses the
// value's own Stream(ctx) iter.Seq[T] when it has one: over a ValueEvent
// (of any T, also through the Composer's Event[any]) no value set during the
// stream is skipped. Over other events, values set while the loop body runs
// may be.
func (e *Event[T]) Stream(ctx context.Context) iter.Seq[T] {
	if ctx == nil {
		return func(func(T) bool) {}
	}
	if e.usable() && e.seq != nil {
		return e.seq(ctx)
	}
	return func(yield func(T) bool) {
		if !e.usable() {
			return
		}
		for {
			v, err := e.next(ctx)
			if err != nil || !yield(v) {
				return
			}
		}
	}
}
