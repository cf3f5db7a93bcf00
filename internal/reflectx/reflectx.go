// Package reflectx holds the small reflection helpers the library's packages
// share, so that each is written once.
package reflectx

import (
	"fmt"
	"reflect"
)

// IsNilPointer reports whether v is a typed nil pointer.
func IsNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// IsPointerToInterface reports whether v is a pointer to an interface (an
// *any), whose method set is empty whatever it points to.
func IsPointerToInterface(v any) bool {
	t := reflect.TypeOf(v)
	return t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Interface
}

// ArgValue converts a to an argument for a parameter of type t, or says why
// it cannot: nil stands for the zero value of a type that can be nil.
func ArgValue(a any, t reflect.Type) (reflect.Value, error) {
	if a == nil {
		switch t.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
			return reflect.Zero(t), nil
		}
		return reflect.Value{}, fmt.Errorf("nil is not a %s", t)
	}
	rv := reflect.ValueOf(a)
	if !rv.Type().AssignableTo(t) {
		return reflect.Value{}, fmt.Errorf("a %s is not a %s", rv.Type(), t)
	}
	return rv, nil
}
