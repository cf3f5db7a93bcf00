package adapters_test

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

// The promises of issue 29, one test each: foreign code that panics, exits
// its goroutine or blocks, wherever the library calls it, crashes nothing,
// leaves nothing held, and leaves true figures.

// faultLog collects the Faults reported while a test runs (tests that use it
// do not run in parallel: the handler is the process's).
type faultLog struct {
	mu  sync.Mutex
	got []adapters.Fault
}

func catchFaults(t *testing.T) *faultLog {
	t.Helper()
	f := &faultLog{}
	prev := adapters.SetFaultHandler(func(x adapters.Fault) {
		f.mu.Lock()
		f.got = append(f.got, x)
		f.mu.Unlock()
	})
	t.Cleanup(func() { _ = adapters.SetFaultHandler(prev) })
	return f
}

func (f *faultLog) doors() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, x := range f.got {
		out = append(out, x.Door)
	}
	return out
}

// waitFor polls cond for up to 5s (a liveness bound, not a timing claim).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// lateEnter is a context whose Enter completes only when let go, and whose
// Exit panics.
type lateEnter struct {
	let    chan struct{}
	exited atomic.Int32
}

func (l *lateEnter) Enter() (int, error) { <-l.let; return 1, nil }
func (l *lateEnter) Exit(error) bool     { l.exited.Add(1); panic("Exit broke") }

// Item 1: the Exit that undoes an Enter completed after its caller gave up
// panics on a goroutine of the library's: reported, never the process.
func TestDoorUndoExitPanicIsReportedNotFatal(t *testing.T) {
	f := catchFaults(t)
	v := &lateEnter{let: make(chan struct{})}
	x, err := adapters.NewExecContext[int](v, adapters.WithExecutor(adapters.GoExecutor{}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = x.Enter(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(v.let) // Enter completes for nobody: the library exits it
	waitFor(t, "the undoing Exit", func() bool { return v.exited.Load() == 1 && len(f.doors()) > 0 })
	assert.Contains(t, f.doors(), "undo")
}

// panickyObserver is an observer that panics on the listed ops.
type panickyObserver struct {
	on    map[adapters.Op]bool
	once  bool // panic once only
	fired atomic.Bool
	seen  atomic.Int32
}

func (p *panickyObserver) Observe(_ context.Context, e adapters.Observation) {
	if p.on[e.Op] {
		p.seen.Add(1)
		if !p.once || p.fired.CompareAndSwap(false, true) {
			panic("observer broke on " + e.Op.String())
		}
	}
}

// Item 2: an observer that panics on a group task's start and end.
func TestDoorObserverPanicOnGroupTaskIsContained(t *testing.T) {
	f := catchFaults(t)
	obs := &panickyObserver{on: map[adapters.Op]bool{adapters.OpTaskStart: true, adapters.OpTaskEnd: true}}
	g, err := adapters.NewGroup(nil, adapters.WithObserver(obs))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, g.Enter(ctx))
	var ran atomic.Int32
	for range 3 {
		g.Go(func(context.Context) error { ran.Add(1); return nil })
	}
	assert.NoError(t, g.Exit(ctx, nil))
	assert.EqualValues(t, 3, ran.Load())
	assert.EqualValues(t, 6, obs.seen.Load())
	assert.Len(t, f.doors(), 6)
	s := g.Stats()
	assert.EqualValues(t, 3, s.Started)
	assert.EqualValues(t, 0, s.Running)
}

// lostLock is a lock with Lost: its lease can be lost while held.
type lostLock struct {
	mu   sync.Mutex
	held bool
	lost chan struct{}
}

func (l *lostLock) Acquire(context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		return false, nil
	}
	l.held, l.lost = true, make(chan struct{})
	return true, nil
}

func (l *lostLock) Release(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = false
	return nil
}

func (l *lostLock) Locked() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.held }

func (l *lostLock) Lost() <-chan struct{} { l.mu.Lock(); defer l.mu.Unlock(); return l.lost }

// Item 2, read: the goroutine that watches a lease's loss reports to the
// observer; a panic there is contained, and the body is still told.
func TestDoorObserverPanicOnLostLeaseIsContained(t *testing.T) {
	f := catchFaults(t)
	v := &lostLock{}
	l, err := adapters.NewLock(v, adapters.WithObserver(&panickyObserver{on: map[adapters.Op]bool{adapters.OpLost: true}}))
	require.NoError(t, err)
	err = l.Do(context.Background(), func(ctx context.Context) error {
		v.mu.Lock()
		close(v.lost)
		v.mu.Unlock()
		<-ctx.Done()
		return context.Cause(ctx)
	})
	assert.ErrorIs(t, err, adapters.ErrLockLost)
	waitFor(t, "the lost-watch fault", func() bool { return len(f.doors()) == 1 })
	assert.Equal(t, []string{"observer"}, f.doors())
	assert.False(t, l.Locked())
}

// Shape is an interface type a value's Set takes.
type Shape interface{ Area() float64 }

type shapeEvent struct {
	mu  sync.Mutex
	v   Shape
	set bool
}

func (e *shapeEvent) Clear() { e.mu.Lock(); e.set = false; e.mu.Unlock() }
func (e *shapeEvent) Get() (Shape, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.set {
		return nil, adapters.ErrNoValue
	}
	return e.v, nil
}
func (e *shapeEvent) IsSet() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.set }
func (e *shapeEvent) Set(v Shape) { e.mu.Lock(); e.v, e.set = v, true; e.mu.Unlock() }
func (e *shapeEvent) WaitForNext(ctx context.Context) (Shape, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// Item 3: a Set of nil through the compiled binding of a registered
// interface type sets nil, as the reflected binding does.
func TestDoorCompiledSetOfNilInterface(t *testing.T) {
	adapters.RegisterType[Shape]()
	v := &shapeEvent{}
	e, err := adapters.NewEvent[any](v)
	require.NoError(t, err)
	assert.NoError(t, e.TrySet(nil))
	assert.True(t, v.IsSet())
	got, err := e.Get()
	assert.NoError(t, err)
	assert.Nil(t, got)
	e.Set(nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, e.WaitForValue(ctx, 3, adapters.SetAtTimeout[any]()), adapters.ErrType)
	assert.ErrorIs(t, e.WaitForValue(ctx, nil, adapters.SetAtTimeout[any]()), nil)
}

// Item 4: an observer that panics once on OpAcquire leaves the lock as a
// direct acquisition would: Do runs and releases, nothing stays held.
func TestDoorObserverPanicOnAcquireLeavesNothingHeld(t *testing.T) {
	for _, op := range []adapters.Op{adapters.OpAcquire, adapters.OpRelease, adapters.OpDo} {
		t.Run(op.String(), func(t *testing.T) {
			f := catchFaults(t)
			obs := &panickyObserver{on: map[adapters.Op]bool{op: true}, once: true}
			l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(obs))
			require.NoError(t, err)
			ran := false
			assert.NoError(t, l.Do(context.Background(), func(context.Context) error { ran = true; return nil }))
			assert.True(t, ran)
			assert.False(t, l.Locked())
			assert.EqualValues(t, 0, l.Stats().HeldNow)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			ok, err := l.Acquire(ctx)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, l.Release(ctx))
			assert.Len(t, f.doors(), 1)
		})
	}
}

// Item 4, Goexit: an observer that exits the goroutine on OpAcquire takes
// the acquisition's receiver with it: the hold is given back.
func TestDoorObserverGoexitOnAcquireGivesTheHoldBack(t *testing.T) {
	catchFaults(t)
	var exit atomic.Bool
	exit.Store(true)
	obs := adapters.ObserverFunc(func(_ context.Context, e adapters.Observation) {
		if e.Op == adapters.OpAcquire && exit.CompareAndSwap(true, false) {
			runtime.Goexit()
		}
	})
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(obs))
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = l.Acquire(context.Background())
		t.Error("Acquire returned after its observer called Goexit")
	}()
	<-done
	assert.False(t, l.Locked())
	assert.EqualValues(t, 0, l.Stats().HeldNow)
}

// panickyTry is a sync.Locker whose TryLock panics (or calls
// runtime.Goexit) once when armed.
type panickyTry struct {
	sync.Mutex
	arm    atomic.Bool
	goexit bool
}

func (p *panickyTry) TryLock() bool {
	if p.arm.CompareAndSwap(true, false) {
		if p.goexit {
			runtime.Goexit()
		}
		panic("TryLock broke")
	}
	return p.Mutex.TryLock()
}

// Item 5: a TryLock that panics while a caller waits in the proxy's queue
// takes that caller out of the queue: the lock is not wedged.
func TestDoorQueuedTryLockPanicDoesNotWedge(t *testing.T) {
	for _, how := range []string{"panic", "goexit"} {
		t.Run(how, func(t *testing.T) {
			v := &panickyTry{goexit: how == "goexit"}
			l, err := adapters.NewLock(v)
			require.NoError(t, err)
			bg := context.Background()
			ok, err := l.Acquire(bg)
			require.True(t, ok)
			require.NoError(t, err)
			waiter := make(chan any, 1)
			go func() {
				ctx, cancel := context.WithTimeout(bg, 5*time.Second)
				defer cancel()
				defer func() { waiter <- recover() }()
				_, _ = l.Acquire(ctx)
			}()
			time.Sleep(20 * time.Millisecond) // let it queue
			v.arm.Store(true)
			require.NoError(t, l.Release(bg))
			r := <-waiter
			if how == "panic" {
				assert.Equal(t, "TryLock broke", r)
			}
			ctx, cancel := context.WithTimeout(bg, time.Second)
			defer cancel()
			ok, err = l.Acquire(ctx)
			require.NoError(t, err, "the lock is free: an Acquire with a deadline must take it")
			require.True(t, ok)
			require.NoError(t, l.Release(bg))
			done := make(chan struct{})
			go func() {
				defer close(done)
				ok, _ := l.Acquire(bg)
				if ok {
					_ = l.Release(bg)
				}
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Acquire(context.Background()) never returned on a free lock")
			}
		})
	}
}

// Item 8: the lock factory panics: the lock is released and the figures say
// so.
func TestDoorFactoryPanicReleasesAndCounts(t *testing.T) {
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithStats(),
		adapters.WithLockFactory(func(any) any { panic("factory broke") }))
	require.NoError(t, err)
	assert.PanicsWithValue(t, "factory broke", func() { _, _ = l.Enter(context.Background()) })
	assert.False(t, l.Locked())
	s := l.Stats()
	assert.EqualValues(t, 0, s.HeldNow)
	assert.EqualValues(t, 1, s.Acquires)
}

// Item 9: a pool's RunTime adds up its functions' run times.
func TestDoorPoolRunTime(t *testing.T) {
	p := adapters.NewPool(adapters.WithStats(), adapters.WithSize(3))
	defer p.Close()
	ctx := context.Background()
	for range 3 {
		require.NoError(t, p.Submit(ctx, func() { time.Sleep(30 * time.Millisecond) }))
	}
	require.NoError(t, p.Wait(ctx))
	// Each function slept 30ms inside its own measured run.
	assert.GreaterOrEqual(t, p.Stats().RunTime, 90*time.Millisecond)
}

// Item 10: a Submit with an ended ctx and one on a closed pool are counted
// as not run.
func TestDoorPoolNotRun(t *testing.T) {
	p := adapters.NewPool(adapters.WithStats())
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.Submit(ended, func() {}), context.Canceled)
	p.Close()
	assert.ErrorIs(t, p.Submit(context.Background(), func() {}), adapters.ErrClosed)
	assert.EqualValues(t, 2, p.Stats().NotRun)
}

// Item 11: a task whose error carries more than the ctx's is a failure,
// in Exit and in Stats alike.
func TestDoorGroupJoinedErrorIsAFailure(t *testing.T) {
	g, err := adapters.NewGroup(nil, adapters.WithStats(), adapters.ContinueOnError())
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, g.Enter(ctx))
	real := errors.New("disk full")
	started := make(chan struct{})
	g.Go(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return errors.Join(real, ctx.Err())
	})
	g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	<-started
	err = g.Exit(ctx, nil)
	assert.ErrorIs(t, err, real)
	s := g.Stats()
	assert.EqualValues(t, 1, s.Failed, "the joined error is reported by Exit, so it is a failure")
	assert.EqualValues(t, 2, s.Started)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// A nil ctx gets one clear answer from every method that takes one, on every
// path (a free lock, a held one): an error matching ErrNilContext, never a
// panic, and nothing acquired, entered or waited for. The methods are found
// by reflection, so a new one is covered when it is added.
func TestNilContextOnEveryMethod(t *testing.T) {
	bg := context.Background()
	heldLock := func() any {
		l, err := adapters.NewLock(&sync.Mutex{})
		require.NoError(t, err)
		_, err = l.Acquire(bg)
		require.NoError(t, err)
		return l
	}
	must := func(v any, err error) any { require.NoError(t, err); return v }
	proxies := map[string]func() any{
		"Lock over a free *sync.Mutex": func() any { return must(adapters.NewLock(&sync.Mutex{})) },
		"Lock over a held *sync.Mutex": heldLock,
		"Lock observed": func() any {
			return must(adapters.NewLock(&sync.Mutex{}, adapters.WithStats()))
		},
		"Lock over a canonical lock":   func() any { return must(adapters.NewLock(&lostLock{})) },
		"OwnerLock over an OwnerMutex": func() any { return must(adapters.NewOwnerLock(adapters.NewOwnerMutex())) },
		"OwnerMutex":                   func() any { return adapters.NewOwnerMutex() },
		"Context":                      func() any { return must(adapters.NewContext[any](nopCloser{})) },
		"ExecContext":                  func() any { return must(adapters.NewExecContext[any](nopCloser{})) },
		"Awaitable":                    func() any { return must(adapters.NewAwaitable[any](&sync.WaitGroup{})) },
		"Event":                        func() any { return must(adapters.NewEvent[int](adapters.NewValueEvent[int]())) },
		"ValueEvent":                   func() any { return adapters.NewValueEvent[int]() },
		"Group":                        func() any { return must(adapters.NewGroup(nil)) },
		"Pool":                         func() any { p := adapters.NewPool(); t.Cleanup(p.Close); return p },
		"GoExecutor":                   func() any { return adapters.GoExecutor{} },
		"Watchdog":                     func() any { return &adapters.Watchdog{} },
	}
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	for name, mk := range proxies {
		rv := reflect.ValueOf(mk())
		checked := 0
		for i := range rv.NumMethod() {
			m := rv.Type().Method(i)
			ft := m.Type // with the receiver
			if ft.NumIn() < 2 || ft.In(1) != ctxType {
				continue
			}
			checked++
			t.Run(name+"."+m.Name, func(t *testing.T) {
				p := reflect.ValueOf(mk())
				args := []reflect.Value{reflect.Zero(ctxType)}
				n := ft.NumIn()
				if ft.IsVariadic() {
					n--
				}
				for j := 2; j < n; j++ {
					args = append(args, zeroArg(ft.In(j)))
				}
				var out []reflect.Value
				require.NotPanics(t, func() { out = p.MethodByName(m.Name).Call(args) })
				for _, o := range out {
					switch {
					case o.Type() == errType:
						err, _ := o.Interface().(error)
						assert.ErrorIs(t, err, adapters.ErrNilContext)
					case o.Kind() == reflect.Chan:
						r, _ := o.Recv()
						assert.ErrorIs(t, r.FieldByName("Err").Interface().(error), adapters.ErrNilContext)
					case o.Kind() == reflect.Func: // an iter.Seq: yields nothing
						yielded := 0
						yield := reflect.MakeFunc(o.Type().In(0), func([]reflect.Value) []reflect.Value {
							yielded++
							return []reflect.Value{reflect.ValueOf(false)}
						})
						require.NotPanics(t, func() { o.Call([]reflect.Value{yield}) })
						assert.Zero(t, yielded)
					case o.Kind() == reflect.Bool:
						assert.False(t, o.Bool(), "nothing is true of a nil ctx")
					}
				}
			})
		}
		assert.NotZero(t, checked, name)
	}
}

// zeroArg is a harmless argument of type t: a func that returns zeros, or
// the zero value.
func zeroArg(t reflect.Type) reflect.Value {
	if t.Kind() == reflect.Func {
		return reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value {
			out := make([]reflect.Value, t.NumOut())
			for i := range out {
				out[i] = reflect.Zero(t.Out(i))
			}
			return out
		})
	}
	return reflect.Zero(t)
}
