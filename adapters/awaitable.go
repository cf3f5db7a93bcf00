package adapters

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/gomixin/mixin/validate"
)

// waitFn is what an awaitable's form binds: the canonical Wait called
// directly, another ctx-aware Wait, a context-less one (future: its outcome
// is kept for every later Await), or a Done channel with an optional Err.
type waitFn[T any] struct {
	direct   waiterT[T]
	ctx      func(context.Context) (T, error)
	blocking func() (T, error)
	plain    interface{ Wait() } // Wait() with no result (sync.WaitGroup's): blocking calls it
	future   bool
	done     func() <-chan struct{}
	err      func() error
}

// waitMethod is Wait in the shapes an awaitable accepts, Wait() error before
// Wait() T so that T does not bind to error.
func waitMethod[T any]() methodRows[waitFn[T]] {
	return cachedForT[T](&waitCache, func() methodRows[waitFn[T]] {
		blocking := func(rm reflect.Value) waitFn[T] {
			return waitFn[T]{blocking: func() (T, error) { return callT[T](rm) }, future: true}
		}
		return abstract([]string{"Done", "Join", "Result"},
			row(func(x waiterT[T]) waitFn[T] { return waitFn[T]{direct: x} }).
				orReflect(func(rm reflect.Value) waitFn[T] {
					return waitFn[T]{ctx: func(ctx context.Context) (T, error) { return callT[T](rm, ctxArg(ctx)) }}
				}),
			row(func(x interface{ Wait(context.Context) error }) waitFn[T] {
				return waitFn[T]{ctx: func(ctx context.Context) (T, error) { var zero T; return zero, x.Wait(ctx) }}
			}),
			row(func(x interface{ Wait() (T, error) }) waitFn[T] {
				return waitFn[T]{blocking: x.Wait, future: true}
			}).orReflect(blocking),
			row(func(x interface{ Wait() error }) waitFn[T] {
				return waitFn[T]{blocking: func() (T, error) { var zero T; return zero, x.Wait() }, future: true}
			}),
			row(func(x interface{ Wait() T }) waitFn[T] {
				return waitFn[T]{blocking: func() (T, error) { return x.Wait(), nil }, future: true}
			}).orReflect(blocking),
			row(func(x interface{ Wait() }) waitFn[T] {
				return waitFn[T]{blocking: func() (T, error) { var zero T; x.Wait(); return zero, nil }, plain: x}
			}),
		)
	})
}

var (
	doneMethod = abstract(nil, row(func(x interface{ Done() <-chan struct{} }) func() <-chan struct{} { return x.Done }))
	errMethod  = optional(row(func(x interface{ Err() error }) func() error { return x.Err }))
)

// awaitableForms are the method sets an awaitable may have.
func awaitableForms[T any]() []form[waitFn[T]] {
	return cachedForT[T](&awaitableCache, func() []form[waitFn[T]] {
		wait := waitMethod[T]()
		return []form[waitFn[T]]{
			{"", methods(waitMethod[validate.T]().spec()), func(v any, m *validate.Match) waitFn[T] {
				return wait.must(v, m)
			}},
			{"a Done channel", methods(doneMethod.spec(), errMethod.spec()), func(v any, m *validate.Match) waitFn[T] {
				f := waitFn[T]{done: doneMethod.must(v, m)}
				f.err, _ = errMethod.bind(v, m)
				return f
			}},
		}
	})
}

// The Awaitable kind: Python's AwaitableMixin. Abstract: Wait, or a Done
// channel (context.Context's shape). *sync.Cond is refused: its Wait must be
// called with its L held, which a proxy cannot do (the process would die with
// "sync: unlock of unlocked mutex").
var awaitableKind = &kindSpec{spec: func() validate.Spec {
	s := specOf("awaitable", awaitableForms[validate.T]()...)
	s.Refused = []validate.Refusal{{
		Type: reflect.TypeFor[*sync.Cond](),
		Why: "*sync.Cond's Wait must be called with its L held and in a loop that checks the condition, " +
			"which a proxy cannot do; an event (adapters.NewValueEvent) does this job",
	}}
	return s
}()}

// AwaitableSpec returns the abstract methods of the awaitable kind: Wait in
// one of its shapes, or Done() <-chan struct{} with an optional Err() error.
func AwaitableSpec() validate.Spec { return awaitableKind.copySpec() }

// Awaitable is the proxy of a value composed as an awaitable (Python's
// AwaitableMixin[T]): Await waits for it and returns what it resolves to.
//
// An Awaitable is made by NewAwaitable and is safe for concurrent use as far
// as the wrapped value's Wait is. Its zero value is not usable: Await returns
// an error matching ErrUnusable.
type Awaitable[T any] struct {
	value  any
	waitT  waiterT[T]                       // the canonical shape: called directly, one indirect call
	direct waiterT[T]                       // what Await calls: waitT, plainAwait or slowAwait (see bindHot)
	wait   func(context.Context) (T, error) // other ctx-aware shapes: called in the caller's goroutine
	done   func() <-chan struct{}           // Done-channel form
	err    func() error
	fl     *flight[T]          // context-less Wait: one call in flight, shared
	plain  interface{ Wait() } // Wait() with no result: called in place when it may be (unobserved)
	probe  *probe              // the observer; nil: none (see contextobserve.go)
	// derived: an event's AsAwaitable, observed through the event's Wait
	derived bool
}

type waiterT[T any] interface {
	Wait(context.Context) (T, error)
}

// Result is one outcome of an Await, for the channel form.
type Result[T any] struct {
	Value T
	Err   error
}

// AwaitOption configures an Awaitable: RepeatWait, WithObserver, WithStats,
// WithName.
type AwaitOption interface{ applyAwait(*awaitConfig) }

type awaitOptionFunc func(*awaitConfig)

func (f awaitOptionFunc) applyAwait(c *awaitConfig) { f(c) }

type awaitConfig struct {
	repeat bool
	probe  probeConfig
}

// RepeatWait makes a context-less Wait that returns a result be called again
// by each Await once the previous call has finished, instead of being called
// once and its outcome kept (see NewAwaitable): for values whose Wait may be
// called any number of times and may give a new result each time.
func RepeatWait() AwaitOption { return awaitOptionFunc(func(c *awaitConfig) { c.repeat = true }) }

// NewAwaitable composes v as an awaitable. v needs Wait in one of the shapes
//
//	Wait(ctx context.Context) (T, error)
//	Wait(ctx context.Context) error
//	Wait() (T, error)
//	Wait() error           (exec.Cmd)
//	Wait() T
//	Wait()                 (sync.WaitGroup)
//
// or Done() <-chan struct{} with an optional Err() error (context.Context).
// A value that does not fit is refused with a *validate.AbstractError.
//
// A context-less Wait that returns a result (Wait() error, Wait() T,
// Wait() (T, error)) is a future, as exec.Cmd's and os.Process's are: it is
// called once, and every Await, however late, gets the outcome of that call
// (exec.Cmd's Wait called twice would say "Wait was already called").
// RepeatWait calls it again for each Await instead. Wait() with no result
// (sync.WaitGroup) is called again by each Await once the last call ended;
// it may run beside itself, as sync.WaitGroup's may, so an Await whose ctx
// can never end (ctx.Done() == nil) calls it in place, with no goroutine and
// no allocation, unless a call is in flight for it to join.
func NewAwaitable[T any](v any, opts ...AwaitOption) (*Awaitable[T], error) {
	m, err := awaitableKind.match(v, typeArg[T]())
	if err != nil {
		return nil, err
	}
	var cfg awaitConfig
	for _, o := range opts {
		if o != nil {
			o.applyAwait(&cfg)
		}
	}
	f := bindForm(awaitableForms[T](), v, m)
	a := &Awaitable[T]{value: v, waitT: f.direct, wait: f.ctx, done: f.done, err: f.err,
		probe: cfg.probe.newProbe("awaitable", v)}
	a.plain = f.plain
	a.bindHot()
	if f.blocking != nil {
		a.fl = &flight[T]{fn: f.blocking, keep: f.future && !cfg.repeat, shared: !f.future}
	}
	return a, nil
}

// Value returns the wrapped value.
func (a *Awaitable[T]) Value() any {
	if a == nil {
		return nil
	}
	return a.value
}

// Await waits for the value and returns what it resolves to. A Wait that
// takes a ctx is called with it, in the caller's goroutine, and decides
// itself what an ended ctx means. For the other shapes, when ctx ends first
// Await returns ctx.Err() at once. A Wait that takes none runs on its own
// goroutine when ctx can end; a caller that gives up leaves it running, and
// the next Await joins that call while it runs instead of calling Wait
// again, so a Wait that must not be called twice (exec.Cmd's) is not. Once
// it has returned, a future's outcome is every later Await's; any other Wait
// (Wait() with no result, or one composed with RepeatWait) is called again,
// so that a re-armed sync.WaitGroup is waited for anew. A panic in a
// context-less Wait run on a goroutine of its own, or kept as a future's
// outcome, is re-raised in every caller waiting for it, as a *PanicError;
// a Wait() called in place (see NewAwaitable) panics on the caller's
// goroutine unchanged, as a direct call would. For the Done-channel form,
// Await returns the value's Err() once Done is closed (nil without an Err
// method).
func (a *Awaitable[T]) Await(ctx context.Context) (T, error) {
	// The hot path: one call through the interface, to the value's own Wait
	// (the canonical shape, unobserved), to plainAwait or to slowAwait.
	if a == nil || a.direct == nil || ctx == nil {
		var zero T
		if a != nil && a.direct != nil {
			return zero, errAwaitNilCtx
		}
		return zero, errAwaitableUnusable
	}
	return a.direct.Wait(ctx)
}

var (
	errAwaitableUnusable = errUnusable("Awaitable")
	errAwaitNilCtx       = nilCtx("Awaitable.Await")
)

// slowAwait is an Awaitable whose Wait is awaitSlow: the direct waiter of a
// proxy whose value's Wait is not the canonical shape or is observed.
type slowAwait[T any] Awaitable[T]

func (s *slowAwait[T]) Wait(ctx context.Context) (T, error) {
	return (*Awaitable[T])(s).awaitSlow(ctx)
}

// bindHot sets what Await calls from what is bound: called again when an
// observer is attached (the hot paths are unobserved).
func (a *Awaitable[T]) bindHot() {
	a.direct = (*slowAwait[T])(a)
	switch {
	case a.probe != nil: // observed: the slow path times it
	case a.waitT != nil:
		a.direct = a.waitT
	case a.plain != nil:
		a.direct = (*plainAwait[T])(a)
	}
}

// plainAwait is an Awaitable over a Wait() with no result (a
// sync.WaitGroup's), unobserved: the direct waiter whose Wait calls the
// value's in place when the caller can never give up.
type plainAwait[T any] Awaitable[T]

func (p *plainAwait[T]) Wait(ctx context.Context) (T, error) {
	a := (*Awaitable[T])(p)
	if ctx.Done() == nil && a.fl.cur.Load() == nil {
		// A caller that can never give up, and no call in flight to join:
		// Wait is called in place, with no goroutine and no allocation. A
		// panic goes on unchanged, on the caller's goroutine.
		a.plain.Wait()
		var zero T
		return zero, nil
	}
	return a.await(ctx)
}

// awaitSlow is Await off the hot path: observed, or a shape other than the
// canonical one.
func (a *Awaitable[T]) awaitSlow(ctx context.Context) (T, error) {
	if a.probe != nil {
		return a.observedAwait(ctx)
	}
	return a.await(ctx)
}

func (a *Awaitable[T]) await(ctx context.Context) (T, error) {
	var zero T
	switch {
	case a == nil:
		return zero, errUnusable("Awaitable")
	case a.wait != nil:
		return a.wait(ctx)
	case a.fl != nil:
		return a.fl.do(ctx)
	case a.done != nil:
		select {
		case <-a.done():
		case <-ctx.Done():
			return zero, ctx.Err()
		}
		if a.err != nil {
			return zero, a.err()
		}
		return zero, nil
	}
	return zero, errUnusable("Awaitable")
}

// Chan awaits on a goroutine of its own and delivers the one result on the
// returned channel, which is buffered so that the goroutine never blocks on
// it: for select. The goroutine ends when Await returns, at the latest when
// ctx ends (for a ctx-aware Wait, when the Wait honours ctx).
func (a *Awaitable[T]) Chan(ctx context.Context) <-chan Result[T] {
	ch := make(chan Result[T], 1)
	if ctx == nil {
		ch <- Result[T]{Err: nilCtx("Awaitable.Chan")}
		return ch
	}
	var r Result[T]
	// A panic or a runtime.Goexit in the value's Wait still delivers: a
	// *PanicError, or ErrGoexit.
	doorChan.spawn(func() { r.Value, r.Err = a.Await(ctx) }, func(pe *PanicError, goexit bool) {
		switch {
		case pe != nil:
			r = Result[T]{Err: pe}
		case goexit:
			r = Result[T]{Err: ErrGoexit}
		}
		ch <- r
	})
	return ch
}

// flight shares one call of a context-less function among callers that may
// give up: at most one call runs at a time, and a caller joins the call in
// flight. A future (keep) keeps its outcome for every later caller; any
// other finished call is dropped, received or not.
type flight[T any] struct {
	fn   func() (T, error)
	keep bool // a future: the first call's outcome is every caller's
	// shared: fn may run beside itself (Wait() with no result, as
	// sync.WaitGroup's), so a caller that can never give up calls it in
	// place when no call is in flight to join.
	shared bool
	mu     sync.Mutex
	cur    atomic.Pointer[call[T]] // written under mu; read without it on the inline path
}

type call[T any] struct {
	done     chan struct{}
	val      T
	err      error
	panicked *PanicError
	waiters  int
	finished bool
}

func (f *flight[T]) do(ctx context.Context) (T, error) {
	if f.shared && ctx.Done() == nil && f.cur.Load() == nil {
		// A caller that can never give up, and no call in flight to join:
		// Wait is called in place, with no goroutine and no allocation (a
		// sync.WaitGroup's Wait costs what it costs). A panic goes on
		// unchanged, on the caller's goroutine, as from a direct call.
		return f.fn()
	}
	f.mu.Lock()
	c := f.cur.Load()
	switch {
	case c != nil && c.finished: // a future's outcome (run drops any other)
		f.mu.Unlock()
		return c.result()
	case c == nil:
		if err := ctx.Err(); err != nil {
			f.mu.Unlock()
			var zero T
			return zero, err
		}
		c = &call[T]{done: make(chan struct{})}
		f.cur.Store(c)
		c.waiters++
		if ctx.Done() == nil { // this caller can never give up: run here
			f.mu.Unlock()
			f.run(c, false)
			return c.result()
		}
		f.run(c, true)
	default:
		c.waiters++
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.result()
	case <-ctx.Done():
	}
	f.mu.Lock()
	c.waiters--
	finished := c.finished
	f.mu.Unlock()
	if finished {
		return c.result()
	}
	var zero T
	return zero, ctx.Err()
}

// run calls fn and publishes its outcome, also when fn panics or exits the
// goroutine: on the caller's goroutine, or on one of its own when spawned.
func (f *flight[T]) run(c *call[T], spawned bool) {
	var val T
	var err error
	body := func() { val, err = f.fn() }
	settle := func(pe *PanicError, goexit bool) {
		if goexit {
			err = ErrGoexit
		}
		f.mu.Lock()
		c.val, c.err, c.panicked, c.finished = val, err, pe, true
		unseen := c.waiters == 0 && !f.keep
		if !f.keep {
			// Only a future keeps its outcome: a Wait that may be called
			// again (a re-armed sync.WaitGroup) is, by the next Await,
			// even when every caller of this one gave up.
			f.cur.Store(nil)
		}
		f.mu.Unlock()
		close(c.done)
		if unseen { // every caller gave up: nobody receives a panic
			doorAwait.drop(pe, goexit)
		}
	}
	if spawned {
		doorAwait.spawn(body, settle)
		return
	}
	doorAwait.guard(body, settle)
}

func (c *call[T]) result() (T, error) {
	if c.panicked != nil {
		panic(c.panicked)
	}
	return c.val, c.err
}
