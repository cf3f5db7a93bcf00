package validate

import (
	"errors"
	"reflect"
	"strings"

	"github.com/gomixin/mixin/internal/typecache"
)

// Match is how a value's type satisfies a Spec: which form matched, which
// method and shape serve each abstract method, and what T stands for.
// A Match is immutable and may be shared.
type Match struct {
	// Type is the value's dynamic type.
	Type reflect.Type
	// Form is 0 when the spec's own Methods matched, i when Alternatives[i-1] did.
	Form int
	// Bound is the type the placeholder T stands for, nil when no method used T.
	Bound reflect.Type
	// Ignored, when a later form matched (Form > 0), are the problems of the
	// spec's main form if the value has methods of it that look like a
	// mistake: one with the main form's name but a signature no shape fits,
	// or a name one edit from a missing one. The value composes all the
	// same; NearMiss says it in words.
	Ignored []Problem
	methods []Bound
}

// NearMiss describes the Ignored problems, "" when there are none: "Acquire
// has signature func() int, want ...; missing abstract method Release
// (Relase: did you mean Release?)".
func (m *Match) NearMiss() string {
	if m == nil || len(m.Ignored) == 0 {
		return ""
	}
	e := &AbstractError{Type: m.Type, Problems: m.Ignored}
	return strings.Join(e.kindSummary(m.Ignored[0].Kind), "; ")
}

// Bound says how one abstract method of a Spec is served.
type Bound struct {
	// Name is the method's name.
	Name string
	// Index is the method's index in the value type's method set, -1 when an
	// optional method is absent.
	Index int
	// Shape is the index of the matching shape in Method.Shapes, -1 when absent.
	Shape int
}

// Method returns how the named method is served; ok is false when the matched
// form has no such method or the optional method is absent.
func (m *Match) Method(name string) (Bound, bool) {
	for _, b := range m.methods {
		if b.Name == name {
			return b, b.Index >= 0
		}
	}
	return Bound{Name: name, Index: -1, Shape: -1}, false
}

// Has reports whether the value has at least one of the matched form's
// methods, required or optional.
func (m *Match) Has() bool {
	for _, b := range m.methods {
		if b.Index >= 0 {
			return true
		}
	}
	return false
}

// Bind checks v against spec and says how v satisfies it. It returns a
// *AbstractError (matching ErrAbstract) listing every problem when v does not.
// The method scan of v's type is done once and cached.
func Bind(v any, spec Spec) (*Match, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	info, err := infoFor(v, spec.Name)
	if err != nil {
		return nil, err
	}
	m, probs := bindInfo(info, &spec)
	if len(probs) > 0 {
		return nil, newAbstractError(info, probs)
	}
	return m, nil
}

// Check returns nil when v satisfies every spec, and otherwise one
// *AbstractError that lists every problem of every spec, in spec order.
func Check(v any, specs ...Spec) error {
	names := make([]string, 0, len(specs))
	var bad []error
	for _, s := range specs {
		names = append(names, s.Name)
		if err := s.Validate(); err != nil {
			bad = append(bad, err)
		}
	}
	if len(bad) > 0 {
		return errors.Join(bad...)
	}
	info, err := infoFor(v, names...)
	if err != nil {
		return err
	}
	return checkInfo(info, specs)
}

func checkInfo(info *typeInfo, specs []Spec) error {
	var all []Problem
	for i := range specs {
		_, probs := bindInfo(info, &specs[i])
		all = append(all, probs...)
	}
	if len(all) > 0 {
		return newAbstractError(info, all)
	}
	return nil
}

// Satisfies reports whether v satisfies spec.
func Satisfies(v any, spec Spec) bool {
	_, err := Bind(v, spec)
	return err == nil
}

// Missing returns the names of spec's required methods that v lacks, or whose
// signature fits no shape, in spec order: Python's __abstractmethods__. It is
// empty when v satisfies spec. For a nil value every required method is missing.
func Missing(v any, spec Spec) []string {
	info, err := infoFor(v, spec.Name)
	if err != nil {
		info = &typeInfo{methods: map[string]methodInfo{}}
	}
	_, probs := bindInfo(info, &spec)
	bad := map[string]bool{}
	for _, p := range probs {
		if p.Reason == ReasonMissing || p.Reason == ReasonSignature || p.Reason == ReasonPointerReceiver {
			bad[p.Method] = true
		}
	}
	var out []string
	for _, form := range spec.forms() {
		for _, m := range form.Methods {
			if bad[m.Name] && !m.Optional {
				out = appendOnce(out, m.Name)
			}
		}
	}
	return out
}

// infoFor returns the type information of v, or an error for values that
// cannot carry behaviour at all (nil, a nil pointer).
func infoFor(v any, kinds ...string) (*typeInfo, error) {
	nilProblem := []Problem{{Kind: strings.Join(kinds, ", "), Reason: ReasonNil}}
	if v == nil {
		return nil, &AbstractError{Kinds: kinds, Problems: nilProblem}
	}
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Interface && !reflect.ValueOf(v).IsNil() {
		return nil, &AbstractError{Type: t, Kinds: kinds, Problems: []Problem{{
			Kind: strings.Join(kinds, ", "), Reason: ReasonOther, Hint: pointerToInterface(reflect.ValueOf(v).Elem()),
		}}}
	}
	info := infoOf(typecache.KeyOf(v, nil), t)
	if t.Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil() {
		return nil, &AbstractError{Type: t, Kinds: kinds, Problems: nilProblem}
	}
	return info, nil
}

// bindInfo matches info against every form of spec. It returns the match of
// the first form that fits, or the problems of the closest form.
func bindInfo(info *typeInfo, spec *Spec) (*Match, []Problem) {
	if r, ok := refusedBy(info, spec); ok {
		return nil, []Problem{{Kind: spec.Name, Reason: ReasonOther, Hint: r.Why}}
	}
	forms := spec.forms()
	best, bestScore, bestForm := []Problem(nil), formScore{names: -1, fit: -1}, 0
	var main []Problem // the main form's problems
	for fi, form := range forms {
		m, probs, score := bindForm(info, spec, &form)
		if len(probs) == 0 {
			m.Form = fi
			if fi > 0 && looksMistaken(main, m) {
				m.Ignored = main
			}
			return m, nil
		}
		if fi == 0 {
			main = probs
		}
		if score.beats(bestScore) {
			best, bestScore, bestForm = probs, score, fi
		}
	}
	if bestForm == 0 && bestScore.names == 0 && len(forms) > 1 {
		// Nothing of any form: the last missing method says what the
		// other forms would have needed.
		for i := len(best) - 1; i >= 0; i-- {
			if best[i].Reason == ReasonMissing {
				best[i].Alternatives = alternatives(forms[1:])
				break
			}
		}
	}
	return nil, best
}

// looksMistaken reports whether the main form's problems show methods the
// author likely meant for it, given the form that matched: a method of the
// main form's with a signature no shape fits, or a missing method with a
// name one edit away that the matched form does not use (Lock beside a
// missing Locked is a sync.Locker's, no typo).
func looksMistaken(probs []Problem, matched *Match) bool {
	for _, p := range probs {
		switch {
		case p.Reason == ReasonSignature:
			return true
		case p.Reason == ReasonMissing && strings.HasSuffix(p.Hint, typoSuffix(p.Method)):
			if _, used := matched.Method(strings.TrimSuffix(p.Hint, typoSuffix(p.Method))); !used {
				return true
			}
		}
	}
	return false
}

// alternatives lists the required methods of each form, forms with the same
// method names together: "Close (io.Closer)", "Lock and Unlock (sync.Locker,
// an error locker)".
func alternatives(forms []Spec) []string {
	var sets []string
	names := map[string][]string{}
	for _, f := range forms {
		var req []string
		for _, m := range f.Methods {
			if !m.Optional {
				req = append(req, m.Name)
			}
		}
		set := joinAnd(req)
		if _, ok := names[set]; !ok {
			sets = append(sets, set)
		}
		names[set] = append(names[set], f.Name)
	}
	out := make([]string, len(sets))
	for i, set := range sets {
		out[i] = set + " (" + strings.Join(names[set], ", ") + ")"
	}
	return out
}

// joinAnd joins names as "A", "A and B", "A, B and C".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// formScore says how close a type comes to a form: how many of the form's
// methods it has by name, then how much of their signatures already fits
// (each fitting method weighs its parameters and results). The
// second breaks ties, so that a value with Lock(ctx) error and Unlock() is
// told to add ctx to Unlock (the ctx locker it almost is) rather than to drop
// it from Lock. Between forms that the same methods of the value serve, the
// one with fewer required methods absent wins: a value with only Stop() int
// is told about the stopper it almost is, not about the graceful stopper it
// would need GracefulStop for.
type formScore struct {
	names, fit int
	present    string // the names of the form's methods the value has
	absent     int    // required methods absent
}

func (a formScore) beats(b formScore) bool {
	if a.names != b.names {
		return a.names > b.names
	}
	if a.fit != b.fit {
		return a.fit > b.fit
	}
	return a.names > 0 && a.present == b.present && a.absent < b.absent
}

// bindForm matches one form.
func bindForm(info *typeInfo, spec *Spec, form *Spec) (*Match, []Problem, formScore) {
	m := &Match{Type: info.t, methods: make([]Bound, 0, len(form.Methods))}
	var missing, bad, ptr []Problem
	var score formScore
	var bound reflect.Type
	from := ""
	for _, meth := range form.Methods {
		mi, ok := info.methods[meth.Name]
		if !ok {
			m.methods = append(m.methods, Bound{Name: meth.Name, Index: -1, Shape: -1})
			if sig, isPtr := info.ptrOnly[meth.Name]; isPtr {
				score.names++
				score.present += meth.Name + " "
				if meth.Optional && !fitsAny(sig, meth.Shapes, spec.T) {
					continue
				}
				ptr = append(ptr, Problem{Kind: spec.Name, Form: form.Name, Method: meth.Name, Reason: ReasonPointerReceiver, Have: sig})
				continue
			}
			if !meth.Optional {
				score.absent++
				missing = append(missing, Problem{Kind: spec.Name, Form: form.Name, Method: meth.Name, Reason: ReasonMissing, Hint: hintFor(info, form, meth)})
			}
			continue
		}
		score.names++
		score.present += meth.Name + " "
		shape, nb := -1, bound
		for si, s := range meth.Shapes {
			if b, ok := fits(mi.sig, s, bound, spec.T); ok {
				shape, nb = si, b
				break
			}
		}
		if shape < 0 {
			p := Problem{Kind: spec.Name, Form: form.Name, Method: meth.Name, Reason: ReasonSignature, Have: mi.sig}
			shown := bound
			if shown == nil && spec.T != nil && spec.T.Kind() != reflect.Interface {
				shown = spec.T
			}
			for _, s := range meth.Shapes {
				p.Want = append(p.Want, shapeString(s, shown))
			}
			if bound != nil && from != "" && fitsAny(mi.sig, meth.Shapes, nil) {
				p.Hint = "T is " + bound.String() + " (from " + from + ")"
			}
			bad = append(bad, p)
			m.methods = append(m.methods, Bound{Name: meth.Name, Index: mi.index, Shape: -1})
			continue
		}
		score.fit += mi.sig.NumIn() + mi.sig.NumOut()
		if bound == nil && nb != nil {
			from = meth.Name
		}
		bound = nb
		m.methods = append(m.methods, Bound{Name: meth.Name, Index: mi.index, Shape: shape})
	}
	m.Bound = bound
	probs := append(append(missing, bad...), ptr...)
	return m, probs, score
}

func fitsAny(sig reflect.Type, shapes []reflect.Type, fixed reflect.Type) bool {
	for _, s := range shapes {
		if _, ok := fits(sig, s, nil, fixed); ok {
			return true
		}
	}
	return false
}

// fits reports whether a method signature fits a shape, given what T is bound
// to so far (nil: unbound) and what the spec fixes it to (nil: free). It
// returns the binding after the match.
func fits(sig, shape, bound, fixed reflect.Type) (reflect.Type, bool) {
	if !usable(shape) {
		return bound, false
	}
	if sig.NumIn() != shape.NumIn() || sig.NumOut() != shape.NumOut() || sig.IsVariadic() != shape.IsVariadic() {
		return bound, false
	}
	ok := true
	check := func(have, want reflect.Type) {
		if !ok {
			return
		}
		if want != placeholder {
			ok = have == want || (resultLike(want) && hasResultMethods(have, want))
			return
		}
		if bound != nil {
			ok = have == bound
			return
		}
		if fixed != nil && have != fixed {
			if fixed.Kind() != reflect.Interface || !(have.Implements(fixed) || have.Kind() == reflect.Interface) {
				ok = false
				return
			}
		}
		bound = have
	}
	for i := 0; i < sig.NumIn(); i++ {
		check(sig.In(i), shape.In(i))
	}
	for i := 0; i < sig.NumOut(); i++ {
		check(sig.Out(i), shape.Out(i))
	}
	return bound, ok
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// pointerToInterface explains the refusal of a pointer to an interface (what
// plugin.Lookup returns for a variable of type any), which has no methods:
// the value it holds may have them.
func pointerToInterface(iface reflect.Value) string {
	const what = "a pointer to an interface has no methods (plugin.Lookup returns a pointer to the variable)"
	if iface.IsNil() {
		return what + ": it holds nil"
	}
	return what + ": compose *p, the " + iface.Elem().Type().String() + " it holds"
}
