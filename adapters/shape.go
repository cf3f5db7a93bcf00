package adapters

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/gomixin/mixin/validate"
)

// A shape is one signature an abstract method may have, with its binder: the
// code that turns a value having the method in that signature into the
// proxy's canonical func F. Both come from one declaration, a one-method
// interface, so the spec the ABC check reads, the messages it writes and the
// binding cannot disagree, and adding a shape is adding one row:
//
//	row(func(x interface{ Release() error }) func(context.Context) error {
//		return func(context.Context) error { return x.Release() }
//	})
//
// Shapes that mention the kind's value type T are made by a func generic in
// T; instantiated with the placeholder validate.T it gives the spec's shapes,
// with the proxy's T the binders.
type shape[F any] struct {
	typ  reflect.Type          // the method's type without receiver, as the spec lists it
	name string                // the method's name
	bind func(v any) (F, bool) // false when v's method has another T than the proxy's
	// viaReflect binds in that case, calling the method through reflection
	// (a Context[any] over Enter() *os.File); nil for shapes without T.
	viaReflect func(rm reflect.Value) F
}

// row makes a shape from a one-method interface I and the binder of a value
// that implements it.
func row[I, F any](bind func(I) F) shape[F] {
	it := reflect.TypeFor[I]()
	if it.Kind() != reflect.Interface || it.NumMethod() != 1 {
		panic(fmt.Sprintf("adapters: a shape row needs a one-method interface, not %s", it))
	}
	return shape[F]{
		typ:  it.Method(0).Type,
		name: it.Method(0).Name,
		bind: func(v any) (F, bool) {
			x, ok := v.(I)
			if !ok {
				var zero F
				return zero, false
			}
			return bind(x), true
		},
	}
}

// orReflect adds the reflective binder of a shape that mentions T.
func (s shape[F]) orReflect(viaReflect func(rm reflect.Value) F) shape[F] {
	s.viaReflect = viaReflect
	return s
}

// methodRows is one abstract method: its shapes in the order they are tried, the
// canonical one first.
type methodRows[F any] struct {
	shapes   []shape[F]
	optional bool
	hints    []string
}

// abstract declares a required method from its shapes.
func abstract[F any](hints []string, shapes ...shape[F]) methodRows[F] {
	for _, s := range shapes[1:] {
		if s.name != shapes[0].name {
			panic(fmt.Sprintf("adapters: shapes of %s and %s in one method", shapes[0].name, s.name))
		}
	}
	return methodRows[F]{shapes: shapes, hints: hints}
}

// optional declares an optional method from its shapes.
func optional[F any](shapes ...shape[F]) methodRows[F] {
	m := abstract(nil, shapes...)
	m.optional = true
	return m
}

// spec returns the method as the validate engine reads it.
func (m methodRows[F]) spec() validate.Method {
	out := validate.Method{Name: m.shapes[0].name, Optional: m.optional, Hints: m.hints}
	for _, s := range m.shapes {
		out.Shapes = append(out.Shapes, s.typ)
	}
	return out
}

// bind binds the method as the match says v has it; ok is false when an
// optional method is absent.
func (m methodRows[F]) bind(v any, match *validate.Match) (f F, ok bool) {
	b, ok := match.Method(m.shapes[0].name)
	if !ok {
		return f, false
	}
	s := m.shapes[b.Shape]
	if f, ok := s.bind(v); ok {
		return f, true
	}
	if s.viaReflect == nil {
		// The check said v has this shape, and it mentions no T: v
		// implements the row's interface, so this cannot happen.
		panic(fmt.Sprintf("adapters: %T does not have the %s it was matched with", v, s.typ))
	}
	rm := reflect.ValueOf(v).Method(b.Index)
	if f, ok := bindCompiled[F](v, s.name, rm.Type()); ok {
		return f, true // the rows compiled for the method's X (RegisterType)
	}
	return s.viaReflect(rm), true
}

// must binds a method the match guarantees (required in the matched form).
func (m methodRows[F]) must(v any, match *validate.Match) F {
	f, _ := m.bind(v, match)
	return f
}

// form is one complete method set that satisfies a kind, with the binder
// that makes the proxy's canonical F from a value matched with it. A kind's
// first form is its own methods; the others are the alternatives, tried in
// order (a lock may instead be a sync.Locker).
type form[F any] struct {
	name    string // how messages name an alternative ("io.Closer"); "" for the first
	methods []validate.Method
	bind    func(v any, m *validate.Match) F
}

// specOf makes a kind's spec from its forms.
func specOf[F any](kind string, forms ...form[F]) validate.Spec {
	s := validate.Spec{Name: kind, Methods: forms[0].methods}
	for _, f := range forms[1:] {
		s.Alternatives = append(s.Alternatives, validate.Spec{Name: f.name, Methods: f.methods})
	}
	return s
}

// bindForm binds v by the form it matched.
func bindForm[F any](forms []form[F], v any, m *validate.Match) F {
	return forms[m.Form].bind(v, m)
}

// methods lists the specs of a form's methods.
func methods(ms ...validate.Method) []validate.Method { return ms }

// perT caches what a func generic in the proxy's T builds, once per T. Each
// use has its own; the key is T's reflect.Type (no allocation to look up).
type perT struct{ m sync.Map } // reflect.Type -> X

var (
	enterCache, waitCache, awaitableCache, eventCache perT
)

func cachedForT[T, X any](c *perT, build func() X) X {
	k := reflect.TypeFor[T]()
	if x, ok := c.m.Load(k); ok {
		return x.(X)
	}
	x, _ := c.m.LoadOrStore(k, build())
	return x.(X)
}

// callT calls a method through reflection and converts its results (T),
// (T, error) or (T, bool), the bool false meaning ErrNoValue.
func callT[T any](rm reflect.Value, in ...reflect.Value) (T, error) {
	out := rm.Call(in)
	t, err := asT[T](out[0])
	if err != nil || len(out) == 1 {
		return t, err
	}
	if out[1].Kind() == reflect.Bool {
		if !out[1].Bool() {
			return t, ErrNoValue
		}
		return t, nil
	}
	return t, asError(out[1])
}

// ctxArg is ctx as a reflected argument.
func ctxArg(ctx context.Context) reflect.Value { return reflect.ValueOf(&ctx).Elem() }
