package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"go/types"
	"slices"
	"strings"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/validate"
)

// catalogue is the library's built-in kinds as a fresh Registry holds them:
// their order, their specs and which kind each derives from. It is read from
// the library when the analyzer starts; nothing here lists a shape.
type catalogue struct {
	kinds  []mixin.Kind
	specs  map[mixin.Kind]validate.Spec
	parent map[mixin.Kind]mixin.Kind
}

func newCatalogue(r *mixin.Registry) *catalogue {
	c := &catalogue{specs: map[mixin.Kind]validate.Spec{}, parent: map[mixin.Kind]mixin.Kind{}}
	for _, k := range r.Kinds() {
		s, _ := r.Spec(k)
		c.kinds = append(c.kinds, k)
		c.specs[k] = s
		if p, ok := r.DerivesFrom(k); ok {
			c.parent[k] = p
		}
	}
	return c
}

var builtin = newCatalogue(mixin.NewRegistry())

// known reports whether kind is a built-in kind.
func (c *catalogue) known(kind mixin.Kind) bool {
	_, ok := c.specs[kind]
	return ok
}

// check mirrors validate.Check (and each typed constructor's Bind) of a
// value of type t against specs, T fixed to fixed (nil: free). It returns
// nil when the value passes.
func (c *catalogue) check(t types.Type, fixed types.Type, specs ...validate.Spec) *refusal {
	if isPointerToInterface(t) {
		names := make([]string, len(specs))
		for i, s := range specs {
			names[i] = s.Name
		}
		return pointerToInterface(t, strings.Join(names, ", "))
	}
	info := scan(t)
	var all []problem
	for i := range specs {
		_, probs := bindInfo(info, &specs[i], fixed)
		all = append(all, probs...)
	}
	if len(all) == 0 {
		return nil
	}
	return &refusal{typ: t, problems: all}
}

// step is what the Registry's plan holds for one kind.
type step struct {
	kind   mixin.Kind
	probs  []problem
	auto   bool   // attaches without being required
	hasAny bool   // the value comes near the kind
	note   string // mirrors the Registry's: attached by another form, its main form's methods look like a mistake
}

// compose mirrors Composer.Compose with the built-in kinds and no adapters:
// it returns what Compose of a value of type t would refuse, nil when it
// would compose.
func (c *catalogue) compose(t types.Type, require, only []mixin.Kind) *refusal {
	r, _ := c.composeNotes(t, require, only)
	return r
}

// composeNotes is compose, and, when the value composes, the notes the
// Composite would hold (Composite.Notes): each kind attached by another of
// its forms while the value has methods of its main form that look like a
// mistake.
func (c *catalogue) composeNotes(t types.Type, require, only []mixin.Kind) (*refusal, []string) {
	if isPointerToInterface(t) {
		// Compose refuses it before any kind, as validate.Check does.
		return pointerToInterface(t, "any kind"), nil
	}
	info := scan(t)
	steps := make([]step, 0, len(c.kinds))
	for _, k := range c.kinds {
		spec := c.specs[k]
		m, probs := bindInfo(info, &spec, nil)
		s := step{kind: k, probs: probs, auto: probs == nil && m.has}
		s.hasAny = probs == nil || len(missingNames(&spec, probs)) < requiredCount(spec) || anyNear(probs)
		if m != nil && len(m.ignored) > 0 && m.form > 0 && m.form <= len(spec.Alternatives) {
			near := strings.Join((&refusal{typ: t, problems: m.ignored}).kindSummary(m.ignored[0].kind), "; ")
			s.note = fmt.Sprintf("%s: composed by its %s methods; its methods of the %s kind's main form look like a mistake: %s",
				k, spec.Alternatives[m.form-1].Name, k, near)
		}
		steps = append(steps, s)
	}
	parents := map[mixin.Kind]bool{}
	for _, s := range steps {
		if p, ok := c.parent[s.kind]; ok && (slices.Contains(only, s.kind) || slices.Contains(require, s.kind)) {
			parents[p] = true
		}
	}
	attached, hidden := map[mixin.Kind]bool{}, map[mixin.Kind]bool{}
	var refused []problem
	var notes []string
	for _, s := range steps {
		required := slices.Contains(require, s.kind)
		filtered := len(only) > 0 && !slices.Contains(only, s.kind) && !required
		if filtered && !(parents[s.kind] && s.auto) {
			continue
		}
		p, hasParent := c.parent[s.kind]
		derivable := hasParent && (attached[p] || hidden[p])
		if !required && !s.auto && !derivable {
			continue
		}
		if !derivable && s.probs != nil {
			if required {
				refused = append(refused, s.probs...)
			}
			continue
		}
		if filtered {
			hidden[s.kind] = true
			continue
		}
		attached[s.kind] = true
		if s.note != "" {
			notes = append(notes, s.note)
		}
	}
	if len(refused) > 0 {
		return &refusal{typ: t, problems: refused}, nil
	}
	if len(attached) == 0 {
		return c.noKind(t, steps, only), nil
	}
	return nil, notes
}

// noKind mirrors the error of a Compose that attaches nothing: the problems
// of the kinds the value came near, nearest first (see nearness), or that it
// has none of their methods.
func (c *catalogue) noKind(t types.Type, steps []step, only []mixin.Kind) *refusal {
	type refused struct {
		probs    []problem
		nearness float64
	}
	var near []refused
	var kinds []string
	seen := map[string]bool{}
	for _, s := range steps {
		if len(only) > 0 && !slices.Contains(only, s.kind) {
			continue
		}
		kinds = append(kinds, string(s.kind))
		if s.probs != nil && s.hasAny {
			if key := problemsKey(s.probs); !seen[key] {
				seen[key] = true
				near = append(near, refused{s.probs, nearness(s.probs, c.specs[s.kind])})
			}
		}
	}
	// Nearest first; equally near ones keep the catalogue's order.
	slices.SortStableFunc(near, func(a, b refused) int { return cmp.Compare(b.nearness, a.nearness) })
	var probs []problem
	for _, r := range near {
		probs = append(probs, r.probs...)
	}
	if len(probs) > 0 {
		return &refusal{typ: t, problems: probs}
	}
	return &refusal{typ: t, problems: []problem{{kind: "any kind", reason: validate.ReasonOther,
		hint: fmt.Sprintf("has none of the methods of the kinds %v", kinds)}}}
}

// nearness mirrors Compose's: the share of the refused form's required
// methods (the form the problems report, from the kind's spec) that the
// value has by name, a method one typo away counting half.
func nearness(probs []problem, spec validate.Spec) float64 {
	if len(probs) == 0 {
		return 0
	}
	form := spec
	for _, a := range spec.Alternatives {
		if a.Name == probs[0].form {
			form = a
		}
	}
	required := requiredCount(form)
	if required == 0 {
		return 0
	}
	have := float64(required)
	for _, p := range probs {
		if p.reason == validate.ReasonMissing {
			have--
			if p.near() {
				have += 0.5
			}
		}
	}
	return have / float64(required)
}

func problemsKey(probs []problem) string {
	key := ""
	for _, p := range probs {
		key += fmt.Sprintf("%s|%s|%d|%s;", p.form, p.method, p.reason, p.hint)
	}
	return key
}

func requiredCount(s validate.Spec) int {
	n := 0
	for _, m := range s.Methods {
		if !m.Optional {
			n++
		}
	}
	return n
}

func anyNear(probs []problem) bool {
	for _, p := range probs {
		if p.near() {
			return true
		}
	}
	return false
}

// construct mirrors a typed constructor of kind with its T fixed to fixed
// (nil for any): the kind's check, and for a context without Enter, that
// the value itself is a T (what Enter then yields).
func (c *catalogue) construct(t types.Type, kind mixin.Kind, fixed types.Type) *refusal {
	if r := c.check(t, fixed, c.specs[kind]); r != nil {
		return r
	}
	if fixed == nil || (kind != mixin.KindContext && kind != mixin.KindExecContext) {
		return nil
	}
	if _, hasEnter := scan(t).methods["Enter"]; hasEnter {
		return nil
	}
	isT := types.Identical(t, fixed)
	if iface, ok := fixed.Underlying().(*types.Interface); ok {
		isT = types.Implements(t, iface)
	}
	if isT {
		return nil
	}
	return &refusal{typ: t, problems: []problem{{kind: string(mixin.KindContext), reason: validate.ReasonOther,
		hint: "has no Enter, so Enter would yield the value itself, which is not a " + rstring(fixed)}}}
}

// isPointerToInterface reports whether t is a pointer to an interface (an
// *any, as plugin.Lookup returns for a variable): the run time refuses it
// rather than look at what it holds.
func isPointerToInterface(t types.Type) bool {
	p, ok := t.Underlying().(*types.Pointer)
	return ok && types.IsInterface(p.Elem())
}

// pointerToInterface mirrors validate's refusal of a pointer to an interface
// as far as the static type tells: the run time goes on to name the type of
// the value the pointer holds (", the *T it holds"), or says that it holds
// nil; a nil pointer it refuses as nil.
func pointerToInterface(t types.Type, kinds string) *refusal {
	return &refusal{typ: t, problems: []problem{{kind: kinds, reason: validate.ReasonOther,
		hint: pointerToInterfaceWhy + ": compose *p"}}}
}

// pointerToInterfaceWhy is the run-time check's reason for refusing a
// pointer to an interface, read from the library: its refusal of a pointer
// to a nil interface, less the words about what the pointer holds.
var pointerToInterfaceWhy = func() string {
	var ae *validate.AbstractError
	if !errors.As(validate.Check(new(any), validate.Spec{Name: "any kind"}), &ae) || len(ae.Problems) == 0 {
		panic("mixin analysis: validate does not refuse a pointer to an interface")
	}
	why, _, _ := strings.Cut(ae.Problems[0].Hint, ": it holds")
	return why
}()
