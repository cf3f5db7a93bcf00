package adapters_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/adapters/internal/faultgen"
)

// The fault matrix: for every kind, form and shape (the rows generated from
// the specs into faultmatrix_gen_test.go), every user method the row has,
// every fault a user method can make, every proxy entry point of the kind
// and a live, an ending and an ended ctx, it drives the proxy over a user
// value that makes that fault, and checks the promises: no panic escapes but
// the user's own, no lock is left held and no context left entered that the
// caller does not know of, every call returns within its ctx plus a bound,
// every error is the fault, the ctx's or a documented sentinel, and no
// goroutine is left once the user's blocked calls are let go.

//go:generate go run ./internal/faultgen/cmd

func TestFaultMatrixIsGenerated(t *testing.T) {
	src, err := faultgen.Source("adapters_test")
	require.NoError(t, err)
	have, err := os.ReadFile("faultmatrix_gen_test.go")
	require.NoError(t, err)
	assert.True(t, bytes.Equal(have, src),
		"faultmatrix_gen_test.go is stale: the shape rows changed; run go generate ./adapters")
}

// genRow is one generated user type.
type genRow struct {
	typ, kind, form, varied string
	methods                 []string
	withCtx                 []string // the methods whose first parameter is a ctx
	withErr                 []string // the methods that return an error
	withNo                  []string // the methods that return a bool or a T: they can say no
	make                    func(*faulty) any
}

// fault is what a user method does instead of its job.
type fault int

const (
	faultNone     fault = iota
	faultPanic          // panics with faultValue
	faultGoexit         // calls runtime.Goexit
	faultError          // returns errFault (a failed call: nothing changed)
	faultNo             // returns false / the zero value / nothing (a lock release: the lease was lost, and it is free)
	faultBlockCtx       // blocks until its ctx ends (forever without a ctx), then returns ctx.Err()
	faultBlock          // blocks until the test lets it go, then does its job
	faultCallback       // calls back into the proxy, then does its job
)

var faultNames = [...]string{"none", "panic", "goexit", "error", "no", "block-until-ctx", "block", "callback"}

func (f fault) String() string { return faultNames[f] }

// faultValue is the panic value of faultPanic.
var faultValue = &struct{ name string }{"fault-matrix panic"}

// errFault is faultError's error: a network error, so that an unlock
// reporting false with it is a failed call, not a lost lock.
var errFault = &net.OpError{Op: "call", Net: "tcp", Err: errors.New("fault matrix: injected failure")}

var errNotHeld = errors.New("fault matrix: not held")

// anyTask is the owner of a hold taken by an Acquire that has no ctx.
const anyTask = ^adapters.Task(0)

// result is what a generated method returns, field by result type.
type result struct {
	ok  bool
	err error
	t   int
	ch  <-chan struct{}
}

// faulty is the user value's behaviour: the kind's contract, or a fault.
type faulty struct {
	kind    string
	method  string // the faulted method
	fault   fault
	off     atomic.Bool   // faults off: settling after the scenario
	release chan struct{} // lets faultBlock calls go
	back    func()        // the callback into the proxy

	sem     chan struct{} // a lock: held when full
	mu      sync.Mutex
	owner   adapters.Task
	entered atomic.Int32
	exited  atomic.Int32
	done    chan struct{} // an awaitable: closed when resolved
	val     int           // an event
	set     bool
	gen     chan struct{} // closed by the next Set
	setups  atomic.Int32
	cleans  atomic.Int32
}

func newFaulty(kind string) *faulty {
	f := &faulty{kind: kind, sem: make(chan struct{}, 1), release: make(chan struct{}),
		done: make(chan struct{}), gen: make(chan struct{})}
	close(f.done)
	return f
}

func (f *faulty) call(name string, args []any) result {
	var ctx context.Context
	for _, a := range args {
		if c, ok := a.(context.Context); ok {
			ctx = c
		}
	}
	if name == f.method && !f.off.Load() {
		switch f.fault {
		case faultPanic:
			panic(faultValue)
		case faultGoexit:
			runtime.Goexit()
		case faultError:
			return result{err: errFault}
		case faultNo:
			switch {
			case acquiring(name): // not acquired
			case releasing(name):
				f.free() // a lost lease: no longer held, by anyone
			default: // done, but saying no (false, the zero value)
				r := f.job(name, ctx, args)
				return result{err: r.err, ch: r.ch}
			}
			return result{}
		case faultBlockCtx:
			if ctx == nil {
				<-f.release
				break
			}
			select {
			case <-ctx.Done():
				return result{err: ctx.Err()}
			case <-f.release: // a ctx that never ends: the test lets it go
			}
		case faultBlock:
			<-f.release
		case faultCallback:
			f.back()
		}
	}
	return f.job(name, ctx, args)
}

func acquiring(name string) bool {
	switch name {
	case "Acquire", "Lock", "LockContext", "TryLock", "TryAcquire":
		return true
	}
	return false
}

func releasing(name string) bool {
	switch name {
	case "Release", "Unlock", "UnlockContext", "ReleaseUnchecked":
		return true
	}
	return false
}

func exiting(name string) bool {
	switch name {
	case "Exit", "Close", "Shutdown", "Stop", "GracefulStop":
		return true
	}
	return false
}

func (f *faulty) free() {
	select {
	case <-f.sem:
		f.mu.Lock()
		f.owner = 0
		f.mu.Unlock()
	default:
	}
}

func (f *faulty) held() bool { return len(f.sem) == 1 }

// job is the kind's contract for the method.
func (f *faulty) job(name string, ctx context.Context, args []any) result {
	switch name {
	case "Acquire", "Lock", "LockContext":
		if ctx != nil && ctx.Done() != nil {
			select {
			case f.sem <- struct{}{}:
			case <-ctx.Done():
				return result{err: ctx.Err()}
			}
		} else {
			f.sem <- struct{}{}
		}
		f.takeOwner(ctx)
		return result{ok: true}
	case "TryLock", "TryAcquire":
		select {
		case f.sem <- struct{}{}:
			f.takeOwner(ctx)
			return result{ok: true}
		default:
			return result{}
		}
	case "Release", "Unlock", "UnlockContext", "ReleaseUnchecked":
		if !f.held() {
			return result{err: errNotHeld}
		}
		f.free()
		return result{ok: true}
	case "Locked":
		return result{ok: f.held()}
	case "IsOwner":
		task, ok := adapters.TaskOf(ctx)
		f.mu.Lock()
		defer f.mu.Unlock()
		return result{ok: ok && f.held() && (f.owner == task || f.owner == anyTask)}
	case "AcknowledgeLocksmith":
		return result{ok: true}
	case "Lost", "Err":
		return result{}
	case "Enter":
		f.entered.Add(1)
		return result{t: 1}
	case "Exit", "Close", "Shutdown", "Stop", "GracefulStop":
		f.exited.Add(1)
		return result{}
	case "Done":
		return result{ch: f.done}
	case "Setup":
		f.setups.Add(1)
		return result{}
	case "Cleanup":
		f.cleans.Add(1)
		return result{}
	case "Set":
		f.mu.Lock()
		f.val, f.set = args[0].(int), true
		close(f.gen)
		f.gen = make(chan struct{})
		f.mu.Unlock()
		return result{ok: true}
	case "Clear":
		f.mu.Lock()
		f.set = false
		f.mu.Unlock()
		return result{}
	case "IsSet":
		f.mu.Lock()
		defer f.mu.Unlock()
		return result{ok: f.set}
	case "Get":
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.set {
			return result{err: adapters.ErrNoValue}
		}
		return result{ok: true, t: f.val}
	case "Wait", "WaitForNext":
		if f.kind != "event" {
			return f.wait(ctx, f.done, 7)
		}
		f.mu.Lock()
		if name == "Wait" && f.set {
			defer f.mu.Unlock()
			return result{ok: true, t: f.val}
		}
		gen := f.gen
		f.mu.Unlock()
		r := f.wait(ctx, gen, 0)
		f.mu.Lock()
		r.t = f.val
		f.mu.Unlock()
		return r
	}
	panic("fault matrix: no job for method " + name)
}

func (f *faulty) takeOwner(ctx context.Context) {
	task := anyTask // an Acquire without a ctx cannot know its task: any is owner
	if ctx != nil {
		task, _ = adapters.TaskOf(ctx)
	}
	f.mu.Lock()
	f.owner = task
	f.mu.Unlock()
}

func (f *faulty) wait(ctx context.Context, ch <-chan struct{}, v int) result {
	if ctx == nil {
		<-ch
		return result{ok: true, t: v}
	}
	select {
	case <-ch:
		return result{ok: true, t: v}
	case <-ctx.Done():
		return result{err: ctx.Err()}
	}
}

// faults returns the faults a method of the row's shape can make: an error
// only from a method that returns one, "no" from one that returns a bool or
// a T, and a block until its ctx ends from one that takes a ctx.
func faults(m string, row genRow) []fault {
	out := []fault{faultPanic, faultGoexit, faultBlock, faultCallback}
	if slices.Contains(row.withErr, m) {
		out = append(out, faultError)
	}
	if slices.Contains(row.withNo, m) {
		out = append(out, faultNo)
	}
	if slices.Contains(row.withCtx, m) {
		out = append(out, faultBlockCtx)
	}
	return out
}

// ctxCase is how the entry point's ctx behaves.
type ctxCase int

const (
	ctxLive ctxCase = iota
	ctxEnding
	ctxEnded
)

var ctxNames = [...]string{"live", "ending", "ended"}

const (
	endingAfter = 2 * time.Millisecond
	bound       = 2 * time.Second // how long past its ctx a call may take
)

// entry is one proxy entry point of a kind.
type entry struct {
	name string
	// run drives the proxy; held reports that the caller holds what it
	// got (a lock acquired, a context entered) and must give it back.
	run func(p any, ctx context.Context) (err error, held bool)
	// live reports whether the entry point returns with a live ctx when the
	// user value does not block (WaitForNext never does).
	live bool
}

func lockOf(p any) *adapters.Lock {
	if o, ok := p.(*adapters.OwnerLock); ok {
		return o.AsLock()
	}
	return p.(*adapters.Lock)
}

var lockEntries = []entry{
	{"Acquire", func(p any, ctx context.Context) (error, bool) {
		ok, err := lockOf(p).Acquire(ctx)
		return err, ok && err == nil
	}, true},
	{"Acquire+Release", func(p any, ctx context.Context) (error, bool) {
		l := lockOf(p)
		ok, err := l.Acquire(ctx)
		if !ok || err != nil {
			return err, false
		}
		err = l.Release(ctx)
		return err, err != nil && !errors.Is(err, adapters.ErrLockLost)
	}, true},
	{"Do", func(p any, ctx context.Context) (error, bool) {
		return lockOf(p).Do(ctx, func(context.Context) error { return nil }), false
	}, true},
	{"TryAcquire", func(p any, ctx context.Context) (error, bool) {
		ok, err := lockOf(p).TryAcquire(ctx)
		return err, ok && err == nil
	}, true},
	{"Enter+Exit", func(p any, ctx context.Context) (error, bool) {
		l := lockOf(p)
		if _, err := l.Enter(ctx); err != nil {
			return err, false
		}
		err := l.Exit(ctx, nil)
		return err, err != nil && !errors.Is(err, adapters.ErrLockLost)
	}, true},
}

var contextEntries = []entry{
	{"Enter", func(p any, ctx context.Context) (error, bool) {
		_, err := enterOf(p)(ctx)
		return err, err == nil
	}, true},
	{"Enter+Exit", func(p any, ctx context.Context) (error, bool) {
		if _, err := enterOf(p)(ctx); err != nil {
			return err, false
		}
		return exitOf(p)(ctx, nil), false
	}, true},
	{"Do", func(p any, ctx context.Context) (error, bool) {
		switch c := p.(type) {
		case *adapters.Context[any]:
			return c.Do(ctx, func(context.Context, any) error { return nil }), false
		case *adapters.ExecContext[any]:
			return c.Do(ctx, func(context.Context, any) error { return nil }), false
		}
		panic("not a context")
	}, true},
}

func enterOf(p any) func(context.Context) (any, error) {
	if c, ok := p.(*adapters.Context[any]); ok {
		return c.Enter
	}
	return p.(*adapters.ExecContext[any]).Enter
}

func exitOf(p any) func(context.Context, error) error {
	if c, ok := p.(*adapters.Context[any]); ok {
		return c.Exit
	}
	return p.(*adapters.ExecContext[any]).Exit
}

var awaitableEntries = []entry{
	{"Await", func(p any, ctx context.Context) (error, bool) {
		_, err := p.(*adapters.Awaitable[int]).Await(ctx)
		return err, false
	}, true},
	{"Chan", func(p any, ctx context.Context) (error, bool) {
		r := <-p.(*adapters.Awaitable[int]).Chan(ctx)
		return r.Err, false
	}, true},
}

var eventEntries = []entry{
	{"Wait", func(p any, ctx context.Context) (error, bool) {
		_, err := p.(*adapters.Event[int]).Wait(ctx)
		return err, false
	}, true},
	{"WaitForValue", func(p any, ctx context.Context) (error, bool) {
		return p.(*adapters.Event[int]).WaitForValue(ctx, 5), false
	}, true},
	{"WaitForNext", func(p any, ctx context.Context) (error, bool) {
		_, err := p.(*adapters.Event[int]).WaitForNext(ctx)
		return err, false
	}, false},
	{"Set+Get+Clear", func(p any, ctx context.Context) (error, bool) {
		e := p.(*adapters.Event[int])
		if err := e.TrySet(6); err != nil {
			return err, false
		}
		_ = e.IsSet()
		if _, err := e.Get(); err != nil {
			return err, false
		}
		return e.TryClear(), false
	}, true},
	{"Stream", func(p any, ctx context.Context) (error, bool) {
		e := p.(*adapters.Event[int])
		for range e.Stream(ctx) {
			break
		}
		return nil, false
	}, false},
}

var groupEntries = []entry{
	{"Enter+Go+Exit", func(p any, ctx context.Context) (error, bool) {
		g := p.(*adapters.Group)
		if err := g.Enter(ctx); err != nil {
			return err, false
		}
		g.Go(func(ctx context.Context) error { return nil })
		return g.Exit(ctx, nil), false
	}, true},
	{"Go+Wait", func(p any, ctx context.Context) (error, bool) {
		g := p.(*adapters.Group)
		g.Go(func(ctx context.Context) error { return nil })
		return g.Wait(ctx), false
	}, true},
}

func entriesOf(kind string) []entry {
	switch kind {
	case "lock", "owner-lock":
		return lockEntries
	case "context", "exec-context":
		return contextEntries
	case "awaitable":
		return awaitableEntries
	case "event":
		return eventEntries
	}
	return groupEntries
}

// watcher is the observer of the observed cells: it reads what it is told,
// so that the race detector sees the observed paths.
var watcher = adapters.ObserverFunc(func(_ context.Context, o adapters.Observation) {
	_ = o.Duration
})

// compose makes the kind's proxy over v; observed gives it an observer, so
// that its observed paths (taken instead of the plain ones) are driven too.
func compose(kind string, v any, observed bool) (any, error) {
	obs := adapters.WithStats()
	if observed {
		obs = adapters.WithObserver(watcher)
	}
	switch kind {
	case "lock":
		if !observed {
			return adapters.NewLock(v, adapters.WithReleaseTimeout(bound/4))
		}
		return adapters.NewLock(v, adapters.WithReleaseTimeout(bound/4), obs)
	case "owner-lock":
		if !observed {
			return adapters.NewOwnerLock(v, adapters.WithReleaseTimeout(bound/4))
		}
		return adapters.NewOwnerLock(v, adapters.WithReleaseTimeout(bound/4), obs)
	}
	if !observed {
		switch kind {
		case "context":
			return adapters.NewContext[any](v)
		case "exec-context":
			return adapters.NewExecContext[any](v)
		case "awaitable":
			return adapters.NewAwaitable[int](v)
		case "event":
			return adapters.NewEvent[int](v)
		}
		return adapters.NewGroup(v)
	}
	switch kind {
	case "context":
		return adapters.NewContext[any](v, obs)
	case "exec-context":
		return adapters.NewExecContext[any](v, obs)
	case "awaitable":
		return adapters.NewAwaitable[int](v, obs)
	case "event":
		return adapters.NewEvent[int](v, obs)
	}
	return adapters.NewGroup(v, obs)
}

// query is a read-only call into the proxy, for faultCallback.
func query(p any) {
	switch x := p.(type) {
	case *adapters.Lock:
		_ = x.Locked()
	case *adapters.OwnerLock:
		_ = x.Locked()
	case *adapters.Event[int]:
		_ = x.Value()
	case *adapters.Group:
		_ = x.RunningTasks()
	case interface{ Value() any }:
		_ = x.Value()
	}
}

// scenario is one cell of the matrix.
type scenario struct {
	row      genRow
	method   string
	fault    fault
	entry    entry
	ctx      ctxCase
	observed bool // the proxy has an observer
}

func (s scenario) String() string {
	obs := ""
	if s.observed {
		obs = " observed"
	}
	return fmt.Sprintf("%s(%s)%s %s:%v %s ctx=%s", s.row.typ, s.row.kind, obs, s.method, s.fault, s.entry.name, ctxNames[s.ctx])
}

// outcome is how an entry point's call ended.
type outcome struct {
	err      error
	held     bool
	panicked any
	goexit   bool
}

// allowed reports whether err is one the entry point may return.
func allowed(err error) bool {
	for _, want := range []error{errFault, errNotHeld, context.Canceled, context.DeadlineExceeded,
		adapters.ErrNotAcquired, adapters.ErrNotLocked, adapters.ErrNotOwner, adapters.ErrNoValue,
		adapters.ErrGoexit, adapters.ErrLockLost, adapters.ErrStillRunning, adapters.ErrNoTask, adapters.ErrCannotTry} {
		if errors.Is(err, want) {
			return true
		}
	}
	var pe *adapters.PanicError
	return errors.As(err, &pe) && pe.Value == faultValue
}

// run plays one scenario and returns what broke, "" if nothing did.
func (s scenario) run() string {
	f := newFaulty(s.row.kind)
	v := s.row.make(f)
	p, err := compose(s.row.kind, v, s.observed)
	if err != nil {
		return fmt.Sprintf("does not compose: %v", err)
	}
	if s.row.kind == "event" {
		f.val, f.set = 5, true
	}
	f.method, f.fault = s.method, s.fault
	f.back = func() { query(p) }

	base := adapters.WithTask(context.Background())
	ctx, cancel := base, context.CancelFunc(func() {})
	switch s.ctx {
	case ctxEnding:
		ctx, cancel = context.WithTimeout(base, endingAfter)
	case ctxEnded:
		ctx, cancel = context.WithCancel(base)
		cancel()
	}
	defer cancel()

	done := make(chan outcome, 1)
	go func() {
		var out outcome
		normal := false
		defer func() {
			if !normal {
				if out.panicked = recover(); out.panicked == nil {
					out.goexit = true
				}
			}
			done <- out
		}()
		out.err, out.held = s.entry.run(p, ctx)
		normal = true
	}()

	var problems []string
	blocking := s.fault == faultBlock || s.fault == faultBlockCtx
	var out outcome
	returned := false
	switch {
	case s.ctx == ctxLive && blocking:
		// Nothing can end the call but the test letting the user's go.
	case blocking && !s.bounded():
		// A user method the proxy calls in place, by design: it returns
		// when the user's call does. Let it go once the ctx has ended.
		time.Sleep(endingAfter)
	default:
		limit := bound
		if s.ctx == ctxEnding {
			limit += endingAfter
		}
		select {
		case out = <-done:
			returned = true
		case <-time.After(limit):
			problems = append(problems, fmt.Sprintf("did not return within %v of its ctx", limit))
			dumpOnce(s)
		}
	}
	f.off.Store(true)
	close(f.release)
	if !returned {
		cancel()
		select {
		case out = <-done:
		case <-time.After(bound):
			return strings.Join(append(problems, "still blocked after its ctx ended and the user's call was let go"), "; ")
		}
	}

	switch {
	case out.goexit && s.fault != faultGoexit:
		problems = append(problems, "the goroutine exited though no user method called runtime.Goexit")
	case out.panicked != nil:
		if pe, ok := out.panicked.(*adapters.PanicError); !(out.panicked == faultValue || ok && pe.Value == faultValue) {
			problems = append(problems, fmt.Sprintf("a panic that is not the user's escaped: %v", out.panicked))
		}
	case out.err != nil && !allowed(out.err):
		problems = append(problems, fmt.Sprintf("an undocumented error: %v", out.err))
	case out.err != nil && s.fault == faultNone && s.ctx == ctxLive && !errors.Is(out.err, adapters.ErrCannotTry):
		problems = append(problems, fmt.Sprintf("failed with no fault and a live ctx: %v", out.err))
	}
	problems = append(problems, s.settle(f, p, base, out)...)
	return strings.Join(problems, "; ")
}

var dumped sync.Once

// dumpOnce writes every goroutine's stack to $MIXIN_MATRIX_DUMP, once, when
// a cell first overruns its bound: to see where the call waits.
func dumpOnce(s scenario) {
	path := os.Getenv("MIXIN_MATRIX_DUMP")
	if path == "" {
		return
	}
	dumped.Do(func() {
		buf := make([]byte, 64<<20)
		n := runtime.Stack(buf, true)
		_ = os.WriteFile(path, append([]byte(s.String()+"\n\n"), buf[:n]...), 0o644)
	})
}

// bounded reports whether the proxy promises to return within the ctx when
// the faulted user method blocks: it does for the context-less waits it
// runs on a goroutine of its own (a lock's blocking Acquire, an awaitable's
// Wait, an exec-context's Enter and Exit). A method that takes a ctx is
// trusted with it, and the others (Get, Locked, a plain context's Enter,
// a release) are called in place, so they return when the user's call does;
// the README says so.
func (s scenario) bounded() bool {
	if slices.Contains(s.row.withCtx, s.method) {
		return false
	}
	switch s.row.kind {
	case "lock":
		return s.method == "Acquire" || s.method == "Lock" && s.row.form != "a ctx locker"
	case "owner-lock":
		return s.method == "Acquire"
	case "awaitable":
		return s.method == "Wait"
	case "exec-context":
		return s.method != "Setup" && s.method != "Cleanup"
	}
	return false
}

// settle checks what the scenario left, gives back what the caller holds,
// and checks that nothing is left.
func (s scenario) settle(f *faulty, p any, base context.Context, out outcome) []string {
	var problems []string
	// The caller holds what it was told it got; and after a panic, a
	// Goexit or a refused owner check it cannot tell (the lock may be
	// another task's: the proxy leaves it alone).
	userHeld := out.held || out.panicked != nil || out.goexit || errors.Is(out.err, adapters.ErrNotOwner)
	faultedRelease := releasing(s.method) && s.fault != faultCallback && s.fault != faultNo
	faultedExit := exiting(s.method) && s.fault != faultCallback && s.fault != faultNo
	switch s.row.kind {
	case "lock", "owner-lock":
		l := lockOf(p)
		// A hold nobody knows of: given back within the bound, if ever.
		if !eventually(func() bool { return !f.held() || userHeld || faultedRelease }) {
			problems = append(problems, "a lock left held that the caller does not know it holds")
		}
		if f.held() {
			// (The value's owner is set a moment after it is held: an
			// owner check may need a second try.)
			var err error
			if !eventually(func() bool { err = l.Release(base); return err == nil || !f.held() }) {
				problems = append(problems, fmt.Sprintf("the proxy cannot release the hold it kept: %v", err))
			}
		}
		if !eventually(func() bool { return !f.held() }) {
			problems = append(problems, "the lock stays held")
		}
	case "context", "exec-context":
		if out.held {
			_ = exitOf(p)(base, nil)
		}
		if !faultedExit && !eventually(func() bool { return f.exited.Load() >= f.entered.Load() }) {
			problems = append(problems, fmt.Sprintf("a context left entered: %d Enter, %d Exit", f.entered.Load(), f.exited.Load()))
		}
	case "group":
		g := p.(*adapters.Group)
		func() {
			defer func() { _ = recover() }() // a task's or Cleanup's panic, re-raised
			_ = g.Exit(base, nil)
		}()
		if !eventually(func() bool { return g.RunningTasks() == 0 }) {
			problems = append(problems, fmt.Sprintf("%d group tasks still running", g.RunningTasks()))
		}
	}
	return problems
}

// eventually polls cond for up to a second: what a proxy gives back on a
// goroutine of its own (an acquisition nobody received) takes a moment.
func eventually(cond func() bool) bool {
	for end := time.Now().Add(time.Second); ; {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// matrix returns every scenario, or a sample (each row, method and fault,
// with entry points and ctxs taken in turn, about one in four cells).
func matrix(sample bool) []scenario {
	var out []scenario
	n := 0
	only := os.Getenv("MIXIN_MATRIX_KIND") // one kind's rows, to chase a finding
	for _, row := range genRows {
		if only != "" && row.kind != only {
			continue
		}
		entries := entriesOf(row.kind)
		methods := append([]string{""}, row.methods...)
		for _, m := range methods {
			fs := []fault{faultNone}
			if m != "" {
				fs = faults(m, row)
			}
			for _, fl := range fs {
				for ei, e := range entries {
					for c := ctxLive; c <= ctxEnded; c++ {
						if c == ctxLive && (!e.live || lies(row, m, fl, e)) {
							continue // it would wait for ever, as it should
						}
						n++
						if sample && (ei+int(c)+n)%4 != 0 {
							continue
						}
						// Every other cell has an observer: the observed
						// paths keep the same promises.
						out = append(out, scenario{row: row, method: m, fault: fl, entry: e, ctx: c, observed: n%2 == 1})
					}
				}
			}
		}
	}
	return out
}

// lies reports whether the fault makes an event say it holds no value (or
// fail to say which) where a wait looks for one, so that a wait with a ctx that never ends waits for ever.
func lies(row genRow, m string, fl fault, e entry) bool {
	return row.kind == "event" && (fl == faultNo || fl == faultError) && (e.name == "Wait" || e.name == "WaitForValue")
}

func TestFaultMatrix(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// The normal suite plays a sample; the stress set-up (MIXIN_STRESS)
	// plays every cell, again and again until its time is up.
	full := os.Getenv("MIXIN_STRESS") != ""
	scenarios := matrix(!full)
	if testing.Short() {
		scenarios = matrix(true)[:len(scenarios)/3]
	}
	require.NotEmpty(t, scenarios)
	var mu sync.Mutex
	broken := map[string][]string{}
	sem := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	played := 0
	for deadline := time.Now().Add(stressFor(t)); ; {
		for _, s := range scenarios {
			wg.Add(1)
			sem <- struct{}{}
			played++
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if p := s.run(); p != "" {
					mu.Lock()
					broken[p] = append(broken[p], s.String())
					mu.Unlock()
				}
			}()
		}
		if !full || time.Now().After(deadline) {
			break
		}
	}
	wg.Wait()
	kinds := map[string]int{}
	for _, r := range genRows {
		kinds[r.kind]++
	}
	t.Logf("fault matrix: %d played, %d scenarios over %d generated rows (%v), %d faults, every entry point, live, ending and ended ctxs",
		played, len(scenarios), len(genRows), kinds, len(faultNames)-1)
	keys := make([]string, 0, len(broken))
	for k := range broken {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cells := broken[k]
		slices.Sort(cells)
		t.Errorf("%s: %d scenarios, e.g. %s", k, len(cells), strings.Join(cells[:min(3, len(cells))], " | "))
	}
}
