package adapters

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The doors are enumerable (doorNames) and the matrix below is driven over
// every one of them, with each way foreign code can fail to return: a
// panic and runtime.Goexit. A door declared without a driver fails
// TestEveryDoorHasAFaultDriver; foreign code called past the doors (a go
// statement, a recover or an observer call outside door.go) fails
// TestForeignCodeOnlyThroughDoors.

// TestForeignCodeOnlyThroughDoors reads the package's source: the only go
// statements, recover calls and Observe calls are door.go's (and the go
// statement that is GoExecutor.Submit's whole contract).
func TestForeignCodeOnlyThroughDoors(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "door.go" {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err)
		checked++
		for _, decl := range f.Decls {
			fn, _ := decl.(*ast.FuncDecl)
			where := name
			if fn != nil {
				where += ": " + fn.Name.Name
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.GoStmt:
					if where != "executor.go: Submit" || !isRecv(fn, "GoExecutor") {
						t.Errorf("%s: %s: a go statement outside the doors (use a door's spawn)", fset.Position(x.Pos()), where)
					}
				case *ast.CallExpr:
					switch f := x.Fun.(type) {
					case *ast.Ident:
						if f.Name == "recover" {
							t.Errorf("%s: %s: recover outside the doors (use a door)", fset.Position(x.Pos()), where)
						}
					case *ast.SelectorExpr:
						if f.Sel.Name == "Observe" {
							t.Errorf("%s: %s: an observer called outside the doors (use observe)", fset.Position(x.Pos()), where)
						}
					}
				}
				return true
			})
		}
	}
	assert.Greater(t, checked, 20)
}

func isRecv(fn *ast.FuncDecl, typ string) bool {
	if fn == nil || fn.Recv == nil || len(fn.Recv.List) != 1 {
		return false
	}
	id, ok := fn.Recv.List[0].Type.(*ast.Ident)
	return ok && id.Name == typ
}

// fault is one way foreign code fails to return.
type fault struct {
	name string
	do   func() // panics with faultValue, or calls runtime.Goexit
}

const faultValue = "foreign code broke"

var faultKinds = []fault{
	{"panic", func() { panic(faultValue) }},
	{"goexit", runtime.Goexit},
}

// onGoroutine runs fn on a goroutine of its own and reports how it ended:
// the value it panicked with, or exited true after a runtime.Goexit.
func onGoroutine(fn func()) (panicked any, exited bool) {
	done := make(chan struct{})
	returned := false
	go func() {
		defer close(done)
		defer func() {
			if !returned {
				panicked = recover()
				exited = panicked == nil
			}
		}()
		fn()
		returned = true
	}()
	<-done
	return panicked, exited
}

// caughtFaults collects the faults reported while a driver runs.
type caughtFaults struct {
	mu  sync.Mutex
	got []Fault
}

func (c *caughtFaults) doors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, f := range c.got {
		out = append(out, f.Door)
	}
	return out
}

// eventually polls cond for up to 5s (a liveness bound).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within 5s", what)
		}
	}
}

// A driver makes the foreign code behind one door fail with f, and checks
// the door's promise: nothing crashes, nothing stays held or entered, the
// failure reaches the caller that waits or the fault handler.
type doorDriver func(t *testing.T, f fault, faults *caughtFaults)

// faultyLock is a canonical lock over a mutex; hooks make its methods fail.
type faultyLock struct {
	mu      sync.Mutex
	held    atomic.Bool
	onBlock func() // the context-less Acquire's fault
}

func (l *faultyLock) Acquire() bool {
	if l.onBlock != nil {
		l.onBlock()
	}
	l.mu.Lock()
	l.held.Store(true)
	return true
}
func (l *faultyLock) Release() error { l.held.Store(false); l.mu.Unlock(); return nil }
func (l *faultyLock) Locked() bool   { return l.held.Load() }

type faultyTry struct {
	sync.Mutex
	arm   atomic.Bool
	fault func()
}

func (p *faultyTry) TryLock() bool {
	if p.arm.CompareAndSwap(true, false) {
		p.fault()
	}
	return p.Mutex.TryLock()
}

// unlockFaulty is a sync.Locker with TryLock whose Unlock fails when armed.
type unlockFaulty struct{ *faultyTry }

func (u *unlockFaulty) Unlock() {
	if u.arm.CompareAndSwap(true, false) {
		u.fault()
	}
	u.Mutex.Unlock()
}

type faultyEnter struct {
	let    chan struct{}
	onExit func()
	onWait func()
	exited atomic.Int32
}

func (x *faultyEnter) Enter() (int, error) {
	<-x.let
	if x.onWait != nil {
		x.onWait()
	}
	return 1, nil
}
func (x *faultyEnter) Exit(error) bool {
	x.exited.Add(1)
	if x.onExit != nil {
		x.onExit()
	}
	return false
}

type faultyWaiter struct{ fault func() }

func (w faultyWaiter) Wait() { w.fault() }

type faultyStopTask struct{ fault func() }

func (s faultyStopTask) Wait() error { s.fault(); return nil }

type faultyStopper struct{ fault func() }

func (s faultyStopper) Stop() faultyStopTask { return faultyStopTask(s) }

type faultyGraceful struct {
	fault   func()
	stopped atomic.Bool
}

func (g *faultyGraceful) GracefulStop() { g.fault() }
func (g *faultyGraceful) Stop()         { g.stopped.Store(true) }

type faultyExecutor struct{ fault func() }

func (e faultyExecutor) Submit(context.Context, func()) error { e.fault(); return nil }

// checkFailure checks what a waiting caller got: the panic, or the Goexit
// (as the goroutine's exit or as ErrGoexit).
func checkFailure(t *testing.T, f fault, panicked any, exited bool, err error) {
	t.Helper()
	if f.name == "panic" {
		var pe *PanicError
		if errors.As(err, &pe) {
			panicked = pe.Value
		} else if p, ok := panicked.(*PanicError); ok {
			panicked = p.Value
		}
		assert.Equal(t, faultValue, panicked, "the panic reaches the caller that waits")
		return
	}
	assert.True(t, exited || errors.Is(err, ErrGoexit), "the Goexit reaches the caller that waits (err %v)", err)
}

var doorDrivers = map[string]doorDriver{
	"observer": func(t *testing.T, f fault, _ *caughtFaults) {
		obs := ObserverFunc(func(_ context.Context, e Observation) {
			if e.Op == OpAcquire || e.Op == OpRelease || e.Op == OpDo {
				f.do()
			}
		})
		l, err := NewLock(&sync.Mutex{}, WithObserver(obs))
		require.NoError(t, err)
		_, _ = onGoroutine(func() { _ = l.Do(context.Background(), func(context.Context) error { return nil }) })
		assert.False(t, l.Locked(), "nothing held after the observer failed")
		assert.EqualValues(t, 0, l.Stats().HeldNow)
	},
	"lost watch": func(t *testing.T, f fault, faults *caughtFaults) {
		obs := ObserverFunc(func(_ context.Context, e Observation) {
			if e.Op == OpLost {
				f.do()
			}
		})
		v := &lostLeaseLock{}
		l, err := NewLock(v, WithObserver(obs))
		require.NoError(t, err)
		err = l.Do(context.Background(), func(ctx context.Context) error {
			v.lose()
			<-ctx.Done()
			return context.Cause(ctx)
		})
		assert.ErrorIs(t, err, ErrLockLost)
		eventually(t, "the fault reported", func() bool { return len(faults.doors()) > 0 })
		assert.False(t, l.Locked())
	},
	"value method": func(t *testing.T, f fault, _ *caughtFaults) {
		// A release that does not return keeps the hold (Locked says so,
		// the figures too), and a retry releases it.
		for _, observed := range []bool{false, true} {
			v := &faultyTry{fault: f.do}
			var opts []LockOption
			if observed {
				opts = append(opts, WithStats())
			}
			l, err := NewLock(&unlockFaulty{faultyTry: v}, opts...)
			require.NoError(t, err)
			ctx := context.Background()
			ok, err := l.Acquire(ctx)
			require.True(t, ok)
			require.NoError(t, err)
			v.arm.Store(true)
			panicked, exited := onGoroutine(func() { _ = l.Release(ctx) })
			checkFailure(t, f, panicked, exited, nil)
			assert.True(t, l.Locked(), "the hold is kept")
			if observed {
				assert.EqualValues(t, 1, l.Stats().HeldNow)
				assert.EqualValues(t, 1, l.Stats().Errors)
			}
			require.NoError(t, l.Release(ctx))
			assert.False(t, l.Locked())
		}
	},
	"watchdog report": func(t *testing.T, f fault, faults *caughtFaults) {
		// Two long holds, a report func that fails on the first: the other
		// is told all the same (a panic), or by the next Check (a Goexit).
		var told atomic.Int32
		w := NewWatchdog(time.Nanosecond, func(Hold) {
			if told.Add(1) == 1 {
				f.do()
			}
		})
		for range 2 {
			l, err := w.Watch(&sync.Mutex{})
			require.NoError(t, err)
			_, err = l.Acquire(context.Background())
			require.NoError(t, err)
			defer func() { _ = l.Release(context.Background()) }()
		}
		time.Sleep(time.Millisecond)
		_, _ = onGoroutine(func() { w.Check() })
		_, _ = onGoroutine(func() { w.Check() })
		assert.GreaterOrEqual(t, told.Load(), int32(2), "both long holds were told")
	},
	"lock factory": func(t *testing.T, f fault, _ *caughtFaults) {
		l, err := NewLock(&sync.Mutex{}, WithStats(), WithLockFactory(func(any) any { f.do(); return nil }))
		require.NoError(t, err)
		panicked, exited := onGoroutine(func() { _, _ = l.Enter(context.Background()) })
		checkFailure(t, f, panicked, exited, nil)
		assert.False(t, l.Locked())
		assert.EqualValues(t, 0, l.Stats().HeldNow)
	},
	"queued TryLock": func(t *testing.T, f fault, _ *caughtFaults) {
		v := &faultyTry{fault: f.do}
		l, err := NewLock(v)
		require.NoError(t, err)
		bg := context.Background()
		_, err = l.Acquire(bg)
		require.NoError(t, err)
		res := make(chan [2]any, 1)
		go func() {
			ctx, cancel := context.WithTimeout(bg, 5*time.Second)
			defer cancel()
			p, e := onGoroutine(func() { _, _ = l.Acquire(ctx) })
			res <- [2]any{p, e}
		}()
		eventually(t, "the caller queued", func() bool { return l.tries.n.Load() == 1 })
		v.arm.Store(true)
		require.NoError(t, l.Release(bg))
		r := <-res
		checkFailure(t, f, r[0], r[1].(bool), nil)
		ctx, cancel := context.WithTimeout(bg, 2*time.Second)
		defer cancel()
		ok, err := l.Acquire(ctx)
		require.NoError(t, err, "the lock is not wedged")
		require.True(t, ok)
		require.NoError(t, l.Release(bg))
	},
	"blocking acquire": func(t *testing.T, f fault, _ *caughtFaults) {
		v := &faultyLock{}
		v.onBlock = func() { v.onBlock = nil; f.do() }
		l, err := NewLock(v)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var aerr error
		panicked, exited := onGoroutine(func() { _, aerr = l.Acquire(ctx) })
		checkFailure(t, f, panicked, exited, aerr)
		assert.False(t, l.Locked())
		ok, err := l.Acquire(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, l.Release(ctx))
	},
	"undo": func(t *testing.T, f fault, faults *caughtFaults) {
		v := &faultyEnter{let: make(chan struct{}), onExit: f.do}
		x, err := NewExecContext[int](v, WithExecutor(GoExecutor{}))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		_, err = x.Enter(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		close(v.let)
		eventually(t, "the undo's fault reported", func() bool { return len(faults.doors()) > 0 })
		assert.Equal(t, []string{"undo"}, faults.doors())
		assert.EqualValues(t, 1, v.exited.Load(), "the Enter was exited once")
	},
	"abandonable call": func(t *testing.T, f fault, faults *caughtFaults) {
		v := &faultyEnter{let: make(chan struct{}), onWait: f.do}
		x, err := NewExecContext[int](v, WithExecutor(GoExecutor{}))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		_, err = x.Enter(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		close(v.let)
		eventually(t, "the fault reported", func() bool { return len(faults.doors()) > 0 })
		assert.Contains(t, faults.doors(), "abandonable call")
		assert.Zero(t, v.exited.Load(), "an Enter that failed is not exited")
	},
	"Do body": func(t *testing.T, f fault, _ *caughtFaults) {
		l, err := NewLock(&sync.Mutex{})
		require.NoError(t, err)
		panicked, exited := onGoroutine(func() { _ = l.Do(context.Background(), func(context.Context) error { f.do(); return nil }) })
		checkFailure(t, f, panicked, exited, nil)
		assert.False(t, l.Locked())
		v := &faultyEnter{let: make(chan struct{})}
		close(v.let)
		c, err := NewContext[int](v)
		require.NoError(t, err)
		panicked, exited = onGoroutine(func() { _ = c.Do(context.Background(), func(context.Context, int) error { f.do(); return nil }) })
		checkFailure(t, f, panicked, exited, nil)
		assert.EqualValues(t, 1, v.exited.Load(), "the context was exited")
	},
	"group task": func(t *testing.T, f fault, _ *caughtFaults) {
		g, err := NewGroup(nil, WithStats())
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, g.Enter(ctx))
		g.Go(func(context.Context) error { f.do(); return nil })
		var xerr error
		panicked, exited := onGoroutine(func() { xerr = g.Exit(ctx, nil) })
		checkFailure(t, f, panicked, exited, xerr)
		assert.EqualValues(t, 1, g.Stats().Panicked)
		assert.Zero(t, g.RunningTasks())
	},
	"executor": func(t *testing.T, f fault, _ *caughtFaults) {
		g, err := NewGroup(nil, WithExecutor(faultyExecutor{fault: f.do}), WithStats())
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, g.Enter(ctx))
		panicked, exited := onGoroutine(func() { g.Go(func(context.Context) error { return nil }) })
		checkFailure(t, f, panicked, exited, nil)
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err = g.Exit(tctx, nil)
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "Exit does not wait for a task that never started")
		assert.EqualValues(t, 1, g.Stats().NotRun)
	},
	"pool function": func(t *testing.T, f fault, _ *caughtFaults) {
		p := NewPool(WithStats())
		defer p.Close()
		ctx := context.Background()
		require.NoError(t, p.Submit(ctx, f.do))
		var werr error
		panicked, _ := onGoroutine(func() { werr = p.Wait(ctx) })
		require.NoError(t, werr)
		if f.name == "panic" {
			checkFailure(t, f, panicked, false, nil)
		}
		assert.EqualValues(t, 1, p.Stats().Panicked)
		assert.Zero(t, p.Stats().Running)
	},
	"exec-context work": func(t *testing.T, f fault, faults *caughtFaults) {
		x, err := NewExecContext[int](&faultyEnter{let: make(chan struct{})})
		require.NoError(t, err)
		run := x.Runner()
		var rerr error
		panicked, exited := onGoroutine(func() { rerr = run(context.Background(), f.do) })
		checkFailure(t, f, panicked, exited, rerr)
		// A caller that left: the fault goes to the handler.
		let := make(chan struct{})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		err = run(ctx, func() { <-let; f.do() })
		require.ErrorIs(t, err, context.DeadlineExceeded)
		close(let)
		eventually(t, "the fault reported", func() bool { return len(faults.doors()) > 0 })
		assert.Contains(t, faults.doors(), "exec-context work")
	},
	"context-less Wait": func(t *testing.T, f fault, _ *caughtFaults) {
		a, err := NewAwaitable[struct{}](faultyWaiter{fault: f.do})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var aerr error
		panicked, exited := onGoroutine(func() { _, aerr = a.Await(ctx) })
		checkFailure(t, f, panicked, exited, aerr)
	},
	"Await channel": func(t *testing.T, f fault, _ *caughtFaults) {
		a, err := NewAwaitable[struct{}](faultyWaiter{fault: f.do})
		require.NoError(t, err)
		r := <-a.Chan(context.Background())
		checkFailure(t, f, nil, false, r.Err)
	},
	"stop task Wait": func(t *testing.T, f fault, _ *caughtFaults) {
		c, err := NewContext[any](faultyStopper{fault: f.do})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var xerr error
		panicked, exited := onGoroutine(func() { xerr = c.Exit(ctx, nil) })
		checkFailure(t, f, panicked, exited, xerr)
	},
	"graceful stop": func(t *testing.T, f fault, _ *caughtFaults) {
		c, err := NewContext[any](&faultyGraceful{fault: f.do})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var xerr error
		panicked, exited := onGoroutine(func() { xerr = c.Exit(ctx, nil) })
		checkFailure(t, f, panicked, exited, xerr)
	},
}

// lostLeaseLock is a canonical lock with Lost, whose lease the test loses.
type lostLeaseLock struct {
	mu   sync.Mutex
	held bool
	lost chan struct{}
}

func (l *lostLeaseLock) Acquire(context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		return false, nil
	}
	l.held, l.lost = true, make(chan struct{})
	return true, nil
}
func (l *lostLeaseLock) Release(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = false
	return nil
}
func (l *lostLeaseLock) Locked() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.held }
func (l *lostLeaseLock) Lost() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}
func (l *lostLeaseLock) lose() { l.mu.Lock(); close(l.lost); l.mu.Unlock() }

// TestEveryDoorHasAFaultDriver drives every declared door with every fault.
func TestEveryDoorHasAFaultDriver(t *testing.T) {
	names := doorNames()
	require.NotEmpty(t, names)
	for _, name := range names {
		drive, ok := doorDrivers[name]
		if !assert.True(t, ok, "door %q has no fault driver in door_internal_test.go", name) {
			continue
		}
		for _, f := range faultKinds {
			t.Run(name+"/"+f.name, func(t *testing.T) {
				faults := &caughtFaults{}
				prev := SetFaultHandler(func(x Fault) {
					faults.mu.Lock()
					faults.got = append(faults.got, x)
					faults.mu.Unlock()
				})
				defer func() { _ = SetFaultHandler(prev) }()
				drive(t, f, faults)
			})
		}
	}
	for name := range doorDrivers {
		assert.Contains(t, names, name, "a driver for a door that does not exist")
	}
}
