package mixin

import (
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/observex"
)

// WithObserver makes every proxy the Composer composes report to o (see
// adapters.Observer) and keep its Stats: lock waits and holds, Enter and
// Exit, group tasks. Composites composed before are left as they were.
//
// An observer attaches at three levels, with an option of each level's
// type: WithObserver for a Composer (mixin.New), Observe for one Compose or
// Register call, adapters.WithObserver for one proxy made without a
// Composer (adapters.NewLock, ...). Observers of several levels add up.
func WithObserver(o adapters.Observer) Option {
	return func(c *Composer) { c.obs = adapters.Observers(c.obs, o) }
}

// Observe makes every proxy of this composite report to o, as well as to
// the Composer's observer (WithObserver), and keep its Stats. Give
// adapters.NopObserver{} for the Stats alone.
func Observe(o adapters.Observer) ComposeOption {
	return func(c *composeConfig) {
		if o != nil {
			c.obs = adapters.Observers(c.obs, o)
		}
	}
}

// Named names the composite's proxies in what they report to an observer
// (adapters.Observation.Name): a low-cardinality label. By default it is
// the name given to Register, else the value's type.
func Named(name string) ComposeOption {
	return func(c *composeConfig) { c.name = name }
}

// observe gives the proxies of comp, and those built only to derive others
// from, the observers of the Composer and of cfg, and their name.
func (c *Composer) observe(comp *Composite, hidden map[Kind]any, cfg composeConfig) {
	o := adapters.Observers(c.obs, cfg.obs)
	if o == nil {
		return
	}
	name := cfg.name
	if name == "" {
		name = cfg.regName
	}
	// A parent kind first: an owner lock's proxy labels the lock it shares.
	for _, p := range hidden {
		observex.Attach(p, o, name)
	}
	for _, a := range comp.att {
		observex.Attach(a.proxy, o, name)
	}
}
