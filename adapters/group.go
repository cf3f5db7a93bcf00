package adapters

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gomixin/mixin/internal/errs"
	"github.com/gomixin/mixin/validate"
)

// hook is the canonical form of Setup and Cleanup.
type hook = func(context.Context) error

var (
	setupMethod = optional(
		row(func(x interface{ Setup(context.Context) error }) hook { return x.Setup }),
		row(func(x interface{ Setup() error }) hook { return func(context.Context) error { return x.Setup() } }),
		row(func(x interface{ Setup() }) hook { return func(context.Context) error { x.Setup(); return nil } }),
	)
	cleanupMethod = optional(
		row(func(x interface{ Cleanup(context.Context) error }) hook { return x.Cleanup }),
		row(func(x interface{ Cleanup() error }) hook { return func(context.Context) error { return x.Cleanup() } }),
		row(func(x interface{ Cleanup() }) hook { return func(context.Context) error { x.Cleanup(); return nil } }),
	)
)

// The Group kind: Python's LoopContextMixin. Setup and Cleanup are optional;
// the Composer attaches a group by itself only to values that have one.
var groupKind = &kindSpec{spec: validate.Spec{
	Name:    "group",
	Methods: []validate.Method{setupMethod.spec(), cleanupMethod.spec()},
}}

// GroupSpec returns the methods of the group kind: optional Setup and
// Cleanup, as (ctx) error, () error or ().
func GroupSpec() validate.Spec { return groupKind.copySpec() }

// GroupOption configures a Group.
type GroupOption interface{ applyGroup(*groupConfig) }

type groupConfig struct {
	exec      Executor
	keepGoing bool
	probe     probeConfig
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
// and re-raised once, from Exit or Wait in the caller's goroutine, after the
// other tasks have returned.
//
// A Group is safe for concurrent use: Go may be called while another
// goroutine is in Wait or Exit (a task started during Exit is cancelled at
// once and waited for). Make one with NewGroup; the zero Group is also ready
// to use: a bare group on goroutines, whose tasks get a Background ctx until
// Enter gives it one.
type Group struct {
	value   any
	setup   func(context.Context) error
	cleanup func(context.Context) error
	cfg     groupConfig

	mu      sync.Mutex
	run     atomic.Pointer[groupRun] // nil until Enter or the first Go; replaced under mu
	entered bool                     // Enter made run (not the first Go)
	cleaned bool                     // Cleanup ran since the last Enter
	exited  bool                     // Exit cancelled the run; its tasks have not all returned yet
	tasks   idle
	errs    []error
	panic   *PanicError
	failed  bool   // a task failed or panicked: later cancellation errors are its doing
	probe   *probe // the observer and Stats counters; nil: none (see groupobserve.go)
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
	g.probe = g.cfg.probe.newProbe("group", v)
	if v == nil {
		return g, nil
	}
	m, err := groupKind.match(v, nil)
	if err != nil {
		return nil, err
	}
	g.setup, _ = setupMethod.bind(v, m)
	g.cleanup, _ = cleanupMethod.bind(v, m)
	return g, nil
}

// groupRun is the ctx tasks run under and its cancel.
type groupRun struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func newRun(parent context.Context) *groupRun {
	ctx, cancel := context.WithCancelCause(parent)
	return &groupRun{ctx, cancel}
}

// current returns the run tasks start under, making it from Background when
// neither Enter nor an earlier Go did.
func (g *Group) current() *groupRun {
	if r := g.run.Load(); r != nil {
		return r
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.runLocked()
}

func (g *Group) runLocked() *groupRun {
	r := g.run.Load()
	if r == nil {
		r = newRun(context.Background())
		g.run.Store(r)
	}
	return r
}

func (g *Group) executor() Executor {
	if g.cfg.exec == nil {
		return GoExecutor{}
	}
	return g.cfg.exec
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
// group is not entered. Tasks started by Go before Enter keep running, and
// are cancelled when Enter's ctx ends, as the later ones are. Enter on a
// group already entered (and not exited) does nothing and returns nil:
// Setup runs once per run, as Cleanup does.
func (g *Group) Enter(ctx context.Context) error {
	if ctx == nil {
		return nilCtx("Group.Enter")
	}
	if g == nil {
		return errUnusable("Group")
	}
	if !g.renew() {
		// An Exit gave up on tasks that ignore their cancellation: a new run
		// would count them as its own.
		return errs.Errorf("Enter after Exit: %w: %d tasks of the exited run", ErrStillRunning, g.RunningTasks())
	}
	g.mu.Lock()
	entered := g.entered
	g.mu.Unlock()
	if entered {
		return nil
	}
	if g.setup != nil {
		if err := g.setup(ctx); err != nil {
			return err
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cleaned = false
	if g.entered {
		return nil
	}
	g.entered = true
	early := g.run.Load()
	late := newRun(ctx)
	g.run.Store(late)
	if early != nil {
		// Go ran first, under a Background ctx: link that one to Enter's, so
		// that ending Enter's ctx (or Exit) cancels the earlier tasks too.
		context.AfterFunc(late.ctx, func() { early.cancel(context.Cause(late.ctx)) })
	}
	return nil
}

// Go starts fn on the group's executor with the group's ctx, given a task
// identity of its own (TaskOf works inside). On a bounded executor it waits
// for a place; if the group's ctx ends first, fn does not run and the group
// records the reason as its error. Go may be called concurrently with Wait
// and Exit.
func (g *Group) Go(fn func(ctx context.Context) error) {
	if g == nil || fn == nil {
		return
	}
	r := g.current()
	g.tasks.add()
	t := &groupTask{taskCtx: taskCtx{Context: r.ctx, task: Task(lastTask.Add(1))}, g: g, r: r, fn: fn}
	ctx := &t.taskCtx
	if g.probe != nil {
		t.submitted = now()
	}
	var err error
	// An executor that panics has not started the task (as far as anyone
	// can tell): it is counted as not run, then the panic goes on to Go's
	// caller.
	doorExecutor.call(func() { err = g.executor().Submit(r.ctx, t.run) }, func() {
		g.notStarted(ctx, r, t, errs.Errorf("group task not started: the executor panicked"))
	})
	if err != nil {
		g.notStarted(ctx, r, t, errs.Errorf("group task not started: %w", err))
	}
}

// notStarted records a task its executor did not start, unless it started
// after all (an executor that panicked after starting it).
func (g *Group) notStarted(ctx context.Context, r *groupRun, t *groupTask, err error) {
	if !t.claimed.CompareAndSwap(false, true) {
		return
	}
	if g.probe != nil {
		g.probe.taskNotRun(ctx, t.submitted, err)
	}
	g.finish(ctx, r, err, nil)
}

// groupTask is one task of a Group: its ctx (a task identity of its own)
// and what runs it, in one allocation.
type groupTask struct {
	taskCtx
	g         *Group
	r         *groupRun
	fn        func(context.Context) error
	submitted int64
	claimed   atomic.Bool // run, or recorded as not run: whichever is first
}

func (t *groupTask) run() {
	if t.claimed.CompareAndSwap(false, true) {
		t.g.runTask(&t.taskCtx, t.r, t.fn, t.submitted)
	}
}

func (g *Group) runTask(ctx context.Context, r *groupRun, fn func(context.Context) error, submitted int64) {
	var err error
	var started int64
	// The start is reported inside the task's door: an observer that exits
	// the goroutine ends the task as a Goexit of its own would.
	doorTask.guard(func() {
		if g.probe != nil {
			started = g.probe.taskStart(ctx, submitted)
		}
		err = fn(ctx)
	}, func(pe *PanicError, goexit bool) {
		if goexit {
			err = ErrGoexit
		}
		defer g.tasks.done()
		kept := g.record(ctx, err, pe)
		if g.probe != nil {
			g.probe.taskEnd(ctx, started, err, pe, kept)
		}
	})
}

// finish records the outcome of a task that did not run, and counts it
// done.
func (g *Group) finish(ctx context.Context, _ *groupRun, err error, pe *PanicError) {
	defer g.tasks.done()
	g.record(ctx, err, pe)
}

// record records a task's outcome and reports whether the group keeps it
// as a failure (a panic, or an error Wait and Exit return). A task that
// returns only cancellation errors after the group's ctx was cancelled (by
// Exit, or by a sibling's failure) returns what the group caused, and is
// left out; an error that carries anything else is kept.
func (g *Group) record(ctx context.Context, err error, pe *PanicError) (kept bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case pe != nil:
		if g.panic == nil {
			g.panic = pe
		}
	case err == nil:
		return false
	case ctx.Err() != nil && onlyCancellation(err) &&
		(errors.Is(context.Cause(ctx), errExitCancel) || g.failed):
		return false // a cancellation the group caused
	default:
		g.errs = append(g.errs, err)
	}
	if !g.cfg.keepGoing && !g.failed {
		g.failed = true
		// (an earlier run, from before Enter, is linked to the current one)
		g.runLocked().cancel(errs.Errorf("a sibling task failed: %w", context.Canceled))
	}
	return true
}

// onlyCancellation reports whether err is made of cancellation errors only:
// context.Canceled or the group's exit cause, however wrapped or joined.
func onlyCancellation(err error) bool {
	switch x := err.(type) {
	case nil:
		return true
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			if !onlyCancellation(e) {
				return false
			}
		}
		return len(x.Unwrap()) > 0
	case interface{ Unwrap() error }:
		if inner := x.Unwrap(); inner != nil {
			return onlyCancellation(inner)
		}
	}
	return err == context.Canceled || err == errExitCancel
}

// RunningTasks returns how many tasks have started and not yet returned.
func (g *Group) RunningTasks() int {
	if g == nil {
		return 0
	}
	return g.tasks.count()
}

// Loop returns the executor the tasks run on.
func (g *Group) Loop() Executor {
	if g == nil {
		return nil
	}
	return g.executor()
}

// Wait waits, without cancelling, until no task runs, and returns their
// errors joined (nil if none failed). When every task has already returned,
// it returns their outcome even if ctx has ended; when ctx ends first, an
// error matching ErrStillRunning and ctx's error. A task's panic is
// re-raised, as a *PanicError, by the first Wait or Exit to see it. A Wait
// that gives up leaves no goroutine behind.
func (g *Group) Wait(ctx context.Context) error {
	if ctx == nil {
		return nilCtx("Group.Wait")
	}
	if g == nil {
		return errUnusable("Group")
	}
	return g.wait(ctx, false)
}

// wait waits for the tasks; take clears the errors it returns (Exit's).
func (g *Group) wait(ctx context.Context, take bool) error {
	if err := g.tasks.wait(ctx); err != nil {
		return errs.Errorf("%w: %d still running: %w", ErrStillRunning, g.RunningTasks(), err)
	}
	g.mu.Lock()
	pe, errs := g.panic, errors.Join(g.errs...)
	g.panic = nil
	if take {
		g.errs = nil
	}
	g.mu.Unlock()
	if pe != nil {
		panic(pe)
	}
	return errs
}

// Exit runs the value's Cleanup (once per Enter: a second Exit does not run
// it again), cancels every running task, and waits until all have returned.
// It returns err (the body's), the tasks' errors and Cleanup's error joined,
// leaving out the cancellation errors it caused; the tasks' errors are
// returned once, so a second Exit does not repeat them. When ctx ends while
// tasks ignore their cancellation, it returns an error matching
// ErrStillRunning that says how many are left, instead of hanging. A task's
// panic is re-raised here, as a *PanicError, unless a Wait already did. A
// Cleanup that panics (or calls runtime.Goexit) still has the tasks
// cancelled and waited for, bounded by ctx, before its panic goes on.
//
// After Exit, Go starts nothing (its ctx has ended) until the group is
// entered again: Enter then starts a fresh run, with Setup, a new ctx and no
// errors carried over. An Enter while tasks of the exited run still run
// returns an error matching ErrStillRunning.
func (g *Group) Exit(ctx context.Context, err error) error {
	if ctx == nil {
		return nilCtx("Group.Exit")
	}
	if g == nil {
		return errUnusable("Group")
	}
	g.mu.Lock()
	runCleanup := g.cleanup != nil && !g.cleaned
	g.cleaned = true
	g.mu.Unlock()
	var cerr error
	if runCleanup {
		finished := false
		defer func() {
			if !finished {
				// Cleanup panicked or called runtime.Goexit: the tasks are
				// still cancelled and waited for before that goes on.
				g.stop()
				_ = g.tasks.wait(ctx)
			}
		}()
		cerr = g.cleanup(ctx)
		finished = true
	}
	g.stop()
	werr := g.wait(ctx, true)
	return errors.Join(err, werr, cerr)
}

// stop cancels the run, as Exit does.
func (g *Group) stop() {
	g.mu.Lock()
	g.runLocked().cancel(errExitCancel)
	g.exited = true
	g.mu.Unlock()
}

// renew makes an exited group new for Enter, once every task of the exited
// run has returned, so that Enter starts a fresh run; false while some
// still run.
func (g *Group) renew() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.exited {
		return true
	}
	if g.tasks.count() > 0 {
		return false
	}
	g.run.Store(nil)
	g.entered, g.exited, g.failed = false, false, false
	g.errs, g.panic = nil, nil // nothing of the exited run is the new one's
	return true
}
