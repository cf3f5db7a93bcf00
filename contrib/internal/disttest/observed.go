package disttest

import (
	"context"
	"sync"

	"github.com/gomixin/mixin/adapters"
)

// Observed is an adapters.Observer that keeps what it sees, for the
// battery's checks of what a proxy over an engine's lock reports.
type Observed struct {
	mu  sync.Mutex
	obs []adapters.Observation
}

// Observe keeps e.
func (o *Observed) Observe(_ context.Context, e adapters.Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.obs = append(o.obs, e)
}

// Of returns the observations of op, in the order they were reported.
func (o *Observed) Of(op adapters.Op) []adapters.Observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []adapters.Observation
	for _, e := range o.obs {
		if e.Op == op {
			out = append(out, e)
		}
	}
	return out
}
