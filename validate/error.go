package validate

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrAbstract is matched (with errors.Is) by every *AbstractError: a value
// lacks what a mixin needs. It is Python's "Can't instantiate abstract class".
var ErrAbstract = errors.New("mixin: abstract methods not implemented")

// ErrNilValue is matched (with errors.Is) by an *AbstractError refusing nil or
// a nil pointer, which can carry no behaviour.
var ErrNilValue = errors.New("mixin: nil value")

// Reason says what is wrong in a Problem.
type Reason int

// The reasons a value is refused, in the order errors list them.
const (
	// ReasonNil: the value is nil or a nil pointer.
	ReasonNil Reason = iota
	// ReasonMissing: a required method is absent.
	ReasonMissing
	// ReasonSignature: the method exists, but its signature fits no shape.
	ReasonSignature
	// ReasonPointerReceiver: only the pointer type has the method.
	ReasonPointerReceiver
	// ReasonOther: a check beyond the method set failed; Hint says what.
	ReasonOther
)

// Problem is one reason a value cannot be composed as one kind.
type Problem struct {
	// Kind is the Spec's name.
	Kind string
	// Form is the name of the alternative form reported, "" for the main form.
	Form string
	// Method is the abstract method concerned, "" for ReasonNil and some ReasonOther.
	Method string
	// Reason is what is wrong.
	Reason Reason
	// Have is the method's signature (without receiver), for ReasonSignature
	// and ReasonPointerReceiver.
	Have reflect.Type
	// Want lists the accepted shapes, formatted, for ReasonSignature.
	Want []string
	// Hint is a near-miss note ("but does have method Unlock") or, for
	// ReasonOther, the whole explanation.
	Hint string
	// Alternatives, on the last missing method of a kind with other forms
	// when the value has the methods of none, are what each other form needs:
	// "Close (io.Closer)", "Lock and Unlock (sync.Locker, an error locker)".
	Alternatives []string
}

// Near reports whether the problem shows that the value was meant to be of
// the kind: it has the method with another signature or on the pointer
// type, a method one typo away from it, or a check beyond the method set
// failed. A missing method whose only note is a method the value has under
// another common name ("but does have method Value" for Get) is not near.
func (p Problem) Near() bool {
	switch p.Reason {
	case ReasonSignature, ReasonPointerReceiver, ReasonOther:
		return true
	case ReasonMissing:
		return strings.HasSuffix(p.Hint, typoSuffix(p.Method))
	}
	return false
}

// AbstractError refuses a value that lacks the abstract methods of one or more
// kinds. It lists every problem at once. It matches ErrAbstract with errors.Is,
// and ErrNilValue when the value is nil. With %v it prints on one line; with
// %+v as an itemised list, one problem a line.
type AbstractError struct {
	// Type is the value's dynamic type, nil for an untyped nil.
	Type reflect.Type
	// Kinds are the kinds that could not be composed, in check order.
	Kinds []string
	// Missing are the names of absent required methods, each once.
	Missing []string
	// Problems are all the problems, grouped by kind in check order; within a
	// kind: missing methods, then signatures, then pointer receivers.
	Problems []Problem

	name string // type name for synthetic types
}

func newAbstractError(info *typeInfo, probs []Problem) *AbstractError {
	e := &AbstractError{Type: info.t, Problems: probs, name: info.name}
	for _, p := range probs {
		e.Kinds = appendOnce(e.Kinds, p.Kind)
		if p.Reason == ReasonMissing {
			e.Missing = appendOnce(e.Missing, p.Method)
		}
	}
	return e
}

// Join merges AbstractErrors about the same value into one, keeping every
// problem. Errors of other types are ignored; it returns nil when none is left.
func Join(errs ...error) *AbstractError {
	var out *AbstractError
	for _, err := range errs {
		var e *AbstractError
		if !errors.As(err, &e) {
			continue
		}
		if out == nil {
			out = &AbstractError{Type: e.Type, name: e.name}
		}
		for _, p := range e.Problems {
			out.Problems = append(out.Problems, p)
			if p.Reason == ReasonMissing {
				out.Missing = appendOnce(out.Missing, p.Method)
			}
		}
		for _, k := range e.Kinds {
			out.Kinds = appendOnce(out.Kinds, k)
		}
	}
	return out
}

// Is reports whether target is ErrAbstract, or ErrNilValue for a nil value.
func (e *AbstractError) Is(target error) bool {
	if target == ErrAbstract {
		return true
	}
	if target == ErrNilValue {
		for _, p := range e.Problems {
			if p.Reason == ReasonNil {
				return true
			}
		}
	}
	return false
}

// TypeName is the value's type as messages show it: "*shop.Cache", "nil".
func (e *AbstractError) TypeName() string {
	switch {
	case e.Type != nil:
		return typeName(e.Type)
	case e.name != "":
		return e.name
	}
	return "nil"
}

// Error returns the one-line form:
//
//	mixin: can't compose *shop.Cache as lock: missing abstract methods Locked, Release; ...
func (e *AbstractError) Error() string {
	var b strings.Builder
	b.WriteString("mixin: can't compose ")
	b.WriteString(e.subject())
	for i, kind := range e.kindsInOrder() {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" as ")
		b.WriteString(kindLabel(kind, e.formOf(kind)))
		b.WriteString(": ")
		b.WriteString(strings.Join(e.kindSummary(kind), "; "))
	}
	return b.String()
}

// Format prints Error() for %v and %s, and an itemised list for %+v.
func (e *AbstractError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		fmt.Fprintf(f, "mixin: can't compose %s", e.subject())
		if pkg := e.pkgPath(); strings.Contains(pkg, "/") {
			// The type's name says only the last element of its path.
			fmt.Fprintf(f, " (package %s)", pkg)
		}
		_, _ = f.Write([]byte(":"))
		for _, p := range e.Problems {
			fmt.Fprintf(f, "\n    %s: %s", kindLabel(p.Kind, p.Form), e.problemText(p))
			if len(p.Alternatives) > 0 {
				fmt.Fprintf(f, "\n    %s: %s", kindLabel(p.Kind, p.Form), orAlternatives(p.Alternatives)[2:])
			}
		}
		return
	}
	if verb == 'q' {
		fmt.Fprintf(f, "%q", e.Error())
		return
	}
	_, _ = f.Write([]byte(e.Error()))
}

// pkgPath is the import path of the type's package (of its element for an
// unnamed pointer), "" for an unnamed or predeclared type.
func (e *AbstractError) pkgPath() string {
	switch {
	case e.Type == nil:
		return ""
	case e.Type.PkgPath() == "" && e.Type.Kind() == reflect.Pointer:
		return e.Type.Elem().PkgPath()
	}
	return e.Type.PkgPath()
}

func (e *AbstractError) subject() string {
	if e.Type != nil && e.isNil() {
		return "(" + typeName(e.Type) + ")(nil)"
	}
	return e.TypeName()
}

func (e *AbstractError) isNil() bool {
	return len(e.Problems) > 0 && e.Problems[0].Reason == ReasonNil
}

func (e *AbstractError) kindsInOrder() []string {
	var ks []string
	for _, p := range e.Problems {
		ks = appendOnce(ks, p.Kind)
	}
	if len(ks) == 0 {
		ks = e.Kinds
	}
	return ks
}

func (e *AbstractError) formOf(kind string) string {
	for _, p := range e.Problems {
		if p.Kind == kind {
			return p.Form
		}
	}
	return ""
}

func kindLabel(kind, form string) string {
	if kind == "" {
		kind = "any kind"
	}
	if form == "" {
		return kind
	}
	return kind + " (as " + form + ")"
}

// kindSummary groups one kind's problems into the phrases of the one-line form.
func (e *AbstractError) kindSummary(kind string) []string {
	var missing, ptr, alts []string
	var out []string
	for _, p := range e.Problems {
		if p.Kind != kind {
			continue
		}
		switch p.Reason {
		case ReasonMissing:
			s := p.Method
			if p.Hint != "" {
				s += " (" + p.Hint + ")"
			}
			missing = append(missing, s)
			alts = append(alts, p.Alternatives...)
		case ReasonPointerReceiver:
			ptr = append(ptr, p.Method)
		}
	}
	if len(missing) == 1 {
		out = append(out, "missing abstract method "+missing[0]+orAlternatives(alts))
	} else if len(missing) > 1 {
		out = append(out, "missing abstract methods "+strings.Join(missing, ", ")+orAlternatives(alts))
	}
	for _, p := range e.Problems {
		if p.Kind == kind && (p.Reason == ReasonSignature || p.Reason == ReasonNil || p.Reason == ReasonOther) {
			out = append(out, e.problemText(p))
		}
	}
	if len(ptr) == 1 {
		out = append(out, "method "+ptr[0]+" has pointer receiver"+e.addrHint())
	} else if len(ptr) > 1 {
		out = append(out, "methods "+strings.Join(ptr, ", ")+" have pointer receivers"+e.addrHint())
	}
	return out
}

func (e *AbstractError) addrHint() string {
	if e.Type == nil {
		return ""
	}
	return " (compose &v, a " + typeName(reflect.PointerTo(e.Type)) + ")"
}

func (e *AbstractError) problemText(p Problem) string {
	switch p.Reason {
	case ReasonNil:
		if e.Type == nil {
			return "value is nil"
		}
		return "value is a nil pointer"
	case ReasonMissing:
		s := "missing abstract method " + p.Method
		if p.Hint != "" {
			s += " (" + p.Hint + ")"
		}
		return s
	case ReasonSignature:
		s := p.Method + " has signature " + shapeString(p.Have, nil) + ", want " + p.Want[0]
		switch n := len(p.Want) - 1; n {
		case 0:
		case 1:
			s += " or " + p.Want[1]
		default: // every accepted shape, so that the author can pick one
			s += " or one of " + strings.Join(p.Want[1:], " | ")
		}
		if p.Hint != "" {
			s += " (" + p.Hint + ")"
		}
		return s
	case ReasonPointerReceiver:
		return "method " + p.Method + " has pointer receiver" + e.addrHint()
	}
	return p.Hint
}

// orAlternatives is the note after missing methods that the other forms of
// the kind would have needed instead.
func orAlternatives(alts []string) string {
	if len(alts) == 0 {
		return ""
	}
	if len(alts) == 1 {
		return ", or instead " + alts[0]
	}
	return ", or instead " + strings.Join(alts[:len(alts)-1], ", ") + " or " + alts[len(alts)-1]
}
