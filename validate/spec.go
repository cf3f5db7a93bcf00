package validate

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// T is the placeholder for the value type in a shape: where a shape says T, a
// method may have any type, as long as every T of one spec is the same type
// (or, when [Spec.T] fixes it, that type). Shapes are written as function types
// without a receiver, e.g. reflect.TypeFor[func(context.Context) (validate.T, error)]().
type T struct{ _ [0]func() }

var placeholder = reflect.TypeFor[T]()

// Spec is a mixin kind's set of abstract methods: what a value must have for
// the kind to attach. A Spec is a plain value; copy it to change it.
type Spec struct {
	// Name is the kind's name, used in messages ("lock").
	Name string
	// Methods are the methods of the spec's main form, in the order errors list them.
	Methods []Method
	// Alternatives are other complete method sets that also satisfy the spec,
	// tried after Methods: a lock may instead be a sync.Locker. Each has a Name
	// ("sync.Locker") and no Alternatives of its own.
	Alternatives []Spec
	// T, when not nil, fixes the placeholder T: a concrete type must match
	// exactly; an interface type accepts any type that implements it and any
	// interface type (checked when called).
	T reflect.Type
	// Refused are types whose methods fit the spec but that the kind must not
	// wrap, each with the reason: methods with preconditions a proxy cannot
	// meet (*sync.Cond's Wait needs its L held). A value is refused, with a
	// ReasonOther problem that gives the reason, when a method the spec
	// names is such a type's: the value is of that type, or the method is
	// promoted to the value's type from an embedded field of that type
	// (a struct embedding *sync.Cond), however deep.
	Refused []Refusal
}

// Refusal is a type a Spec refuses, and why.
type Refusal struct {
	Type reflect.Type
	Why  string
}

// Method is one abstract method of a Spec.
type Method struct {
	// Name is the Go method name ("Acquire").
	Name string
	// Shapes are the function types (no receiver) the method may have, the
	// canonical one first; T in a shape is the placeholder [T].
	Shapes []reflect.Type
	// Optional methods may be absent; when present they must fit a shape.
	Optional bool
	// Hints are names of methods people often have instead ("Unlock" for
	// Release); an error for a missing method mentions one the value has.
	Hints []string
}

// Shape returns the function type F as a shape, for building a Method.
func Shape[F any]() reflect.Type {
	return reflect.TypeFor[F]()
}

// forms returns the spec's main form followed by its alternatives.
func (s *Spec) forms() []Spec {
	out := make([]Spec, 0, 1+len(s.Alternatives))
	out = append(out, Spec{Name: "", Methods: s.Methods})
	for _, a := range s.Alternatives {
		out = append(out, Spec{Name: a.Name, Methods: a.Methods})
	}
	return out
}

// shapeString formats a shape as Go source does, writing the placeholder as T,
// or as the type bound to it.
func shapeString(f reflect.Type, bound reflect.Type) string {
	if f == nil || f.Kind() != reflect.Func {
		return typeString(f, bound)
	}
	var b strings.Builder
	b.WriteString("func(")
	for i := 0; i < f.NumIn(); i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		in := f.In(i)
		if f.IsVariadic() && i == f.NumIn()-1 {
			b.WriteString("...")
			in = in.Elem()
		}
		b.WriteString(typeString(in, bound))
	}
	b.WriteString(")")
	switch n := f.NumOut(); {
	case n == 1:
		b.WriteString(" ")
		b.WriteString(typeString(f.Out(0), bound))
	case n > 1:
		b.WriteString(" (")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(typeString(f.Out(i), bound))
		}
		b.WriteString(")")
	}
	return b.String()
}

func typeString(t reflect.Type, bound reflect.Type) string {
	switch {
	case t == nil:
		return "nil"
	case resultLike(t):
		return resultString(t)
	case t == placeholder && bound != nil:
		return typeName(bound)
	case t == placeholder:
		return "T"
	}
	return typeName(t)
}

// typeName is t as messages show it: as reflect.Type.String, with the empty
// interface written any, as Go code writes it ("*any", not "*interface {}").
func typeName(t reflect.Type) string {
	return strings.ReplaceAll(t.String(), "interface {}", "any")
}

// ErrBadSpec is matched by the error of Spec.Validate, and of Check and Bind
// given a spec that Validate refuses.
var ErrBadSpec = errors.New("mixin: malformed spec")

// Validate reports what makes the spec unusable, every problem at once, in an
// error matching ErrBadSpec: a method with no name or no shapes, a shape that
// is nil or not a func type, a refusal without a type; nil when the spec (and
// each alternative) is well formed. Check, Bind, Satisfies and Missing never
// panic on such a spec: the first two return this error, the others treat a
// malformed shape as one nothing fits.
func (s Spec) Validate() error {
	var probs []string
	walk := func(form string, sp Spec) {
		for i, m := range sp.Methods {
			where := form + "method " + m.Name
			if m.Name == "" {
				where = fmt.Sprintf("%smethod %d", form, i)
				probs = append(probs, where+" has no name")
			}
			if len(m.Shapes) == 0 {
				probs = append(probs, where+" has no shapes")
			}
			for j, sh := range m.Shapes {
				switch {
				case sh == nil:
					probs = append(probs, fmt.Sprintf("%s: shape %d is nil, want a func type", where, j))
				case sh.Kind() != reflect.Func:
					probs = append(probs, fmt.Sprintf("%s: shape %d is %s, want a func type", where, j, sh))
				}
			}
		}
		for i, r := range sp.Refused {
			if r.Type == nil {
				probs = append(probs, fmt.Sprintf("%srefusal %d has no type", form, i))
			}
		}
	}
	walk("", s)
	for _, a := range s.Alternatives {
		walk("alternative "+a.Name+": ", a)
	}
	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrBadSpec, s.Name, strings.Join(probs, "; "))
}

// usable reports whether shape is a func type the matcher can compare with.
func usable(shape reflect.Type) bool { return shape != nil && shape.Kind() == reflect.Func }

// Result, embedded in an interface type that is a shape's result, makes that
// result stand for any type with the interface's other methods, rather than
// for the interface type alone: a Stop that returns something to await may
// return the library's own type (alitto/pond's Stop() pond.Task). A binder of
// such a shape calls the method through reflection and asserts its result to
// the methods it needs.
//
//	interface{ Stop() interface{ validate.Result; Done() <-chan struct{} } }
type Result interface{ result() }

var resultMarker = reflect.TypeFor[Result]()

// resultLike reports whether t is an interface type that embeds Result.
func resultLike(t reflect.Type) bool {
	return t != nil && t != resultMarker && t.Kind() == reflect.Interface && t.Implements(resultMarker)
}

// resultMethods are the methods of a Result-embedding interface type other
// than Result's own.
func resultMethods(t reflect.Type) []reflect.Method {
	var out []reflect.Method
	for i := 0; i < t.NumMethod(); i++ {
		if m := t.Method(i); m.PkgPath == "" {
			out = append(out, m)
		}
	}
	return out
}

// hasResultMethods reports whether have (a concrete or interface type) has
// every method that the Result-embedding interface want lists.
func hasResultMethods(have, want reflect.Type) bool {
	for _, m := range resultMethods(want) {
		hm, ok := have.MethodByName(m.Name)
		if !ok {
			return false
		}
		sig := hm.Type
		if have.Kind() != reflect.Interface { // drop the receiver
			in := make([]reflect.Type, 0, sig.NumIn()-1)
			for i := 1; i < sig.NumIn(); i++ {
				in = append(in, sig.In(i))
			}
			out := make([]reflect.Type, 0, sig.NumOut())
			for i := 0; i < sig.NumOut(); i++ {
				out = append(out, sig.Out(i))
			}
			sig = reflect.FuncOf(in, out, sig.IsVariadic())
		}
		if sig != m.Type {
			return false
		}
	}
	return true
}

// resultString writes a Result-embedding interface as the methods it asks
// for: "interface { Done() <-chan struct {} }".
func resultString(t reflect.Type) string {
	var parts []string
	for _, m := range resultMethods(t) {
		parts = append(parts, m.Name+strings.TrimPrefix(shapeString(m.Type, nil), "func"))
	}
	return "interface { " + strings.Join(parts, "; ") + " }"
}
