package analysis

import (
	"go/types"
	"reflect"
	"sort"
	"strings"

	"github.com/gomixin/mixin/validate"
)

// This file mirrors validate's matcher (check.go, hint.go) over go/types: the
// same rule, applied to the same specs, read from the library at run time.
// The shapes are the library's reflect func types; a go/types signature
// fits one when it is the type the compiler would make of it, with the
// placeholder T free or bound as validate binds it. The differential test
// holds the two to the same problems and the same words.

// sameType reports whether the go/types type t is the type r (reflect's
// identity: named types by package path and name, the others by structure).
func sameType(t types.Type, r reflect.Type) bool {
	t = types.Unalias(t)
	if r.Name() != "" {
		switch t := t.(type) {
		case *types.Basic:
			return r.PkgPath() == "" && basicKind(t) == r.Kind() && r.Name() == r.Kind().String()
		case *types.Named:
			obj := t.Obj()
			path := ""
			if obj.Pkg() != nil {
				path = obj.Pkg().Path()
			}
			return instanceName(t) == r.Name() && path == r.PkgPath()
		}
		return false
	}
	switch r.Kind() {
	case reflect.Pointer:
		p, ok := t.(*types.Pointer)
		return ok && sameType(p.Elem(), r.Elem())
	case reflect.Slice:
		s, ok := t.(*types.Slice)
		return ok && sameType(s.Elem(), r.Elem())
	case reflect.Array:
		a, ok := t.(*types.Array)
		return ok && a.Len() == int64(r.Len()) && sameType(a.Elem(), r.Elem())
	case reflect.Map:
		m, ok := t.(*types.Map)
		return ok && sameType(m.Key(), r.Key()) && sameType(m.Elem(), r.Elem())
	case reflect.Chan:
		c, ok := t.(*types.Chan)
		if !ok || !sameType(c.Elem(), r.Elem()) {
			return false
		}
		switch r.ChanDir() {
		case reflect.RecvDir:
			return c.Dir() == types.RecvOnly
		case reflect.SendDir:
			return c.Dir() == types.SendOnly
		}
		return c.Dir() == types.SendRecv
	case reflect.Func:
		s, ok := t.(*types.Signature)
		return ok && sameSig(s, r)
	case reflect.Interface:
		i, ok := t.(*types.Interface)
		if !ok || i.NumMethods() != r.NumMethod() {
			return false
		}
		for k := 0; k < r.NumMethod(); k++ {
			rm := r.Method(k)
			obj, _, _ := types.LookupFieldOrMethod(i, false, nil, rm.Name)
			f, ok := obj.(*types.Func)
			if !ok || !sameSig(f.Type().(*types.Signature), rm.Type) {
				return false
			}
		}
		return true
	case reflect.Struct:
		s, ok := t.(*types.Struct)
		if !ok || s.NumFields() != r.NumField() {
			return false
		}
		for k := 0; k < r.NumField(); k++ {
			f, rf := s.Field(k), r.Field(k)
			if f.Name() != rf.Name || f.Embedded() != rf.Anonymous || s.Tag(k) != string(rf.Tag) || !sameType(f.Type(), rf.Type) {
				return false
			}
		}
		return true
	}
	return false
}

// instanceName is a named type's name as reflect.Type.Name gives it: with
// its type arguments, named types among them by package path.
func instanceName(t *types.Named) string {
	name := t.Obj().Name()
	if args := t.TypeArgs(); args.Len() > 0 {
		parts := make([]string, args.Len())
		for i := range parts {
			parts[i] = qualified(args.At(i))
		}
		name += "[" + strings.Join(parts, ",") + "]"
	}
	return name
}

func sameSig(s *types.Signature, r reflect.Type) bool {
	if s.Params().Len() != r.NumIn() || s.Results().Len() != r.NumOut() || s.Variadic() != r.IsVariadic() {
		return false
	}
	for i := 0; i < r.NumIn(); i++ {
		if !sameType(s.Params().At(i).Type(), r.In(i)) {
			return false
		}
	}
	for i := 0; i < r.NumOut(); i++ {
		if !sameType(s.Results().At(i).Type(), r.Out(i)) {
			return false
		}
	}
	return true
}

func basicKind(b *types.Basic) reflect.Kind {
	switch b.Kind() {
	case types.Bool:
		return reflect.Bool
	case types.Int:
		return reflect.Int
	case types.Int8:
		return reflect.Int8
	case types.Int16:
		return reflect.Int16
	case types.Int32:
		return reflect.Int32
	case types.Int64:
		return reflect.Int64
	case types.Uint:
		return reflect.Uint
	case types.Uint8:
		return reflect.Uint8
	case types.Uint16:
		return reflect.Uint16
	case types.Uint32:
		return reflect.Uint32
	case types.Uint64:
		return reflect.Uint64
	case types.Uintptr:
		return reflect.Uintptr
	case types.Float32:
		return reflect.Float32
	case types.Float64:
		return reflect.Float64
	case types.Complex64:
		return reflect.Complex64
	case types.Complex128:
		return reflect.Complex128
	case types.String:
		return reflect.String
	case types.UnsafePointer:
		return reflect.UnsafePointer
	}
	return reflect.Invalid
}

// typeInfo is a type's exported method set as reflection would see it.
type typeInfo struct {
	t       types.Type
	methods map[string]*types.Signature
	ptrOnly map[string]*types.Signature // methods only *t has
	origins map[string]types.Type       // the receiver type each method is declared on
	names   []string                    // sorted, for near-miss hints
}

// scan reads t's method set as reflect.Type.Method would list it.
func scan(t types.Type) *typeInfo {
	info := &typeInfo{t: t, methods: map[string]*types.Signature{}, origins: map[string]types.Type{}}
	ms := types.NewMethodSet(t)
	for i := 0; i < ms.Len(); i++ {
		f := ms.At(i).Obj().(*types.Func)
		if !f.Exported() {
			continue
		}
		info.methods[f.Name()] = f.Type().(*types.Signature)
		if recv := f.Type().(*types.Signature).Recv(); recv != nil {
			info.origins[f.Name()] = recv.Type()
		}
		info.names = append(info.names, f.Name())
	}
	_, isPtr := types.Unalias(t).(*types.Pointer)
	if !isPtr && !types.IsInterface(t) {
		pms := types.NewMethodSet(types.NewPointer(t))
		for i := 0; i < pms.Len(); i++ {
			f := pms.At(i).Obj().(*types.Func)
			if _, ok := info.methods[f.Name()]; ok || !f.Exported() {
				continue
			}
			if info.ptrOnly == nil {
				info.ptrOnly = map[string]*types.Signature{}
			}
			info.ptrOnly[f.Name()] = f.Type().(*types.Signature)
		}
	}
	sort.Strings(info.names)
	return info
}

// problem is one reason a value cannot be composed as one kind: a
// validate.Problem whose types are go/types ones.
type problem struct {
	kind, form, method string
	reason             validate.Reason
	have               *types.Signature
	want               []string
	hint               string
	// alternatives mirrors validate.Problem.Alternatives: on the last
	// missing method of a kind with other forms when the value has the
	// methods of none, what each other form needs.
	alternatives []string
}

// near mirrors validate.Problem.Near.
func (p problem) near() bool {
	switch p.reason {
	case validate.ReasonSignature, validate.ReasonPointerReceiver, validate.ReasonOther:
		return true
	case validate.ReasonMissing:
		return strings.HasSuffix(p.hint, typoSuffix(p.method))
	}
	return false
}

// match is how a type satisfies a spec: the form, and whether the type has
// any of the form's methods.
type match struct {
	form  int
	has   bool
	bound types.Type
	// ignored mirrors validate.Match.Ignored: when a later form matched, the
	// main form's problems if they look like a mistake.
	ignored []problem
}

// forms returns the spec's main form followed by its alternatives.
func forms(s *validate.Spec) []validate.Spec {
	out := []validate.Spec{{Methods: s.Methods}}
	for _, a := range s.Alternatives {
		out = append(out, validate.Spec{Name: a.Name, Methods: a.Methods})
	}
	return out
}

// bindInfo matches info against every form of spec, T fixed to fixed (nil:
// free); it returns the match of the first form that fits, or the problems
// of the closest form.
func bindInfo(info *typeInfo, spec *validate.Spec, fixed types.Type) (*match, []problem) {
	if r, ok := refusedBy(info, spec); ok {
		return nil, []problem{{kind: spec.Name, reason: validate.ReasonOther, hint: r.Why}}
	}
	var best []problem
	bestScore, bestForm := formScore{names: -1, fit: -1}, 0
	all := forms(spec)
	var main []problem // the main form's problems
	for fi, form := range all {
		m, probs, score := bindForm(info, spec, &form, fixed)
		if len(probs) == 0 {
			m.form = fi
			if fi > 0 && looksMistaken(main, &form) {
				m.ignored = main
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
	if bestForm == 0 && bestScore.names == 0 && len(all) > 1 {
		// Nothing of any form: the last missing method says what the other
		// forms would have needed.
		for i := len(best) - 1; i >= 0; i-- {
			if best[i].reason == validate.ReasonMissing {
				best[i].alternatives = alternatives(all[1:])
				break
			}
		}
	}
	return nil, best
}

// looksMistaken mirrors validate's: a method of the main form's with a
// signature no shape fits, or a missing one with a name one edit away that
// the form that matched does not use.
func looksMistaken(probs []problem, matched *validate.Spec) bool {
	for _, p := range probs {
		switch {
		case p.reason == validate.ReasonSignature:
			return true
		case p.reason == validate.ReasonMissing && strings.HasSuffix(p.hint, typoSuffix(p.method)):
			if !formHas(matched, strings.TrimSuffix(p.hint, typoSuffix(p.method))) {
				return true
			}
		}
	}
	return false
}

// alternatives mirrors validate's: the required methods of each form, read
// from the spec, forms with the same method names together.
func alternatives(forms []validate.Spec) []string {
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

// formScore mirrors validate's: the form's methods the value has by name,
// then how much of their signatures fits; between forms that the same
// methods of the value serve, the one with fewer required methods absent.
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

func bindForm(info *typeInfo, spec *validate.Spec, form *validate.Spec, fixed types.Type) (*match, []problem, formScore) {
	m := &match{}
	var missing, bad, ptr []problem
	var score formScore
	var bound types.Type
	from := ""
	for _, meth := range form.Methods {
		sig, ok := info.methods[meth.Name]
		if !ok {
			if psig, isPtr := info.ptrOnly[meth.Name]; isPtr {
				score.names++
				score.present += meth.Name + " "
				if meth.Optional && !fitsAny(psig, meth.Shapes, fixed) {
					continue
				}
				ptr = append(ptr, problem{kind: spec.Name, form: form.Name, method: meth.Name, reason: validate.ReasonPointerReceiver, have: psig})
				continue
			}
			if !meth.Optional {
				score.absent++
				missing = append(missing, problem{kind: spec.Name, form: form.Name, method: meth.Name, reason: validate.ReasonMissing, hint: hintFor(info, form, meth)})
			}
			continue
		}
		m.has = true
		score.names++
		score.present += meth.Name + " "
		shape, nb := -1, bound
		for si, s := range meth.Shapes {
			if b, ok := fits(sig, s, bound, fixed); ok {
				shape, nb = si, b
				break
			}
		}
		if shape < 0 {
			p := problem{kind: spec.Name, form: form.Name, method: meth.Name, reason: validate.ReasonSignature, have: sig}
			shown := ""
			if bound != nil {
				shown = rstring(bound)
			} else if fixed != nil && !types.IsInterface(fixed) {
				shown = rstring(fixed)
			}
			for _, s := range meth.Shapes {
				p.want = append(p.want, shapeString(s, shown))
			}
			if bound != nil && from != "" && fitsAny(sig, meth.Shapes, nil) {
				p.hint = "T is " + rstring(bound) + " (from " + from + ")"
			}
			bad = append(bad, p)
			continue
		}
		score.fit += sig.Params().Len() + sig.Results().Len()
		if bound == nil && nb != nil {
			from = meth.Name
		}
		bound = nb
	}
	m.bound = bound
	return m, append(append(missing, bad...), ptr...), score
}

func fitsAny(sig *types.Signature, shapes []reflect.Type, fixed types.Type) bool {
	for _, s := range shapes {
		if _, ok := fits(sig, s, nil, fixed); ok {
			return true
		}
	}
	return false
}

// fits mirrors validate's: whether sig fits shape, given what T is bound to
// so far and what the spec fixes it to; it returns the binding after.
func fits(sig *types.Signature, shape reflect.Type, bound, fixed types.Type) (types.Type, bool) {
	if sig.Params().Len() != shape.NumIn() || sig.Results().Len() != shape.NumOut() || sig.Variadic() != shape.IsVariadic() {
		return bound, false
	}
	ok := true
	check := func(have types.Type, want reflect.Type) {
		if !ok {
			return
		}
		if want != placeholder {
			ok = sameType(have, want) || (resultLike(want) && hasResultMethods(have, want))
			return
		}
		if bound != nil {
			ok = types.Identical(have, bound)
			return
		}
		if fixed != nil && !types.Identical(have, fixed) {
			iface, isIface := fixed.Underlying().(*types.Interface)
			if !isIface || !(types.Implements(have, iface) || types.IsInterface(have)) {
				ok = false
				return
			}
		}
		bound = have
	}
	for i := 0; i < sig.Params().Len(); i++ {
		check(sig.Params().At(i).Type(), shape.In(i))
	}
	for i := 0; i < sig.Results().Len(); i++ {
		check(sig.Results().At(i).Type(), shape.Out(i))
	}
	return bound, ok
}

// missingNames mirrors validate.Missing: the required methods the type lacks
// or has in no accepted shape.
func missingNames(spec *validate.Spec, probs []problem) []string {
	bad := map[string]bool{}
	for _, p := range probs {
		if p.reason == validate.ReasonMissing || p.reason == validate.ReasonSignature || p.reason == validate.ReasonPointerReceiver {
			bad[p.method] = true
		}
	}
	var out []string
	for _, form := range forms(spec) {
		for _, m := range form.Methods {
			if bad[m.Name] && !m.Optional {
				out = appendOnce(out, m.Name)
			}
		}
	}
	return out
}

// hintFor mirrors validate's near-miss note for a missing method: a typo
// first, then a hinted name.
func hintFor(info *typeInfo, form *validate.Spec, m validate.Method) string {
	limit := 1
	if len(m.Name) >= 6 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, name := range info.names {
		if formHas(form, name) {
			continue
		}
		if d := distance(strings.ToLower(name), strings.ToLower(m.Name)); d < bestD {
			best, bestD = name, d
		}
	}
	if best != "" {
		return best + typoSuffix(m.Name)
	}
	for _, h := range m.Hints {
		if _, ok := info.methods[h]; ok && !formHas(form, h) {
			return "but does have method " + h
		}
	}
	return ""
}

func typoSuffix(name string) string { return ": did you mean " + name + "?" }

func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func formHas(form *validate.Spec, name string) bool {
	for _, m := range form.Methods {
		if m.Name == name {
			return true
		}
	}
	return false
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// refusedBy mirrors validate's refusal: a method the spec names is declared
// on a refused type (the value's own, or promoted from an embedded field).
func refusedBy(info *typeInfo, spec *validate.Spec) (validate.Refusal, bool) {
	for _, r := range spec.Refused {
		if sameType(info.t, r.Type) {
			return r, true
		}
	}
	for _, form := range forms(spec) {
		for _, m := range form.Methods {
			origin, ok := info.origins[m.Name]
			if !ok {
				continue
			}
			for _, r := range spec.Refused {
				if r.Type != nil && (sameType(origin, r.Type) ||
					(r.Type.Kind() == reflect.Pointer && sameType(origin, r.Type.Elem()))) {
					return r, true
				}
			}
		}
	}
	return validate.Refusal{}, false
}

// resultMarker is validate.Result: embedded in an interface type that is a
// shape's result, it makes that result stand for any type with the
// interface's other methods.
var resultMarker = reflect.TypeFor[validate.Result]()

// resultLike mirrors validate's: t is an interface type that embeds Result.
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

// hasResultMethods mirrors validate's: whether have (a concrete or interface
// type) has, in its method set as reflection sees it, every method the
// Result-embedding interface want lists, with the same signature.
func hasResultMethods(have types.Type, want reflect.Type) bool {
	ms := types.NewMethodSet(have)
	for _, m := range resultMethods(want) {
		sel := ms.Lookup(nil, m.Name)
		if sel == nil {
			return false
		}
		f, ok := sel.Obj().(*types.Func)
		if !ok || !sameSig(f.Type().(*types.Signature), m.Type) {
			return false
		}
	}
	return true
}
