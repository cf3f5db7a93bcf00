package analysis

import (
	"fmt"
	"go/types"
	"reflect"
	"sort"
	"strings"

	"github.com/gomixin/mixin/validate"
)

// placeholder is the spec shapes' stand-in for the kind's value type T.
var placeholder = reflect.TypeFor[validate.T]()

// rstring writes a go/types type as reflect.Type.String writes the type it
// compiles to, so that messages name types as the run-time check does:
// package names (not paths), byte as uint8, and the empty interface as
// "any" (as the run-time check writes it, in place of reflect's
// "interface {}").
func rstring(t types.Type) string {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		return basicName(t)
	case *types.Named:
		obj := t.Obj()
		name := instanceName(t)
		if obj.Pkg() == nil {
			return name
		}
		return obj.Pkg().Name() + "." + name
	case *types.Pointer:
		return "*" + rstring(t.Elem())
	case *types.Slice:
		return "[]" + rstring(t.Elem())
	case *types.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), rstring(t.Elem()))
	case *types.Map:
		return "map[" + rstring(t.Key()) + "]" + rstring(t.Elem())
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			return "chan<- " + rstring(t.Elem())
		case types.RecvOnly:
			return "<-chan " + rstring(t.Elem())
		}
		if c, ok := types.Unalias(t.Elem()).(*types.Chan); ok && c.Dir() == types.RecvOnly {
			return "chan (" + rstring(t.Elem()) + ")"
		}
		return "chan " + rstring(t.Elem())
	case *types.Signature:
		return "func" + sigString(t, rstring)
	case *types.Interface:
		if t.NumMethods() == 0 {
			return "any"
		}
		var ms []string
		for i := 0; i < t.NumMethods(); i++ {
			m := t.Method(i)
			ms = append(ms, m.Name()+sigString(m.Type().(*types.Signature), rstring))
		}
		sort.Strings(ms)
		return "interface { " + strings.Join(ms, "; ") + " }"
	case *types.Struct:
		if t.NumFields() == 0 {
			return "struct {}"
		}
		var fs []string
		for i := 0; i < t.NumFields(); i++ {
			f := t.Field(i)
			s := rstring(f.Type())
			if !f.Embedded() {
				s = f.Name() + " " + s
			}
			if tag := t.Tag(i); tag != "" {
				s += fmt.Sprintf(" %q", tag)
			}
			fs = append(fs, s)
		}
		return "struct { " + strings.Join(fs, "; ") + " }"
	case *types.TypeParam:
		return t.Obj().Name()
	}
	return t.String()
}

// qualified writes a type argument of a generic type as the run time names
// it: named types with their package path.
func qualified(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string { return p.Path() })
}

func basicName(b *types.Basic) string {
	switch b.Kind() {
	case types.Byte:
		return "uint8"
	case types.Rune:
		return "int32"
	case types.UnsafePointer:
		return "unsafe.Pointer"
	}
	return b.Name()
}

// sigString writes a signature's parameters and results, each type with str.
func sigString(s *types.Signature, str func(types.Type) string) string {
	var b strings.Builder
	b.WriteString("(")
	for i := 0; i < s.Params().Len(); i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		t := s.Params().At(i).Type()
		if s.Variadic() && i == s.Params().Len()-1 {
			b.WriteString("...")
			t = t.(*types.Slice).Elem()
		}
		b.WriteString(str(t))
	}
	b.WriteString(")")
	switch n := s.Results().Len(); {
	case n == 1:
		b.WriteString(" ")
		b.WriteString(str(s.Results().At(0).Type()))
	case n > 1:
		b.WriteString(" (")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(str(s.Results().At(i).Type()))
		}
		b.WriteString(")")
	}
	return b.String()
}

// topString writes a type where a message shows it at the top of a
// signature: the empty interface as "any", as the run-time check does.
func topString(t types.Type) string {
	if isEmptyInterface(t) {
		return "any"
	}
	return rstring(t)
}

func isEmptyInterface(t types.Type) bool {
	if _, named := types.Unalias(t).(*types.Named); named {
		return false
	}
	i, ok := types.Unalias(t).(*types.Interface)
	return ok && i.NumMethods() == 0
}

// haveString writes a method's signature as a message shows what it has.
func haveString(s *types.Signature) string { return "func" + sigString(s, topString) }

// shapeString writes a spec's shape, a reflect func type, as a message shows
// what would do: its T as shown (or "T" when shown is "").
func shapeString(f reflect.Type, shown string) string {
	str := func(t reflect.Type) string {
		switch {
		case resultLike(t):
			return resultString(t)
		case t == placeholder && shown != "":
			return shown
		case t == placeholder:
			return "T"
		case t == reflect.TypeFor[any]():
			return "any"
		}
		return t.String()
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
		b.WriteString(str(in))
	}
	b.WriteString(")")
	switch n := f.NumOut(); {
	case n == 1:
		b.WriteString(" ")
		b.WriteString(str(f.Out(0)))
	case n > 1:
		b.WriteString(" (")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(str(f.Out(i)))
		}
		b.WriteString(")")
	}
	return b.String()
}

// resultString mirrors validate's: a Result-embedding interface written as
// the methods it asks for, "interface { Done() <-chan struct {} }".
func resultString(t reflect.Type) string {
	var parts []string
	for _, m := range resultMethods(t) {
		parts = append(parts, m.Name+strings.TrimPrefix(shapeString(m.Type, ""), "func"))
	}
	return "interface { " + strings.Join(parts, "; ") + " }"
}
