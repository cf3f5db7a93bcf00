package mixin

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/internal/typecache"
	"github.com/gomixin/mixin/validate"
)

// Kind names a mixin kind: one of the seven built-in ones, or one a user
// declared with Registry.Define.
type Kind string

// The built-in kinds, one per Python mixin.
const (
	KindContext     Kind = "context"      // AsyncContextMixin: adapters.Context
	KindExecContext Kind = "exec-context" // ExecutorRequiredAsyncContextMixin: adapters.ExecContext
	KindAwaitable   Kind = "awaitable"    // AwaitableMixin: adapters.Awaitable
	KindEvent       Kind = "event"        // EventMixin: adapters.Event
	KindLock        Kind = "lock"         // LockMixin: adapters.Lock
	KindOwnerLock   Kind = "owner-lock"   // LockWithOwnerMixin: adapters.OwnerLock
	KindGroup       Kind = "group"        // LoopContextMixin: adapters.Group
)

// ErrUnknownKind is matched by the error for a kind no Registry entry has.
var ErrUnknownKind = errors.New("mixin: unknown kind")

// ErrDuplicate is matched by the error for a name, kind or adapter that is
// already registered: registrations are never silently replaced.
var ErrDuplicate = errors.New("mixin: already registered")

// BuildFunc makes a kind's proxy from a value that passed the kind's check.
type BuildFunc func(v any) (any, error)

// AdaptFunc wraps a value of a foreign type in a hand-written adapter that has
// the abstract methods of a kind (Python's ABC.register).
type AdaptFunc func(v any) (any, error)

// entry is one kind in the catalogue.
type entry struct {
	kind  Kind
	spec  validate.Spec
	build BuildFunc
	// adapted builds the proxy from an adapter a of the value v, when the
	// kind's proxy can stand for v (a context's Enter yields v).
	adapted func(a, v any) (any, error)
	// from and derive make this kind from another one's proxy when the value
	// composes as that one: an owner lock is a lock, an event an awaitable.
	from   Kind
	derive func(parent any) (any, error)
}

// Registry is the catalogue of mixin kinds: the seven built-in ones, the ones
// users declare with Define, and per-type adapters declared with Adapt. It
// also caches, per dynamic type, which kinds attach, so that composing a
// second value of a seen type does no method scan.
//
// A Registry is safe for concurrent use. Use NewRegistry; the zero value is
// not usable.
type Registry struct {
	mu      sync.RWMutex
	entries []*entry
	byKind  map[Kind]*entry
	adapts  map[reflect.Type]map[Kind]AdaptFunc
	plans   *typecache.Cache[*plan]
}

// NewRegistry returns a Registry holding the built-in kinds.
func NewRegistry() *Registry {
	r := &Registry{byKind: map[Kind]*entry{}, adapts: map[reflect.Type]map[Kind]AdaptFunc{}, plans: new(typecache.Cache[*plan])}
	for _, e := range builtins() {
		r.entries = append(r.entries, e)
		r.byKind[e.kind] = e
	}
	return r
}

// builtins lists the built-in kinds. A kind that derives from another comes
// after it.
func builtins() []*entry {
	return []*entry{
		{kind: KindContext, spec: adapters.ContextSpec(), build: func(v any) (any, error) { return adapters.NewContext[any](v) },
			adapted: func(a, v any) (any, error) { return adapters.NewContext[any](a, adapters.ForValue(v)) }},
		{kind: KindExecContext, spec: adapters.ExecContextSpec(), build: func(v any) (any, error) { return adapters.NewExecContext[any](v) },
			adapted: func(a, v any) (any, error) { return adapters.NewExecContext[any](a, adapters.ForValue(v)) }},
		{kind: KindEvent, spec: adapters.EventSpec(), build: func(v any) (any, error) { return adapters.NewEvent[any](v) }},
		{kind: KindAwaitable, spec: adapters.AwaitableSpec(), build: func(v any) (any, error) { return adapters.NewAwaitable[any](v) },
			from: KindEvent, derive: func(p any) (any, error) { return p.(*adapters.Event[any]).AsAwaitable(), nil }},
		{kind: KindOwnerLock, spec: adapters.OwnerLockSpec(), build: func(v any) (any, error) { return adapters.NewOwnerLock(v) }},
		{kind: KindLock, spec: adapters.LockSpec(), build: func(v any) (any, error) { return adapters.NewLock(v) },
			from: KindOwnerLock, derive: func(p any) (any, error) { return p.(*adapters.OwnerLock).AsLock(), nil }},
		{kind: KindGroup, spec: adapters.GroupSpec(), build: func(v any) (any, error) { return adapters.NewGroup(v) }},
	}
}

// Define declares a kind of the user's own: its abstract methods and how to
// make its proxy. Values composed afterwards get the same check as the
// built-in kinds and, when they pass, the proxy build returns (or, when build
// is nil, a *Dynamic that calls the methods by name). A kind already defined
// is refused with an error matching ErrDuplicate.
func (r *Registry) Define(kind Kind, spec validate.Spec, build BuildFunc) error {
	if kind == "" {
		return errors.New("mixin: Define with an empty kind")
	}
	if len(spec.Methods) == 0 && len(spec.Alternatives) == 0 {
		return errs.Errorf("Define %q: the spec has no methods", kind)
	}
	spec = copySpec(spec) // the caller's slices stay the caller's
	if spec.Name == "" {
		spec.Name = string(kind)
	}
	if err := spec.Validate(); err != nil {
		return err // nil or non-func shapes: every later check would fail
	}
	if build == nil {
		s := spec
		build = func(v any) (any, error) { return newDynamic(v, s) }
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byKind[kind]; ok {
		return errs.Errorf("kind %q: %w", kind, ErrDuplicate)
	}
	e := &entry{kind: kind, spec: spec, build: build}
	r.entries = append(r.entries, e)
	r.byKind[kind] = e
	r.plans = new(typecache.Cache[*plan])
	return nil
}

// Adapt declares that values of type t are of the given kind through a
// hand-written adapter (Python's ABC.register): composing such a value calls
// adapt, checks what it returns against the kind's spec and builds the proxy
// from it. Composite.Value still returns the original value, and so do a
// context's and exec-context's Value; where the adapter has no Enter, their
// Enter yields the original value too (Do's body gets it). An adapter
// already declared for t and kind is refused with an error matching
// ErrDuplicate; an unknown kind with one matching ErrUnknownKind.
func (r *Registry) Adapt(t reflect.Type, kind Kind, adapt AdaptFunc) error {
	if t == nil || adapt == nil {
		return errors.New("mixin: Adapt needs a type and an adapter func")
	}
	if t.Kind() == reflect.Interface {
		// A value's dynamic type is never an interface type: such an
		// adapter could never match.
		return errs.Errorf("Adapt %s as %q: %s is an interface type, and values are matched by their concrete type: adapt each concrete type", t, kind, t)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byKind[kind]; !ok {
		return errs.Errorf("Adapt %s as %q: %w", t, kind, ErrUnknownKind)
	}
	if _, ok := r.adapts[t][kind]; ok {
		return errs.Errorf("adapter of %s as %q: %w", t, kind, ErrDuplicate)
	}
	// Copy on write: plans being computed read the map they were given
	// outside the lock, so a published map is never written again.
	m := make(map[Kind]AdaptFunc, len(r.adapts[t])+1)
	for k, a := range r.adapts[t] {
		m[k] = a
	}
	m[kind] = adapt
	r.adapts[t] = m
	r.plans = new(typecache.Cache[*plan])
	return nil
}

// Kinds returns every kind in the catalogue, built-in ones first.
func (r *Registry) Kinds() []Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Kind, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, e.kind)
	}
	return out
}

// DerivesFrom returns the kind whose proxy kind is made from when a value
// composes as that one (an owner lock's lock, an event's awaitable): such a
// kind attaches, or meets Require, without its own spec's check. ok is false
// for a kind that derives from none, or that the catalogue does not hold.
func (r *Registry) DerivesFrom(kind Kind) (parent Kind, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.byKind[kind]
	if !ok || e.from == "" {
		return "", false
	}
	return e.from, true
}

// Spec returns the abstract methods of a kind: a copy, which the caller may
// edit without changing the kind.
func (r *Registry) Spec(kind Kind) (validate.Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.byKind[kind]
	if !ok {
		return validate.Spec{}, false
	}
	return copySpec(e.spec), true
}

// copySpec copies a spec down to its methods' shape and hint slices.
func copySpec(s validate.Spec) validate.Spec {
	s.Methods = slices.Clone(s.Methods)
	for i := range s.Methods {
		s.Methods[i].Shapes = slices.Clone(s.Methods[i].Shapes)
		s.Methods[i].Hints = slices.Clone(s.Methods[i].Hints)
	}
	s.Refused = slices.Clone(s.Refused)
	s.Alternatives = slices.Clone(s.Alternatives)
	for i := range s.Alternatives {
		s.Alternatives[i] = copySpec(s.Alternatives[i])
	}
	return s
}

// plan is what the registry found for one dynamic type: per kind, whether it
// attaches by itself, and the check's error where it does not.
type plan struct {
	steps []step
}

type step struct {
	e      *entry
	auto   bool  // attaches without being required
	err    error // why it cannot attach; nil when it can
	adapt  AdaptFunc
	hasAny bool   // the value has some of the kind's methods (a near miss when err != nil)
	note   string // when it attaches by another form than the main one, what of the main form looks like a mistake
}

// planFor returns the cached plan of v's type, computing it on first sight.
func (r *Registry) planFor(v any) *plan {
	r.mu.RLock()
	entries, plans := r.entries, r.plans
	adapts := r.adapts[reflect.TypeOf(v)]
	r.mu.RUnlock()
	return plans.Get(typecache.KeyOf(v, nil), func() *plan {
		p := &plan{steps: make([]step, 0, len(entries))}
		for _, e := range entries {
			s := step{e: e}
			if a, ok := adapts[e.kind]; ok {
				s.adapt, s.auto = a, true
			} else {
				m, err := validate.Bind(v, e.spec)
				s.err = err
				s.auto = err == nil && m.Has()
				s.hasAny = err == nil || len(validate.Missing(v, e.spec)) < requiredCount(e.spec) || nearMiss(err)
				if near := m.NearMiss(); near != "" && m.Form > 0 && m.Form <= len(e.spec.Alternatives) {
					s.note = fmt.Sprintf("%s: composed by its %s methods; its methods of the %s kind's main form look like a mistake: %s",
						e.kind, e.spec.Alternatives[m.Form-1].Name, e.kind, near)
				}
			}
			p.steps = append(p.steps, s)
		}
		return p
	})
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

// nearMiss reports whether a refusal shows the value was meant to be of the
// kind (see validate.Problem.Near): a wrong signature, a pointer receiver, a
// typo, a refused type; not a method that merely has a hinted name.
func nearMiss(err error) bool {
	var ae *validate.AbstractError
	if !errors.As(err, &ae) {
		return false
	}
	for _, p := range ae.Problems {
		if p.Near() {
			return true
		}
	}
	return false
}
