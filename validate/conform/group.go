package conform

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/gomixin/mixin/adapters"
)

// Group checks that the values newGroup makes are task-group values (with
// Setup and/or Cleanup, Python's LoopContextMixin __setup__ and
// __cleanup__): the ABC check, Setup once before the body and Cleanup once
// after it ("setup-once-cleanup-once"), Cleanup once also when a task fails
// ("cleanup-after-failing-task": Exit returns the task's error), when a task
// panics ("cleanup-after-panicking-task": Exit re-raises it), and when the
// body fails ("cleanup-after-failing-body": Exit returns the body's error).
// The suite counts the calls by wrapping the value; every Enter and Exit is
// bounded, so a Setup or Cleanup that ignores its ctx fails its property.
func Group(t testing.TB, newGroup func() any, opts ...Option) bool {
	t.Helper()
	c := newConfig(opts)
	type counted struct {
		g                    *adapters.Group
		setups, cleanups     *atomic.Int32
		hasSetup, hasCleanup bool
	}
	mk := func(t testing.TB) *counted {
		t.Helper()
		v := newGroup()
		if _, err := adapters.NewGroup(v); err != nil {
			t.Errorf("not a group: %+v", err)
			return nil
		}
		w := &hookCounter{setup: hookOf(v, "Setup"), cleanup: hookOf(v, "Cleanup")}
		if w.setup == nil && w.cleanup == nil {
			t.Errorf("not a group: %T has neither Setup nor Cleanup", v)
			return nil
		}
		g, err := adapters.NewGroup(w)
		if err != nil {
			t.Errorf("conform: wrapping %T: %v", v, err)
			return nil
		}
		return &counted{g: g, setups: &w.setups, cleanups: &w.cleanups, hasSetup: w.setup != nil, hasCleanup: w.cleanup != nil}
	}
	if !c.property(t, "abc", func(t testing.TB) { t.Helper(); mk(t) }) {
		return false
	}
	enter := func(t testing.TB, x *counted) bool {
		ctx := context.Background() // the group's tasks live under Enter's ctx
		err, returned := within(t, c, "Enter (Setup)", ctx, func() error { return x.g.Enter(ctx) }, nil)
		if returned && err != nil {
			t.Errorf("expected Enter to succeed, Setup returned %v", err)
		}
		return returned && err == nil
	}
	type exitResult struct {
		err      error
		panicked any
	}
	exit := func(t testing.TB, x *counted, body error) (exitResult, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		return within(t, c, "Exit (Cleanup)", ctx, func() (r exitResult) {
			defer func() { r.panicked = recover() }()
			r.err = x.g.Exit(ctx, body)
			return r
		}, nil)
	}
	once := func(t testing.TB, x *counted, when string) {
		if x.hasSetup && x.setups.Load() != 1 {
			t.Errorf("expected Setup once %s, it ran %d times", when, x.setups.Load())
		}
		if x.hasCleanup && x.cleanups.Load() != 1 {
			t.Errorf("expected Cleanup once %s, it ran %d times", when, x.cleanups.Load())
		}
	}
	ok := c.property(t, "setup-once-cleanup-once", func(t testing.TB) {
		t.Helper()
		x := mk(t)
		if x == nil || !enter(t, x) {
			return
		}
		var before atomic.Int32
		for range 4 {
			x.g.Go(func(context.Context) error { before.Store(x.setups.Load()); return nil })
		}
		r, returned := exit(t, x, nil)
		if !returned {
			return
		}
		if r.err != nil || r.panicked != nil {
			t.Errorf("expected Exit to succeed, got %v (panic %v)", r.err, r.panicked)
		}
		if x.hasSetup && before.Load() != 1 {
			t.Errorf("expected Setup to have run before the tasks, they saw %d calls", before.Load())
		}
		once(t, x, "around the body")
	})
	boom := errors.New("conform: task failed")
	ok = c.property(t, "cleanup-after-failing-task", func(t testing.TB) {
		t.Helper()
		x := mk(t)
		if x == nil || !enter(t, x) {
			return
		}
		x.g.Go(func(context.Context) error { return boom })
		x.g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		r, returned := exit(t, x, nil)
		if !returned {
			return
		}
		if !errors.Is(r.err, boom) {
			t.Errorf("expected Exit to return the failed task's error, got %v", r.err)
		}
		once(t, x, "when a task fails")
	}) && ok
	ok = c.property(t, "cleanup-after-panicking-task", func(t testing.TB) {
		t.Helper()
		x := mk(t)
		if x == nil || !enter(t, x) {
			return
		}
		x.g.Go(func(context.Context) error { panic("conform: task broke") })
		r, returned := exit(t, x, nil)
		if !returned {
			return
		}
		if pe, isPE := r.panicked.(*adapters.PanicError); !isPE || pe.Value != "conform: task broke" {
			t.Errorf("expected Exit to re-raise the task's panic, got %v", fmt.Sprint(r.panicked))
		}
		once(t, x, "when a task panics")
	}) && ok
	ok = c.property(t, "cleanup-after-failing-body", func(t testing.TB) {
		t.Helper()
		x := mk(t)
		if x == nil || !enter(t, x) {
			return
		}
		body := errors.New("conform: body failed")
		r, returned := exit(t, x, body)
		if !returned {
			return
		}
		if !errors.Is(r.err, body) {
			t.Errorf("expected Exit to return the body's error, got %v", r.err)
		}
		once(t, x, "when the body fails")
	}) && ok
	return ok
}

// hookCounter has the canonical Setup and Cleanup, calling a value's own and
// counting the calls.
type hookCounter struct {
	setup, cleanup   func(context.Context) error
	setups, cleanups atomic.Int32
}

// Setup counts the call and calls the value's Setup, if it has one.
func (h *hookCounter) Setup(ctx context.Context) error {
	h.setups.Add(1)
	if h.setup == nil {
		return nil
	}
	return h.setup(ctx)
}

// Cleanup counts the call and calls the value's Cleanup, if it has one.
func (h *hookCounter) Cleanup(ctx context.Context) error {
	h.cleanups.Add(1)
	if h.cleanup == nil {
		return nil
	}
	return h.cleanup(ctx)
}

// hookOf binds a Setup or Cleanup in any shape the group kind accepts
// ((ctx) error, () error, ()); nil when v has none.
func hookOf(v any, name string) func(context.Context) error {
	m := reflect.ValueOf(v).MethodByName(name)
	if !m.IsValid() {
		return nil
	}
	return func(ctx context.Context) error {
		var in []reflect.Value
		if m.Type().NumIn() == 1 {
			in = []reflect.Value{reflect.ValueOf(&ctx).Elem()}
		}
		out := m.Call(in)
		if len(out) == 1 && !out[0].IsNil() {
			return out[0].Interface().(error)
		}
		return nil
	}
}
