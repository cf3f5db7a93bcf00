package adapters

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
)

// The one door: every call the library makes into code it did not write (the
// value's methods on a goroutine of the library's, observers, lock
// factories, executors, the bodies of Do and of group tasks, the undo of an
// acquisition or an Enter nobody received) goes through a door declared
// here. A door is made once, at package initialisation, with newDoor, so the
// doors can be listed (doorNames) and the fault matrix driven over each of
// them (door_test.go fails for a door it has no driver for, and for a go
// statement, a recover or an observer call made outside this file).
//
// A door says how the foreign code it calls is run:
//
//   - call: on the caller's goroutine, for code whose caller waits (a Do
//     body, a lock factory, a TryLock made for a queued caller): when it
//     panics or calls runtime.Goexit, the door's undo runs first (release
//     what was acquired, leave the queue), then the panic goes on unchanged,
//     as a direct call's would;
//   - contain: for code nobody waits on and whose failure must change
//     nothing (an observer): a panic is recovered and reported as a Fault,
//     and the caller goes on as if it had returned;
//   - guard and spawn: on a goroutine of the library's (spawn starts it):
//     settle gets the panic (as a *PanicError) or the Goexit as values, to
//     hand to the caller that waits; what settle cannot hand to anybody it
//     passes to drop, which reports it as a Fault.

// door is one place where the library calls foreign code.
type door struct {
	name string // what is called, as Fault.Door says it
	undo string // what the door's call sites give back when the code does not return
}

var doors struct {
	mu sync.Mutex
	m  map[string]*door
}

// newDoor declares a door. Doors are package-level variables: a second door
// of the same name is a programming error.
func newDoor(name, undo string) *door {
	doors.mu.Lock()
	defer doors.mu.Unlock()
	if doors.m == nil {
		doors.m = map[string]*door{}
	}
	if _, dup := doors.m[name]; dup {
		panic("mixin: door declared twice: " + name)
	}
	d := &door{name: name, undo: undo}
	doors.m[name] = d
	return d
}

// doorNames lists every declared door, sorted.
func doorNames() []string {
	doors.mu.Lock()
	defer doors.mu.Unlock()
	names := make([]string, 0, len(doors.m))
	for n := range doors.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// The doors.
var (
	doorObserver = newDoor("observer", "nothing: its panic is contained and reported, the operation goes on")
	doorFactory  = newDoor("lock factory", "the lock is released, counted as a release")
	doorTryLock  = newDoor("queued TryLock", "the caller leaves the proxy's queue, the next is woken")
	doorValue    = newDoor("value method", "a release that does not return keeps the hold, counted as an error")
	doorAcquirer = newDoor("blocking acquire", "the acquisition made for nobody is released; a panic reaches the caller it was made for")
	doorUndo     = newDoor("undo", "nothing left: its panic has nobody to go to and is reported")
	doorAbandon  = newDoor("abandonable call", "what the call acquired or entered for a caller that left is undone")
	doorDoBody   = newDoor("Do body", "the lock is released, the context exited")
	doorTask     = newDoor("group task", "the task's end is counted and its panic kept for Wait or Exit")
	doorExecutor = newDoor("executor", "a task the executor never starts is counted as not run")
	doorPoolFunc = newDoor("pool function", "the pool's place is freed, the panic kept for Wait")
	doorExecWork = newDoor("exec-context work", "a caller still waiting gets the panic; otherwise reported")
	doorAwait    = newDoor("context-less Wait", "the outcome is published to every caller still waiting")
	doorChan     = newDoor("Await channel", "the panic is delivered on the channel")
	doorStopWait = newDoor("stop task Wait", "Exit's caller gets the panic")
	doorGraceful = newDoor("graceful stop", "Exit's caller gets the panic")
	doorReport   = newDoor("watchdog report", "nothing: its panic is contained and reported, the other holds are told")
	doorLost     = newDoor("lost watch", "the body's ctx is cancelled; the observer's panic is contained")
)

// call runs fn on the caller's goroutine. When fn panics or calls
// runtime.Goexit, undo (which may be nil) runs, then the panic or the Goexit
// goes on unchanged: nothing is recovered.
func (d *door) call(fn func(), undo func()) {
	if undo == nil {
		fn()
		return
	}
	returned := false
	defer func() {
		if !returned {
			undo()
		}
	}()
	fn()
	returned = true
}

// suppressible runs fn on the caller's goroutine, for a body whose
// context's Exit may swallow its panic: when fn panics or calls
// runtime.Goexit, exit is called with the panic as a *PanicError (or goexit
// true). The panic then goes on with its original value, unless exit
// reports true: then suppressible returns true, the panic swallowed. A
// Goexit always goes on.
func (d *door) suppressible(fn func(), exit func(pe *PanicError, goexit bool) (swallow bool)) (swallowed bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		r := recover()
		if r == nil {
			exit(nil, true)
			return
		}
		if !exit(newPanicError(r), false) {
			panic(r)
		}
		swallowed = true
	}()
	fn()
	returned = true
	return false
}

// contain runs fn and reports whether it returned. A panic in fn is
// recovered and reported as a Fault; a runtime.Goexit is reported too, and
// the goroutine goes on exiting (Goexit cannot be stopped).
func (d *door) contain(fn func()) (returned bool) {
	d.guard(fn, func(pe *PanicError, goexit bool) {
		returned = pe == nil && !goexit
		if !returned {
			d.drop(pe, goexit)
		}
	})
	return returned
}

// guard runs fn, then settle with how fn ended: pe is its panic as a
// *PanicError, goexit is true when it called runtime.Goexit, both zero when
// it returned. settle runs from a deferred call in all three cases; after a
// Goexit the goroutine goes on exiting once settle returns. A panic in
// settle (library code) is reported, never let loose on a goroutine nobody
// waits on.
func (d *door) guard(fn func(), settle func(pe *PanicError, goexit bool)) {
	normal := false
	defer func() {
		var pe *PanicError
		goexit := false
		switch r := recover(); {
		case normal:
		case r != nil:
			pe = newPanicError(r)
		default:
			goexit = true
		}
		d.settle(settle, pe, goexit)
	}()
	fn()
	normal = true
}

// settle calls a guard's settle; a panic in it (library code, which foreign
// code may have driven into a state it does not expect: an executor that
// runs a function twice) is reported as a Fault, not let loose on a
// goroutine nobody waits on.
func (d *door) settle(settle func(*PanicError, bool), pe *PanicError, goexit bool) {
	defer func() {
		if r := recover(); r != nil {
			reportFault(Fault{Door: d.name, Panic: newPanicError(r)})
		}
	}()
	settle(pe, goexit)
}

// spawn runs fn through guard on a new goroutine.
func (d *door) spawn(fn func(), settle func(pe *PanicError, goexit bool)) {
	go d.guard(fn, settle)
}

// drop reports a panic or Goexit that nobody waits for.
func (d *door) drop(pe *PanicError, goexit bool) {
	if pe == nil && !goexit {
		return
	}
	reportFault(Fault{Door: d.name, Panic: pe, Goexit: goexit})
}

// observe hands e to o through the observer door: a panic in o is
// contained and reported, and changes nothing the caller does.
func observe(o Observer, ctx context.Context, e Observation) {
	if m, ok := o.(multiObserver); ok { // each one contained on its own
		for _, x := range m {
			observe(x, ctx, e)
		}
		return
	}
	doorObserver.contain(func() { o.Observe(ctx, e) })
}

// Fault is a panic or a runtime.Goexit of code the library called where no
// caller waited to receive it (an observer, the Exit that undoes an Enter
// whose caller gave up, a function on an executor nobody waits on). The
// library recovers it where it happened, gives back what the call held, and
// hands it to the fault handler (SetFaultHandler), never to the process.
type Fault struct {
	Door   string      // where the code was called: "observer", "undo", "pool function", ...
	Panic  *PanicError // what it panicked with, nil after a Goexit
	Goexit bool        // it called runtime.Goexit
}

// Error describes the fault.
func (f Fault) Error() string {
	if f.Goexit {
		return "mixin: runtime.Goexit called in " + f.Door
	}
	return fmt.Sprintf("mixin: %s: %v", f.Door, f.Panic)
}

// Unwrap returns the panic, or ErrGoexit.
func (f Fault) Unwrap() error {
	if f.Goexit {
		return ErrGoexit
	}
	return f.Panic
}

var faultHandler atomic.Pointer[func(Fault)]

// SetFaultHandler sets the function that receives every Fault (see Fault),
// and returns the one it replaces. It is called on the goroutine where the
// fault happened and must not block; a panic in it is dropped. nil restores
// the default, which logs the fault with slog.Default at level Error.
func SetFaultHandler(h func(Fault)) (previous func(Fault)) {
	var p *func(Fault)
	if h != nil {
		p = &h
	}
	if old := faultHandler.Swap(p); old != nil {
		return *old
	}
	return logFault
}

// logFault is the default fault handler.
func logFault(f Fault) {
	attrs := []any{"door", f.Door}
	if f.Panic != nil {
		attrs = append(attrs, "panic", fmt.Sprint(f.Panic.Value), "stack", string(f.Panic.Stack))
	} else {
		attrs = append(attrs, "goexit", true)
	}
	slog.Default().ErrorContext(context.Background(), "mixin: foreign code failed where nobody waited", attrs...)
}

// reportFault hands f to the fault handler; a handler that panics is
// ignored.
func reportFault(f Fault) {
	h := logFault
	if p := faultHandler.Load(); p != nil {
		h = *p
	}
	defer func() { _ = recover() }()
	h(f)
}

// handoff decides, once, whether the outcome of foreign code run on a
// library goroutine reaches the caller waiting for it or, the caller having
// left first, the door's drop. The zero value is ready to use.
type handoff struct{ state atomic.Int32 }

const (
	handoffWaiting int32 = iota
	handoffLeft
	handoffDelivered
)

// deliver is called by the goroutine with the outcome: true when the caller
// still waits (it receives the outcome), false when it has left (the
// outcome's panic, if any, is to be dropped).
func (h *handoff) deliver() bool {
	return h.state.CompareAndSwap(handoffWaiting, handoffDelivered)
}

// leave is called by a caller that stops waiting: true when it left before
// the outcome was delivered; false when the outcome is on its way, and the
// caller must receive it.
func (h *handoff) leave() bool {
	return h.state.CompareAndSwap(handoffWaiting, handoffLeft)
}
