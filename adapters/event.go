package adapters

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"sync"

	"github.com/gomixin/mixin/internal/reflectx"
	"github.com/gomixin/mixin/validate"
)

// ErrNoValue is matched by the error of Get on an event that holds no value:
// Python's EventValueError.
var ErrNoValue = errors.New("mixin: event holds no value")

// The Event kind: Python's EventMixin. Abstract: Clear, Get, IsSet, Set,
// WaitForNext; optional: Wait (used when present: it can check and wait in
// one step, which the proxy cannot do from outside).
var eventKind = &kindSpec{spec: validate.Spec{
	Name: "event",
	Methods: []validate.Method{
		{Name: "Clear", Shapes: []reflect.Type{validate.Shape[func()]()}, Hints: []string{"Reset"}},
		{Name: "Get", Shapes: []reflect.Type{
			validate.Shape[func() (validate.T, error)](),
			validate.Shape[func() (validate.T, bool)](),
		}, Hints: []string{"Value", "Load"}},
		{Name: "IsSet", Shapes: []reflect.Type{validate.Shape[func() bool]()}, Hints: []string{"Set", "Ready"}},
		{Name: "Set", Shapes: []reflect.Type{validate.Shape[func(validate.T)]()}, Hints: []string{"Store", "Fire"}},
		{Name: "WaitForNext", Shapes: []reflect.Type{validate.Shape[func(context.Context) (validate.T, error)]()}, Hints: []string{"Next", "Wait"}},
		{Name: "Wait", Shapes: []reflect.Type{validate.Shape[func(context.Context) (validate.T, error)]()}, Optional: true},
	},
}}

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
	clear func()
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

// NewEvent composes v as an event. v needs Clear(), Get() (T, error) or
// Get() (T, bool), IsSet() bool, Set(T) and WaitForNext(ctx) (T, error); an
// optional Wait(ctx) (T, error) is used by the proxy's Wait. A value that
// does not fit is refused with a *validate.AbstractError naming every
// problem.
func NewEvent[T any](v any) (*Event[T], error) {
	m, err := eventKind.match(v, typeArg[T]())
	if err != nil {
		return nil, err
	}
	e := &Event[T]{value: v, name: reflect.TypeOf(v).String()}
	e.clear = v.(interface{ Clear() }).Clear
	e.isSet = v.(interface{ IsSet() bool }).IsSet
	e.get = bindGet[T](v, m)
	if x, ok := v.(getterT[T]); ok {
		e.getT = x
	}
	e.set = bindSet[T](v, m)
	if x, ok := v.(interface {
		WaitForNext(context.Context) (T, error)
	}); ok {
		e.next = x.WaitForNext
	} else {
		e.next = reflectCtxT[T](v, m, "WaitForNext")
	}
	if _, ok := m.Method("Wait"); ok {
		if x, ok := v.(interface {
			Wait(context.Context) (T, error)
		}); ok {
			e.wait = x.Wait
		} else {
			e.wait = reflectCtxT[T](v, m, "Wait")
		}
	}
	e.bindFollowers(v)
	if _, ok := v.(interface{ Set(T) }); !ok {
		e.param = method(v, m, "Set").Type().In(0)
	}
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
	f, ok := v.(anyFollower)
	if !ok || reflect.TypeFor[T]().Kind() != reflect.Interface {
		return
	}
	if e.until == nil {
		e.until = func(ctx context.Context, match func(T) bool) (T, error) {
			got, err := f.waitUntilAny(ctx, func(x any) bool {
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

func bindGet[T any](v any, m *validate.Match) func() (T, error) {
	b, _ := m.Method("Get")
	if b.Shape == 0 {
		if x, ok := v.(interface{ Get() (T, error) }); ok {
			return x.Get
		}
	} else if x, ok := v.(interface{ Get() (T, bool) }); ok {
		return func() (T, error) {
			t, ok := x.Get()
			if !ok {
				return t, ErrNoValue
			}
			return t, nil
		}
	}
	rm := method(v, m, "Get")
	shape := b.Shape
	return func() (T, error) {
		out := rm.Call(nil)
		t, err := asT[T](out[0])
		if err != nil {
			return t, err
		}
		if shape == 1 {
			if !out[1].Bool() {
				return t, ErrNoValue
			}
			return t, nil
		}
		return t, asError(out[1])
	}
}

func bindSet[T any](v any, m *validate.Match) func(T) error {
	if x, ok := v.(interface{ Set(T) }); ok {
		return func(t T) error { x.Set(t); return nil }
	}
	// Set takes a concrete type and T is an interface type: check the
	// dynamic type of each value before calling.
	rm := method(v, m, "Set")
	param := rm.Type().In(0)
	return func(t T) error {
		arg, err := reflectx.ArgValue(any(t), param)
		if err != nil {
			return fmt.Errorf("mixin: Set on %s: %v: %w", reflect.TypeOf(v), err, ErrType)
		}
		rm.Call([]reflect.Value{arg})
		return nil
	}
}

// reflectCtxT calls a method of the shape func(ctx) (X, error) through
// reflection, for a proxy whose T is an interface type and X a concrete one.
func reflectCtxT[T any](v any, m *validate.Match, name string) func(context.Context) (T, error) {
	rm := method(v, m, name)
	return func(ctx context.Context) (T, error) {
		out := rm.Call([]reflect.Value{reflect.ValueOf(&ctx).Elem()})
		t, err := asT[T](out[0])
		if err != nil {
			return t, err
		}
		return t, asError(out[1])
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
// is an interface type) is not set: use TrySet to get that error, or Err.
func (e *Event[T]) Set(v T) {
	if err := e.TrySet(v); err != nil && e.usable() {
		e.mu.Lock()
		e.lastErr = err
		e.mu.Unlock()
	}
}

// TrySet is Set that returns an error matching ErrType when the wrapped Set
// cannot take v's dynamic type, instead of setting nothing silently.
func (e *Event[T]) TrySet(v T) error {
	if !e.usable() {
		return errUnusable("Event")
	}
	return e.set(v)
}

// Err returns the error of the last Set that was refused for its value's
// dynamic type, or nil.
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

// Clear empties the event.
func (e *Event[T]) Clear() {
	if e.usable() {
		e.clear()
	}
}

// WaitForNext waits for the next Set, even when a value is held, and returns
// its value; ctx.Err() when ctx ends first.
func (e *Event[T]) WaitForNext(ctx context.Context) (T, error) {
	if !e.usable() {
		var zero T
		return zero, errUnusable("Event")
	}
	return e.next(ctx)
}

// Wait returns the event's value if it holds one, else waits for the next
// Set; ctx.Err() when ctx ends first. With the value's own Wait (ValueEvent
// has one) the check and the wait are one step; without, a Set between them
// is missed and Wait waits for the one after.
func (e *Event[T]) Wait(ctx context.Context) (T, error) {
	var zero T
	switch {
	case !e.usable():
		return zero, errUnusable("Event")
	case e.wait != nil:
		return e.wait(ctx)
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
	return &Awaitable[T]{value: e.value, wait: e.Wait}
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
	if !e.usable() {
		return errUnusable("Event")
	}
	var cfg waitConfig[T]
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	eq := cfg.equal
	if eq == nil {
		var err error
		if eq, err = defaultEqual(v); err != nil {
			return fmt.Errorf("mixin: WaitForValue on %s: %w", e.name, err)
		}
	}
	if e.param != nil {
		if _, err := reflectx.ArgValue(any(v), e.param); err != nil {
			// Set only takes e.param: the event can never hold v.
			return fmt.Errorf("mixin: WaitForValue on %s: %v: %w", e.name, err, ErrType)
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
func defaultEqual[T any](v T) (func(a, b T) bool, error) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Interface {
		if !t.Comparable() {
			return nil, fmt.Errorf("%s: %w", t, ErrNotComparable)
		}
		return func(a, b T) bool { return any(a) == any(b) }, nil
	}
	dt := reflect.TypeOf(any(v))
	if dt != nil && !dt.Comparable() {
		return nil, fmt.Errorf("%s: %w", dt, ErrNotComparable)
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
