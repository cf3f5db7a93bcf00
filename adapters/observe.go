package adapters

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"time"

	"github.com/gomixin/mixin/internal/observex"
)

// Observer sees what proxies do: every acquire and release of a lock, every
// Enter and Exit of a context, every task of a group, with its duration and
// outcome. Observe is called on the goroutine that did the work, right after
// it (so it must be quick and must not block: record to atomics or hand the
// event on), concurrently from many goroutines. An Observe that panics
// changes nothing the proxy does: the panic is recovered and passed to the
// fault handler (see Fault). ctx is the caller's (its
// values, its span); e is passed by value and may be kept.
//
// A proxy has no observer unless given one (WithObserver, or the Composer's
// options); then its only cost is one nil check per operation.
type Observer interface {
	Observe(ctx context.Context, e Observation)
}

// ObserverFunc is an Observer made of a func.
type ObserverFunc func(ctx context.Context, e Observation)

// Observe calls f.
func (f ObserverFunc) Observe(ctx context.Context, e Observation) { f(ctx, e) }

// Observers returns an Observer that passes every event to each of os in
// turn; nil entries are left out, and with none left it returns nil.
func Observers(os ...Observer) Observer {
	var keep multiObserver
	for _, o := range os {
		switch x := o.(type) {
		case nil:
		case multiObserver:
			keep = append(keep, x...)
		default:
			keep = append(keep, o)
		}
	}
	switch len(keep) {
	case 0:
		return nil
	case 1:
		return keep[0]
	}
	return keep
}

type multiObserver []Observer

// Observe passes e to each observer in turn; one that panics does not keep
// it from the others (see Fault).
func (m multiObserver) Observe(ctx context.Context, e Observation) {
	for _, o := range m {
		observe(o, ctx, e)
	}
}

// NopObserver observes nothing: given as an observer, it turns on a proxy's
// Stats and nothing else.
type NopObserver struct{}

// Observe does nothing.
func (NopObserver) Observe(context.Context, Observation) {}

// Observation is one thing a proxy did: an event it reports to its Observer.
type Observation struct {
	Kind     string        // the proxy's kind: "lock", "owner-lock", "context", "exec-context", "awaitable", "event", "group", "pool"
	Name     string        // the proxy's name (WithName, the Register name, else the value's type)
	Op       Op            // what was done
	Outcome  Outcome       // how it ended
	Duration time.Duration // see Op: a wait, a hold, a call's or a task's time
	Err      error         // the error returned, when Outcome says there was one
	Task     Task          // for OpTaskStart, OpTaskEnd and OpLongHold: the task concerned
	// Waited is set on an OpAcquire that followed an OpWait: the caller
	// waited (one waiter fewer). An acquisition that succeeds at once
	// reports no OpWait.
	Waited bool
}

// Op says what an Observation reports, and what its Duration measures.
type Op uint8

// The operations proxies report.
const (
	OpAcquire   Op = iota + 1 // a lock's Acquire (also within Enter and Do); Duration: the wait
	OpRelease                 // a lock's Release (also within Exit and Do); Duration: the hold, when the release ended it
	OpLost                    // a lock's lease was lost while Do ran (its Lost channel closed); Duration: held so far
	OpDo                      // a Do body (lock or context); Duration: the body's
	OpEnter                   // a context's Enter, or an exec-context's; Duration: the call's
	OpExit                    // a context's Exit; Duration: the call's; OutcomeSuppressed when it suppressed an error
	OpAwait                   // an awaitable's Await, an event's Wait; Duration: the wait
	OpSet                     // an event's Set; Duration: the call's
	OpTaskStart               // a group task starts; Duration: from Go to the start (the executor's queue)
	OpTaskEnd                 // a group task ended; Duration: its run
	OpQueue                   // a pool function starts; Duration: its wait for a place
	OpLongHold                // a watchdog found a hold over its threshold; Duration: held so far, Task: the holder
	OpWait                    // a caller starts waiting for a lock (it could not take it at once; a lock without TryLock reports it on every Acquire); its OpAcquire follows, with Waited set
)

var opNames = [...]string{"", "acquire", "release", "lost", "do", "enter", "exit", "await", "set",
	"task_start", "task_end", "queue", "long_hold", "wait"}

// String returns the operation's name, in snake case ("acquire", "task_end").
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Outcome is how an observed operation ended.
type Outcome uint8

// The outcomes. Their String forms are the values of the "outcome" label.
const (
	OutcomeOK         Outcome = iota // done: acquired, released, entered
	OutcomeCtxEnded                  // the caller's ctx ended first
	OutcomeRefused                   // the value said no (Acquire reported false), or a release of an unlocked lock
	OutcomeError                     // another error
	OutcomeLost                      // the lock's lease was lost (ErrLockLost)
	OutcomeNotOwner                  // an owner lock's release by a task that does not hold it
	OutcomePanicked                  // the value's method or the body panicked (or called runtime.Goexit)
	OutcomeSuppressed                // a context's Exit suppressed the body's error
)

var outcomeNames = [...]string{"ok", "ctx_ended", "refused", "error", "lost", "not_owner", "panicked", "suppressed"}

// String returns the outcome's name, in snake case ("ok", "ctx_ended").
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// outcomeOf classifies an operation's error.
func outcomeOf(ctx context.Context, err error) Outcome {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrNotOwner):
		return OutcomeNotOwner
	case errors.Is(err, ErrLockLost):
		return OutcomeLost
	case errors.Is(err, ErrNotLocked), errors.Is(err, ErrNotAcquired):
		return OutcomeRefused
	case errors.As(err, new(*PanicError)), errors.Is(err, ErrGoexit):
		return OutcomePanicked
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return OutcomeCtxEnded
	}
	return OutcomeError
}

// ObserveOption gives a proxy an observer or a name. Every constructor
// (NewLock, NewOwnerLock, NewContext, NewExecContext, NewAwaitable, NewEvent,
// NewGroup, NewPool) takes it.
type ObserveOption struct{ apply func(*probeConfig) }

type probeConfig struct {
	obs  Observer
	name string
	on   bool
}

// WithObserver makes the proxy report to o (several WithObserver options
// add up, see Observers) and keep its Stats. A nil o is left out.
func WithObserver(o Observer) ObserveOption {
	return ObserveOption{func(c *probeConfig) {
		if o != nil {
			c.obs, c.on = Observers(c.obs, o), true
		}
	}}
}

// WithStats makes the proxy keep its Stats, with no observer.
func WithStats() ObserveOption {
	return ObserveOption{func(c *probeConfig) { c.on = true }}
}

// WithName names the proxy in what it reports to its observer
// (Observation.Name): a low-cardinality label, such as what the value guards
// ("orders-db"). By default it is the value's type. Without WithObserver or
// WithStats it does nothing.
func WithName(name string) ObserveOption {
	return ObserveOption{func(c *probeConfig) { c.name = name }}
}

func (o ObserveOption) applyProbe(c *probeConfig) {
	if o.apply != nil {
		o.apply(c)
	}
}

func (o ObserveOption) applyLock(c *lockConfig)   { o.applyProbe(&c.probe) }
func (o ObserveOption) applyAwait(c *awaitConfig) { o.applyProbe(&c.probe) }
func (o ObserveOption) applyExec(c *execConfig)   { o.applyProbe(&c.probe) }
func (o ObserveOption) applyGroup(c *groupConfig) { o.applyProbe(&c.probe) }
func (o ObserveOption) applyPool(p *Pool)         { o.applyProbe(&p.cfg) }
func (o ObserveOption) applyContext(c *contextConfig) {
	o.applyProbe(&c.probe)
}

// probe is what an observed proxy keeps: its observer, its labels, and the
// counters of its Stats. A proxy without one (nil) reports nothing.
type probe struct {
	obs  Observer // nil: Stats only
	kind string
	name string
	lockCounters
	groupCounters
}

// newProbe returns the probe cfg asks for, or nil.
func (c probeConfig) newProbe(kind string, v any) *probe {
	if !c.on { // a name alone: nothing to report it to
		return nil
	}
	return newProbeFor(kind, v, c.obs, c.name)
}

func newProbeFor(kind string, v any, o Observer, name string) *probe {
	if name == "" {
		if t := reflect.TypeOf(v); t != nil {
			name = t.String()
		} else {
			name = kind
		}
	}
	if _, nop := o.(NopObserver); nop {
		o = nil
	}
	return &probe{obs: o, kind: kind, name: name}
}

// epoch is the origin of now: time.Since reads only the monotonic clock.
var epoch = time.Now()

// now returns monotonic nanoseconds.
func now() int64 { return int64(time.Since(epoch)) }

// report sends one event, when there is an observer.
func (p *probe) report(ctx context.Context, op Op, out Outcome, d time.Duration, err error) {
	if p.obs != nil {
		observe(p.obs, ctx, Observation{Kind: p.kind, Name: p.name, Op: op, Outcome: out, Duration: d, Err: err})
	}
}

// reportTask sends one event about a task.
func (p *probe) reportTask(ctx context.Context, op Op, out Outcome, d time.Duration, err error, t Task) {
	if p.obs != nil {
		observe(p.obs, ctx, Observation{Kind: p.kind, Name: p.name, Op: op, Outcome: out, Duration: d, Err: err, Task: t})
	}
}

// timed reports op with the time since start and the outcome of err.
func (p *probe) timed(ctx context.Context, op Op, start int64, err error) {
	p.report(ctx, op, outcomeOf(ctx, err), time.Duration(now()-start), err)
}

// observeProxy gives proxy (one the adapters package made: *Lock, *OwnerLock,
// *Context[any], *ExecContext[any], *Awaitable[any], *Event[any], *Group)
// an observer (nil: Stats only) and a name after it was made, before it is
// shared: the Composer's hook (internal/observex). It reports false for any
// other value; a user-defined kind's proxy is not observed.
func observeProxy(proxy any, o Observer, name string) bool {
	if o == nil {
		o = NopObserver{}
	}
	switch x := proxy.(type) {
	case *Lock:
		if x.probe == nil {
			x.probe = newProbeFor("lock", x.value, o, name)
			x.bindHot()
		}
	case *OwnerLock:
		if x.usable() && (x.l.probe == nil || x.l.probe.kind != "owner-lock") {
			x.l.probe = newProbeFor("owner-lock", x.l.value, o, name)
		}
	case *Context[any]:
		x.probe = newProbeFor("context", x.value, o, name)
	case *ExecContext[any]:
		if x.usable() {
			x.c.probe = newProbeFor("exec-context", x.c.value, o, name)
		}
	case *Awaitable[any]:
		if !x.derived {
			x.probe = newProbeFor("awaitable", x.value, o, name)
			x.bindHot()
		}
	case *Event[any]:
		x.probe = newProbeFor("event", x.value, o, name)
	case *Group:
		x.probe = newProbeFor("group", x.value, o, name)
	default:
		return false
	}
	return true
}

func init() {
	observex.Attach = func(proxy any, o any, name string) bool {
		ob, _ := o.(Observer)
		return observeProxy(proxy, ob, name)
	}
}
