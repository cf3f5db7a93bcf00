package adapters

import (
	"errors"
	"reflect"

	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/internal/reflectx"
	"github.com/gomixin/mixin/internal/typecache"
	"github.com/gomixin/mixin/validate"
)

var anyType = reflect.TypeFor[any]()

// kindSpec is one mixin kind's spec with a per-type cache of what checking a
// type against it found, so that a second value of a seen type is bound with
// a map look-up and typed assertions only.
type kindSpec struct {
	spec  validate.Spec
	cache typecache.Cache[matchResult]
}

type matchResult struct {
	m   *validate.Match
	err error
}

// match checks v against the spec with T fixed to t (nil: free).
func (k *kindSpec) match(v any, t reflect.Type) (*validate.Match, error) {
	if v == nil || reflectx.IsNilPointer(v) {
		return validate.Bind(v, k.spec)
	}
	r := k.cache.Get(typecache.KeyOf(v, t), func() matchResult {
		s := k.spec
		s.T = t
		m, err := validate.Bind(v, s)
		return matchResult{m, err}
	})
	return r.m, r.err
}

// copySpec returns the spec with its own Methods slice, so callers may edit it.
func (k *kindSpec) copySpec() validate.Spec {
	s := k.spec
	s.Methods = append([]validate.Method(nil), s.Methods...)
	s.Alternatives = append([]validate.Spec(nil), s.Alternatives...)
	s.Refused = append([]validate.Refusal(nil), s.Refused...)
	return s
}

// typeArg returns the reflect.Type of a proxy's type argument, nil for any
// (which leaves the placeholder free).
func typeArg[T any]() reflect.Type {
	t := reflect.TypeFor[T]()
	if t == anyType {
		return nil
	}
	return t
}

// asT converts a reflected result to T; a nil interface gives T's zero value.
// It fails when the dynamic value is not a T (an interface-typed result
// holding another type).
func asT[T any](rv reflect.Value) (T, error) {
	var zero T
	if !rv.IsValid() || (rv.Kind() == reflect.Interface && rv.IsNil()) {
		return zero, nil
	}
	t, ok := rv.Interface().(T)
	if !ok {
		return zero, errs.Errorf("method returned %s, not a %s: %w", rv.Elem().Type(), reflect.TypeFor[T](), ErrType)
	}
	return t, nil
}

// ErrType is matched by the error a proxy returns when a value crossing it at
// run time is not of the type the other side needs (possible only through a
// proxy whose T is an interface type, as the Composer's are).
var ErrType = errors.New("mixin: wrong dynamic type")

// asError converts a reflected error result.
func asError(rv reflect.Value) error {
	if rv.IsNil() {
		return nil
	}
	return rv.Interface().(error)
}
