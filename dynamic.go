package mixin

import (
	"reflect"

	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/internal/reflectx"
	"github.com/gomixin/mixin/validate"
)

// Dynamic is the proxy of a user-defined kind declared without a build func:
// it calls the value's abstract methods by name, checking the arguments first,
// so that a wrong call is an error rather than a panic.
type Dynamic struct {
	value   any
	methods map[string]reflect.Value
}

func newDynamic(v any, spec validate.Spec) (*Dynamic, error) {
	m, err := validate.Bind(v, spec)
	if err != nil {
		return nil, err
	}
	d := &Dynamic{value: v, methods: map[string]reflect.Value{}}
	rv := reflect.ValueOf(v)
	for _, meth := range spec.Methods {
		if b, ok := m.Method(meth.Name); ok {
			d.methods[meth.Name] = rv.Method(b.Index)
		}
	}
	for _, alt := range spec.Alternatives {
		for _, meth := range alt.Methods {
			if b, ok := m.Method(meth.Name); ok {
				d.methods[meth.Name] = rv.Method(b.Index)
			}
		}
	}
	return d, nil
}

// Value returns the wrapped value.
func (d *Dynamic) Value() any { return d.value }

// Has reports whether the value has the named abstract method.
func (d *Dynamic) Has(name string) bool {
	_, ok := d.methods[name]
	return ok
}

// Call calls the named abstract method with args and returns its results. A
// method the spec does not name (or an optional one the value lacks), a wrong
// number of arguments or an argument of the wrong type is an error; nil
// stands for the zero value of a parameter that can be nil.
func (d *Dynamic) Call(name string, args ...any) ([]any, error) {
	fn, ok := d.methods[name]
	if !ok {
		return nil, errs.Errorf("%T has no abstract method %s", d.value, name)
	}
	ft := fn.Type()
	if ft.IsVariadic() {
		if len(args) < ft.NumIn()-1 {
			return nil, errs.Errorf("%s takes at least %d arguments, got %d", name, ft.NumIn()-1, len(args))
		}
	} else if len(args) != ft.NumIn() {
		return nil, errs.Errorf("%s takes %d arguments, got %d", name, ft.NumIn(), len(args))
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		var pt reflect.Type
		if ft.IsVariadic() && i >= ft.NumIn()-1 {
			pt = ft.In(ft.NumIn() - 1).Elem()
		} else {
			pt = ft.In(i)
		}
		v, err := reflectx.ArgValue(a, pt)
		if err != nil {
			return nil, errs.Errorf("%s argument %d: %w", name, i+1, err)
		}
		in[i] = v
	}
	out := fn.Call(in)
	res := make([]any, len(out))
	for i, o := range out {
		res[i] = o.Interface()
	}
	return res, nil
}
