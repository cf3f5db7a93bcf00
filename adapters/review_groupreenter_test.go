package adapters_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/gomixin/mixin/adapters"
)

type reviewHooks struct{ setups, cleanups atomic.Int32 }

func (h *reviewHooks) Setup(context.Context) error   { h.setups.Add(1); return nil }
func (h *reviewHooks) Cleanup(context.Context) error { h.cleanups.Add(1); return nil }

// A Group entered twice (nested, as a shared group is by two users) runs
// Setup twice, but the Exits run Cleanup once: Setup and Cleanup are not
// paired (the second Enter's Setup is never undone).
func TestReviewGroupReenteredSetupCleanupUnpaired(t *testing.T) {
	h := &reviewHooks{}
	g, err := adapters.NewGroup(h)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := g.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	_ = g.Exit(ctx, nil)
	_ = g.Exit(ctx, nil)
	if s, c := h.setups.Load(), h.cleanups.Load(); s != c {
		t.Errorf("Enter, Enter, Exit, Exit: Setup ran %d times, Cleanup %d", s, c)
	}
}
