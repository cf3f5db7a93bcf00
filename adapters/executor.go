package adapters

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// Executor runs functions on goroutines: Python's event loop and its
// executor. Submit must start fn or return an error, and must not call fn
// once it has returned an error.
type Executor interface {
	// Submit starts fn. It returns ctx.Err() when ctx ends before fn could be
	// started (a full pool), and an error matching ErrClosed after Close.
	Submit(ctx context.Context, fn func()) error
}

// ErrClosed is matched by the error of Submit on a closed Pool.
var ErrClosed = errors.New("mixin: executor closed")

// GoExecutor starts every function on a goroutine of its own, with no limit:
// a go statement. Its zero value is ready to use; it cannot be closed.
type GoExecutor struct{}

// Submit starts fn on a new goroutine. It fails only when ctx has already
// ended.
func (GoExecutor) Submit(ctx context.Context, fn func()) error {
	if ctx == nil {
		return nilCtx("GoExecutor.Submit")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	go fn()
	return nil
}

// Pool is a bounded Executor: at most Size functions run at once, each on a
// goroutine of its own; Submit waits for a free place until its ctx ends.
//
// Whoever makes a Pool with NewPool owns it and closes it: after Close,
// Submit returns ErrClosed, and functions already started run to their end
// (Wait waits for them). A panic in a function is captured, so it cannot
// crash the process from the pool's goroutine; Wait re-raises the first one
// as a *PanicError. Submit and Wait may be called concurrently from any
// goroutines. The shared DefaultPool is never closed: its Close does nothing.
// Use NewPool; the zero value is not usable.
type Pool struct {
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
	shared bool // DefaultPool: Close does nothing
	run    idle
	mu     sync.Mutex
	panic  *PanicError
	cfg    probeConfig
	probe  *probe // the observer and Stats counters; nil: none (see groupobserve.go)
}

// PoolOption configures a Pool: WithSize, WithObserver, WithStats,
// WithName.
type PoolOption interface{ applyPool(*Pool) }

type poolOptionFunc func(*Pool)

func (f poolOptionFunc) applyPool(p *Pool) { f(p) }

// WithSize sets how many functions may run at once (at least 1). The default
// is min(32, runtime.NumCPU()+4), as Python's default executor has.
func WithSize(n int) PoolOption {
	return poolOptionFunc(func(p *Pool) {
		if n < 1 {
			n = 1
		}
		p.slots = make(chan struct{}, n)
	})
}

// NewPool returns an open Pool.
func NewPool(opts ...PoolOption) *Pool {
	p := &Pool{closed: make(chan struct{})}
	for _, o := range opts {
		if o != nil {
			o.applyPool(p)
		}
	}
	p.probe = p.cfg.newProbe("pool", p)
	if p.slots == nil {
		p.slots = make(chan struct{}, min(32, runtime.NumCPU()+4))
	}
	return p
}

var defaultPool = sync.OnceValue(func() *Pool {
	p := NewPool()
	p.shared = true
	return p
})

// DefaultPool returns the shared Pool that ExecContext uses when no executor
// is given. It is never closed: its Close does nothing, so that no caller can
// break every composed exec-context of the process.
func DefaultPool() *Pool { return defaultPool() }

// Size returns how many functions may run at once.
func (p *Pool) Size() int { return cap(p.slots) }

// Submit starts fn when a place is free. When ctx has ended, or ends before a
// place is free, it returns ctx.Err() and fn does not run, even when a place
// is free; on a closed pool, an error matching ErrClosed. fn never runs after
// Submit returned an error.
func (p *Pool) Submit(ctx context.Context, fn func()) error {
	if ctx == nil {
		return nilCtx("Pool.Submit")
	}
	if p == nil || p.slots == nil {
		return errUnusable("Pool")
	}
	var asked int64
	if p.probe != nil {
		asked = now()
	}
	select {
	case <-p.closed:
		return p.notRun(ctx, asked, ErrClosed)
	default:
	}
	if err := ctx.Err(); err != nil {
		return p.notRun(ctx, asked, err)
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return p.notRun(ctx, asked, ctx.Err())
	case <-p.closed:
		return p.notRun(ctx, asked, ErrClosed)
	}
	if p.probe == nil {
		p.run.add()
		doorPoolFunc.spawn(fn, p.settle)
		return nil
	}
	d := max(0, now()-asked)
	p.probe.queued(d) // counted before the start, so that its end never comes first
	p.run.add()
	var started int64
	doorPoolFunc.spawn(func() {
		started = now()
		fn()
	}, func(pe *PanicError, goexit bool) {
		p.probe.poolEnd(started, pe, goexit)
		p.settle(pe, goexit)
	})
	// Reported once the function is on its way: an observer that exits
	// the goroutine takes nothing with it.
	p.probe.report(ctx, OpQueue, OutcomeOK, time.Duration(d), nil)
	return nil
}

// settle records the first panic of the pool's functions and frees a place.
func (p *Pool) settle(pe *PanicError, goexit bool) {
	if pe != nil {
		p.mu.Lock()
		if p.panic == nil {
			p.panic = pe
		}
		p.mu.Unlock()
	}
	<-p.slots
	p.run.done()
}

// Close stops the pool taking work; it does not wait (see Wait). Closing
// twice is harmless; closing DefaultPool does nothing.
func (p *Pool) Close() {
	if p == nil || p.closed == nil || p.shared {
		return
	}
	p.once.Do(func() { close(p.closed) })
}

// Wait waits until no function of the pool runs, or ctx ends (then
// ctx.Err()); functions submitted meanwhile are waited for too. It re-raises
// the first panic of a function, as a *PanicError, once. A Wait that gives up
// leaves no goroutine behind.
func (p *Pool) Wait(ctx context.Context) error {
	if ctx == nil {
		return nilCtx("Pool.Wait")
	}
	if p == nil || p.slots == nil {
		return errUnusable("Pool")
	}
	if err := p.run.wait(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	pe := p.panic
	p.panic = nil
	p.mu.Unlock()
	if pe != nil {
		panic(pe)
	}
	return nil
}
