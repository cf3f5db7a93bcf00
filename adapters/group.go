package adapters

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/gomixin/mixin/validate"
)

// The Group kind: Python's LoopContextMixin. Setup and Cleanup are optional;
// the Composer attaches a group by itself only to values that have one.
var groupKind = &kindSpec{spec: validate.Spec{
	Name: "group",
	Methods: []validate.Method{
		{Name: "Setup", Shapes: []reflect.Type{
			validate.Shape[func(context.Context) error](),
			validate.Shape[func() error](),
			validate.Shape[func()](),
		}, Optional: true},
		{Name: "Cleanup", Shapes: []reflect.Type{
			validate.Shape[func(context.Context) error](),
			validate.Shape[func() error](),
			validate.Shape[func()](),
		}, Optional: true},
	},
}}

// GroupSpec returns the methods of the group kind: optional Setup and
// Cleanup, as (ctx) error, () error or ().
func GroupSpec() validate.Spec { return groupKind.copySpec() }

// GroupOption configures a Group.
type GroupOption interface{ applyGroup(*groupConfig) }

type groupConfig struct {
	exec      Executor
	keepGoing bool
}

type groupOptionFunc func(*groupConfig)

func (f groupOptionFunc) applyGroup(c *groupConfig) { f(c) }

// ContinueOnError keeps a Group's other tasks running when one fails or
// panics; by default, as with errgroup.WithContext and asyncio.TaskGroup, the
// first failure cancels its siblings.
func ContinueOnError() GroupOption {
	return groupOptionFunc(func(c *groupConfig) { c.keepGoing = true })
}

// errExitCancel is the cause of the cancellation Exit gives the tasks, so
// that the errors it causes can be left out.
var errExitCancel = errors.New("mixin: group exiting")

// ErrStillRunning is matched by the error of Exit and Wait when their ctx
// ends while tasks are still running; the message says how many.
var ErrStillRunning = errors.New("mixin: group tasks still running")

// Group is a task group (Python's LoopContextMixin, Go's errgroup): Enter
// runs the value's Setup, Go starts tasks, each with a task identity of its
// own, and Exit runs Cleanup, cancels every running task and waits for all of
// them. The first task that fails or panics cancels its siblings unless
// ContinueOnError is given. A panic in a task is captured on its goroutine
// and re-raised from Exit or Wait in the caller's, after the other tasks have
// returned.
//
// A Group is safe for concurrent use. Make one with NewGroup; the zero Group
// is also ready to use: a bare group on goroutines, entered by its first Go
// if Enter was not called.
type Group struct {
	value   any
	setup   func(context.Context) error
	cleanup func(context.Context) error
	cfg     groupConfig

	once    sync.Once
	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelCauseFunc
	wg      sync.WaitGroup
	running atomic.Int64
	errs    []error
	panic   *PanicError
	failed  bool // a task failed or panicked: later cancellation errors are its doing
}

// NewGroup makes a Group over v, which may be nil (a bare group) or any value
// with optional Setup and Cleanup in the shapes (ctx) error, () error or ().
// A value whose Setup or Cleanup has another shape is refused with a
// *validate.AbstractError.
func NewGroup(v any, opts ...GroupOption) (*Group, error) {
	g := &Group{value: v}
	for _, o := range opts {
		if o != nil {
			o.applyGroup(&g.cfg)
		}
	}
	if v == nil {
		return g, nil
	}
	m, err := groupKind.match(v, nil)
	if err != nil {
		return nil, err
	}
	g.setup = bindHook(v, m, "Setup")
	g.cleanup = bindHook(v, m, "Cleanup")
	return g, nil
}

// bindHook binds an optional Setup or Cleanup; nil when absent.
func bindHook(v any, m *validate.Match, name string) func(context.Context) error {
	b, ok := m.Method(name)
	if !ok {
		return nil
	}
	if name == "Setup" {
		switch b.Shape {
		case 0:
			return v.(interface{ Setup(context.Context) error }).Setup
		case 1:
			x := v.(interface{ Setup() error })
			return func(context.Context) error { return x.Setup() }
		}
		x := v.(interface{ Setup() })
		return func(context.Context) error { x.Setup(); return nil }
	}
	switch b.Shape {
	case 0:
		return v.(interface{ Cleanup(context.Context) error }).Cleanup
	case 1:
		x := v.(interface{ Cleanup() error })
		return func(context.Context) error { return x.Cleanup() }
	}
	x := v.(interface{ Cleanup() })
	return func(context.Context) error { x.Cleanup(); return nil }
}

// init makes the group's ctx, once.
func (g *Group) init(parent context.Context) {
	g.once.Do(func() {
		if g.cfg.exec == nil {
			g.cfg.exec = GoExecutor{}
		}
		g.ctx, g.cancel = context.WithCancelCause(parent)
	})
}

// Value returns the wrapped value (nil for a bare group).
func (g *Group) Value() any {
	if g == nil {
		return nil
	}
	return g.value
}

// Enter runs the value's Setup with ctx and makes the group's ctx from ctx:
// tasks end when it does. If Setup fails, its error is returned and the
// group is not entered.
func (g *Group) Enter(ctx context.Context) error {
	if g == nil {
		return errUnusable("Group")
	}
	if g.setup != nil {
		if err := g.setup(ctx); err != nil {
			return err
		}
	}
	g.init(ctx)
	return nil
}

// Go starts fn on the group's executor with the group's ctx, given a task
// identity of its own (TaskOf works inside). On a bounded executor it waits
// for a place; if the group's ctx ends first, fn does not run and the group
// records the reason as its error.
func (g *Group) Go(fn func(ctx context.Context) error) {
	if g == nil || fn == nil {
		return
	}
	g.init(context.Background())
	g.wg.Add(1)
	g.running.Add(1)
	ctx := WithTask(g.ctx)
	err := g.cfg.exec.Submit(g.ctx, func() { g.runTask(ctx, fn) })
	if err != nil {
		g.finish(fmt.Errorf("mixin: group task not started: %w", err), nil)
	}
}

func (g *Group) runTask(ctx context.Context, fn func(context.Context) error) {
	var err error
	guard(func() { err = fn(ctx) }, func(pe *PanicError, goexit bool) {
		if goexit {
			err = ErrGoexit
		}
		g.finish(err, pe)
	})
}

// finish records a task's outcome. Cancellation errors of tasks that return
// after the group's ctx was cancelled are the group's doing and left out.
func (g *Group) finish(err error, pe *PanicError) {
	defer g.wg.Done()
	defer g.running.Add(-1)
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case pe != nil:
		if g.panic == nil {
			g.panic = pe
		}
	case err == nil:
		return
	case g.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, errExitCancel)) &&
		(context.Cause(g.ctx) == errExitCancel || g.failed):
		return // a cancellation the group caused
	default:
		g.errs = append(g.errs, err)
	}
	if !g.cfg.keepGoing && !g.failed {
		g.failed = true
		g.cancel(fmt.Errorf("mixin: a sibling task failed: %w", context.Canceled))
	}
}

// RunningTasks returns how many tasks have started and not yet returned.
func (g *Group) RunningTasks() int {
	if g == nil {
		return 0
	}
	return int(g.running.Load())
}

// Loop returns the executor the tasks run on.
func (g *Group) Loop() Executor {
	if g == nil {
		return nil
	}
	g.init(context.Background())
	return g.cfg.exec
}

// Wait waits, without cancelling, until every task has returned, and returns
// their errors joined (nil if none failed). When ctx ends first it returns an
// error matching ErrStillRunning and ctx's error. A task's panic is re-raised
// here, as a *PanicError, once all tasks have returned.
func (g *Group) Wait(ctx context.Context) error {
	if g == nil {
		return errUnusable("Group")
	}
	g.init(context.Background())
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("%w: %d still running: %w", ErrStillRunning, g.RunningTasks(), ctx.Err())
	}
	g.mu.Lock()
	pe, errs := g.panic, errors.Join(g.errs...)
	g.mu.Unlock()
	if pe != nil {
		panic(pe)
	}
	return errs
}

// Exit runs the value's Cleanup, cancels every running task, and waits until
// all have returned. It returns err (the body's), the tasks' errors and
// Cleanup's error joined, leaving out the cancellation errors it caused.
// When ctx ends while tasks ignore their cancellation, it returns an error
// matching ErrStillRunning that says how many are left, instead of hanging.
// A task's panic is re-raised here, as a *PanicError.
func (g *Group) Exit(ctx context.Context, err error) error {
	if g == nil {
		return errUnusable("Group")
	}
	g.init(context.Background())
	var cerr error
	if g.cleanup != nil {
		cerr = g.cleanup(ctx)
	}
	g.mu.Lock()
	g.cancel(errExitCancel)
	g.mu.Unlock()
	werr := g.Wait(ctx)
	return errors.Join(err, werr, cerr)
}
