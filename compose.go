package mixin

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/internal/reflectx"
	"github.com/gomixin/mixin/validate"
)

// Composer composes values: it finds every mixin kind whose abstract methods a
// value has and attaches that kind's proxy. It also keeps named
// registrations, for plugin hosts. A Composer is safe for concurrent use;
// make one with New (the zero value is not usable).
type Composer struct {
	reg   *Registry
	obs   adapters.Observer // every composite's proxies report to it; nil: none
	mu    sync.RWMutex
	named map[string]*Composite
}

// Option configures a Composer.
type Option func(*Composer)

// WithRegistry makes the Composer use r, which it may share with others,
// instead of a fresh Registry of the built-in kinds.
func WithRegistry(r *Registry) Option {
	return func(c *Composer) {
		if r != nil {
			c.reg = r
		}
	}
}

// ComposeOption configures one Compose or Register call.
type ComposeOption func(*composeConfig)

type composeConfig struct {
	require []Kind
	only    []Kind
	obs     adapters.Observer
	name    string // Named's
	regName string // Register's: the default name
}

// Require makes the listed kinds mandatory: if any of them cannot attach,
// Compose fails with one *validate.AbstractError listing every problem of
// every required kind. A required kind attaches even when the value has none
// of its optional methods (a bare group).
func Require(kinds ...Kind) ComposeOption {
	return func(c *composeConfig) { c.require = append(c.require, kinds...) }
}

// Only limits the kinds that may attach to the listed ones.
func Only(kinds ...Kind) ComposeOption {
	return func(c *composeConfig) { c.only = append(c.only, kinds...) }
}

// New returns a Composer with its own Registry of the built-in kinds.
func New(opts ...Option) *Composer {
	c := &Composer{named: map[string]*Composite{}}
	for _, o := range opts {
		o(c)
	}
	if c.reg == nil {
		c.reg = NewRegistry()
	}
	return c
}

var defaultComposer = New()

// Default returns the package-level Composer that Compose uses.
func Default() *Composer { return defaultComposer }

// Compose composes v on the package-level default Composer.
func Compose(v any, opts ...ComposeOption) (*Composite, error) {
	return defaultComposer.Compose(v, opts...)
}

// Register composes v and keeps it under name on the package-level default
// Composer, as Composer.Register does: a plugin host's one call.
//
//	c, err := mixin.Register("orders", plugin, mixin.Require(mixin.KindLock))
func Register(name string, v any, opts ...ComposeOption) (*Composite, error) {
	return defaultComposer.Register(name, v, opts...)
}

// Lookup returns the Composite registered under name on the package-level
// default Composer.
func Lookup(name string) (*Composite, bool) { return defaultComposer.Lookup(name) }

// Unregister removes name from the package-level default Composer and
// reports whether it was registered.
func Unregister(name string) bool { return defaultComposer.Unregister(name) }

// All yields the registrations of the package-level default Composer.
func All() iter.Seq2[string, *Composite] { return defaultComposer.All() }

// Registry returns the Composer's catalogue of kinds, to Define kinds and
// Adapt foreign types.
func (c *Composer) Registry() *Registry { return c.reg }

// Compose finds every kind whose abstract methods v has and returns v with
// their proxies attached. It fails when a kind given to Require cannot attach
// (a *validate.AbstractError naming every problem of every required kind),
// when no kind attaches at all, for nil or a nil pointer, and for a pointer
// to an interface (plugin.Lookup's *any), which it does not dereference: the
// error says to compose the value it holds.
func (c *Composer) Compose(v any, opts ...ComposeOption) (*Composite, error) {
	var cfg composeConfig
	if len(opts) > 0 { // (collecting them makes cfg escape: not without options)
		cfg = composeOptions(opts)
	}
	if v == nil || reflectx.IsNilPointer(v) || reflectx.IsPointerToInterface(v) {
		// (a pointer to an interface is refused, never dereferenced: the
		// message says to compose what it holds)
		return nil, validate.Check(v, validate.Spec{Name: "any kind"})
	}
	for _, k := range append(slices.Clone(cfg.require), cfg.only...) {
		if _, ok := c.reg.Spec(k); !ok {
			return nil, errs.Errorf("compose %T as %q: %w", v, k, ErrUnknownKind)
		}
	}
	p := c.reg.planFor(v)
	comp := &Composite{value: v}
	// Kinds that a wanted kind derives from are built even when Only leaves
	// them out (a lock over an owner lock), but not attached.
	var parents map[Kind]bool // nil, and no allocation, without Only or Require
	for _, s := range p.steps {
		if s.e.from != "" && (slices.Contains(cfg.only, s.e.kind) || slices.Contains(cfg.require, s.e.kind)) {
			if parents == nil {
				parents = map[Kind]bool{}
			}
			parents[s.e.from] = true
		}
	}
	var hidden map[Kind]any
	var refusals, adaptErrs []error
	for _, s := range p.steps {
		kind := s.e.kind
		required := slices.Contains(cfg.require, kind)
		filtered := len(cfg.only) > 0 && !slices.Contains(cfg.only, kind) && !required
		if filtered && !(parents[kind] && s.auto) {
			continue
		}
		if !required && !s.auto && !comp.derivable(s.e, hidden) {
			continue
		}
		proxy, err := comp.build(v, s, hidden)
		if err != nil {
			if required {
				refusals = append(refusals, err)
			} else if s.adapt != nil {
				adaptErrs = append(adaptErrs, err)
			}
			continue
		}
		if filtered {
			if hidden == nil {
				hidden = map[Kind]any{}
			}
			hidden[kind] = proxy
			continue
		}
		comp.attach(kind, proxy)
		if s.note != "" {
			comp.notes = append(comp.notes, s.note)
		}
	}
	if len(refusals) > 0 {
		return nil, joinRefusals(refusals)
	}
	if len(comp.att) > 0 {
		c.observe(comp, hidden, cfg)
	}
	if len(comp.att) == 0 {
		if len(adaptErrs) > 0 { // the type's own adapters failed: say so first
			return nil, errors.Join(append(adaptErrs, noKind(v, p, cfg.only))...)
		}
		return nil, noKind(v, p, cfg.only)
	}
	return comp, nil
}

func composeOptions(opts []ComposeOption) composeConfig {
	var cfg composeConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// joinRefusals merges the refusals of required kinds into one error: one
// *validate.AbstractError when all are, else errors.Join.
func joinRefusals(errs []error) error {
	if ae := validate.Join(errs...); ae != nil && len(ae.Problems) > 0 {
		rest := []error{ae}
		for _, err := range errs {
			var x *validate.AbstractError
			if !errors.As(err, &x) {
				rest = append(rest, err)
			}
		}
		if len(rest) == 1 {
			return ae
		}
		return errors.Join(rest...)
	}
	return errors.Join(errs...)
}

// noKind explains why nothing attached: the problems of the kinds the value
// came near, nearest first (see nearness), or that it has none of any kind's
// methods.
func noKind(v any, p *plan, only []Kind) error {
	type refusal struct {
		err      error
		nearness float64
	}
	var near []refusal
	var kinds []string
	seen := map[string]bool{}
	for _, s := range p.steps {
		if len(only) > 0 && !slices.Contains(only, s.e.kind) {
			continue
		}
		kinds = append(kinds, string(s.e.kind))
		if s.err != nil && s.hasAny {
			// exec-context repeats context's problems word for word: say them once.
			if key := problemsKey(s.err); !seen[key] {
				seen[key] = true
				near = append(near, refusal{s.err, nearness(s.err, s.e.spec)})
			}
		}
	}
	// Nearest first; equally near ones keep the catalogue's order.
	slices.SortStableFunc(near, func(a, b refusal) int { return cmp.Compare(b.nearness, a.nearness) })
	refused := make([]error, len(near))
	for i, r := range near {
		refused[i] = r.err
	}
	if ae := validate.Join(refused...); ae != nil {
		return ae
	}
	return validate.Refuse(v, "any kind", "has none of the methods of the kinds %v", kinds)
}

// nearness is the share of the refused form's required methods (the form
// the refusal reports, from the kind's spec) that the value has by name,
// a method one typo away counting half: 1 when only signatures or receivers
// are wrong, 0 when it has none.
func nearness(err error, spec validate.Spec) float64 {
	var ae *validate.AbstractError
	if !errors.As(err, &ae) || len(ae.Problems) == 0 {
		return 0
	}
	form := spec
	for _, a := range spec.Alternatives {
		if a.Name == ae.Problems[0].Form {
			form = a
		}
	}
	required := requiredCount(form)
	if required == 0 {
		return 0
	}
	have := float64(required)
	for _, pr := range ae.Problems {
		if pr.Reason == validate.ReasonMissing {
			have--
			if pr.Near() {
				have += 0.5
			}
		}
	}
	return have / float64(required)
}

// problemsKey identifies a refusal's problems apart from the kind's name.
func problemsKey(err error) string {
	var ae *validate.AbstractError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	key := ""
	for _, p := range ae.Problems {
		key += fmt.Sprintf("%s|%s|%d|%s;", p.Form, p.Method, p.Reason, p.Hint)
	}
	return key
}

// Register composes v and keeps it under name, for Lookup, Unregister and
// All. A name already registered is refused with an error matching
// ErrDuplicate; nothing is replaced.
func (c *Composer) Register(name string, v any, opts ...ComposeOption) (*Composite, error) {
	if name == "" {
		return nil, errors.New("mixin: Register with an empty name")
	}
	if _, ok := c.Lookup(name); ok {
		return nil, errs.Errorf("name %q: %w", name, ErrDuplicate)
	}
	opts = append(opts[:len(opts):len(opts)], func(c *composeConfig) { c.regName = name })
	comp, err := c.Compose(v, opts...)
	if err != nil {
		return nil, &RegisterError{Name: name, Err: err}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.named[name]; ok {
		return nil, errs.Errorf("name %q: %w", name, ErrDuplicate)
	}
	c.named[name] = comp
	return comp, nil
}

// RegisterError is the error of a Register whose value could not be
// composed: it names the registration and wraps the reason (usually a
// *validate.AbstractError, which errors.As finds). With %+v it prints the
// reason's itemised form.
type RegisterError struct {
	Name string
	Err  error
}

// Error returns `mixin: register "name": ` and the reason, whose own
// "mixin: " is left out: the message says it once.
func (e *RegisterError) Error() string {
	return fmt.Sprintf("mixin: register %q: %s", e.Name, errs.Trim(fmt.Sprint(e.Err)))
}

// Unwrap returns the reason.
func (e *RegisterError) Unwrap() error { return e.Err }

// Format prints Error() for %v and %s; %+v puts the reason's %+v form (an
// itemised list for a *validate.AbstractError) after the name.
func (e *RegisterError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		fmt.Fprintf(f, "mixin: register %q: %s", e.Name, errs.Trim(fmt.Sprintf("%+v", e.Err)))
		return
	}
	_, _ = f.Write([]byte(e.Error()))
}

// Lookup returns the Composite registered under name.
func (c *Composer) Lookup(name string) (*Composite, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	comp, ok := c.named[name]
	return comp, ok
}

// Unregister removes the registration under name and reports whether there
// was one.
func (c *Composer) Unregister(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.named[name]
	delete(c.named, name)
	return ok
}

// All iterates over the registrations in name order, over a snapshot taken
// when iteration starts: the loop body may Register and Unregister.
func (c *Composer) All() iter.Seq2[string, *Composite] {
	return func(yield func(string, *Composite) bool) {
		c.mu.RLock()
		names := make([]string, 0, len(c.named))
		for n := range c.named {
			names = append(names, n)
		}
		snap := make(map[string]*Composite, len(c.named))
		for n, comp := range c.named {
			snap[n] = comp
		}
		c.mu.RUnlock()
		sort.Strings(names)
		for _, n := range names {
			if !yield(n, snap[n]) {
				return
			}
		}
	}
}

// Composite is a value with the proxies of the kinds it composed as. It is
// immutable and safe for concurrent use.
type Composite struct {
	value any
	notes []string    // see Notes
	att   []attached  // the kinds attached, in catalogue order: inline's storage up to four
	built [4]attached // inline storage, so that a Composite of up to four kinds is one allocation
}

type attached struct {
	kind  Kind
	proxy any
}

// Value returns the composed value (nil for a nil Composite, as Compose
// returns with an error: every method of a nil Composite answers as one
// with nothing attached).
func (c *Composite) Value() any {
	if c == nil {
		return nil
	}
	return c.value
}

// Notes returns what the value's author may want to know although it
// composed: each kind that attached by another of its forms while the value
// has methods of the kind's main form that look like a mistake (a type with
// Lock and Unlock, an Acquire() int and a Relase() error composes as a
// sync.Locker; the note names the Acquire and the Relase it passed over).
// nil when there is nothing to say.
func (c *Composite) Notes() []string {
	if c == nil {
		return nil
	}
	return c.notes
}

// Kinds returns the kinds attached, in catalogue order.
func (c *Composite) Kinds() []Kind {
	if c == nil {
		return nil
	}
	out := make([]Kind, len(c.att))
	for i, a := range c.att {
		out[i] = a.kind
	}
	return out
}

// Has reports whether kind is attached.
func (c *Composite) Has(kind Kind) bool {
	_, ok := c.Proxy(kind)
	return ok
}

// Proxy returns the proxy of any kind, built-in or user-defined.
func (c *Composite) Proxy(kind Kind) (any, bool) {
	if c == nil {
		return nil, false
	}
	for _, a := range c.att {
		if a.kind == kind {
			return a.proxy, true
		}
	}
	return nil, false
}

func (c *Composite) attach(kind Kind, proxy any) {
	if c.att == nil {
		c.att = c.built[:0]
	}
	c.att = append(c.att, attached{kind, proxy})
}

func (c *Composite) derivable(e *entry, hidden map[Kind]any) bool {
	if e.derive == nil {
		return false
	}
	_, ok := c.parent(e.from, hidden)
	return ok
}

// parent returns the proxy of kind, attached or built only to derive from.
func (c *Composite) parent(kind Kind, hidden map[Kind]any) (any, bool) {
	if p, ok := c.Proxy(kind); ok {
		return p, true
	}
	p, ok := hidden[kind]
	return p, ok
}

// build makes one kind's proxy: through the type's adapter, derived from a
// parent kind's proxy, or from the value itself.
func (c *Composite) build(v any, s step, hidden map[Kind]any) (any, error) {
	e := s.e
	if s.adapt != nil {
		a, err := s.adapt(v)
		if err != nil {
			return nil, errs.Errorf("the adapter of %T as %s failed: %w", v, e.kind, err)
		}
		if a == nil || reflectx.IsNilPointer(a) {
			return nil, errs.Errorf("the adapter of %T as %s returned nil (%T)", v, e.kind, a)
		}
		if err := validate.Check(a, e.spec); err != nil {
			return nil, err
		}
		if e.adapted != nil {
			return e.adapted(a, v)
		}
		return e.build(a)
	}
	if e.derive != nil {
		if parent, ok := c.parent(e.from, hidden); ok {
			return e.derive(parent)
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	return e.build(v)
}

func typed[P any](c *Composite, kind Kind) (P, bool) {
	p, ok := c.Proxy(kind)
	if !ok {
		var zero P
		return zero, false
	}
	t, ok := p.(P)
	return t, ok
}

// Context returns the context-manager proxy, if KindContext is attached.
func (c *Composite) Context() (*adapters.Context[any], bool) {
	return typed[*adapters.Context[any]](c, KindContext)
}

// Awaitable returns the awaitable proxy, if KindAwaitable is attached.
func (c *Composite) Awaitable() (*adapters.Awaitable[any], bool) {
	return typed[*adapters.Awaitable[any]](c, KindAwaitable)
}

// Lock returns the lock proxy, if KindLock is attached. For an owner lock it
// is the owner lock's own, whose Release checks ownership.
func (c *Composite) Lock() (*adapters.Lock, bool) {
	return typed[*adapters.Lock](c, KindLock)
}

// OwnerLock returns the owner-lock proxy, if KindOwnerLock is attached.
func (c *Composite) OwnerLock() (*adapters.OwnerLock, bool) {
	return typed[*adapters.OwnerLock](c, KindOwnerLock)
}

// Event returns the event proxy, if KindEvent is attached. Its Set takes
// any; a value the wrapped Set cannot take is refused (see Event.TrySet).
func (c *Composite) Event() (*adapters.Event[any], bool) {
	return typed[*adapters.Event[any]](c, KindEvent)
}

// ExecContext returns the executor-backed context proxy, if KindExecContext
// is attached. It runs on adapters.DefaultPool.
func (c *Composite) ExecContext() (*adapters.ExecContext[any], bool) {
	return typed[*adapters.ExecContext[any]](c, KindExecContext)
}

// Group returns the task-group proxy, if KindGroup is attached: by itself
// for a value with Setup or Cleanup, for any value when required.
func (c *Composite) Group() (*adapters.Group, bool) {
	return typed[*adapters.Group](c, KindGroup)
}
