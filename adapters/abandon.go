package adapters

import (
	"context"
	"sync/atomic"
)

// callAbandonable runs fn through start (a go statement, an executor) and
// waits for its result or for ctx to end, whichever comes first. A caller
// that gives up gets ctx.Err() at once; whichever of the caller and fn comes
// second calls undo with fn's result, so that what fn acquired or entered for
// a caller that left is given back exactly once. A panic in fn is re-raised
// in a waiting caller as a *PanicError, and a runtime.Goexit in fn reaches it
// as ErrGoexit; a caller that already left cannot receive either, and it is
// dropped. If start fails, its error is returned and fn never runs.
func callAbandonable[R any](ctx context.Context, start func(func()) error, fn func() R, undo func(R)) (R, error) {
	const (
		waiting int32 = iota
		gaveUp
		delivered
	)
	type outcome struct {
		r        R
		err      error // ErrGoexit when fn called runtime.Goexit
		panicked *PanicError
	}
	var state atomic.Int32
	result := make(chan outcome, 1)
	err := start(func() {
		var out outcome
		guard(func() { out.r = fn() }, func(pe *PanicError, goexit bool) {
			out.panicked = pe
			if goexit {
				out.err = ErrGoexit
			}
			if !state.CompareAndSwap(waiting, delivered) {
				if out.panicked == nil && out.err == nil { // fn returned: give back what it got
					undo(out.r)
				}
				return
			}
			result <- out
		})
	})
	var zero R
	if err != nil {
		return zero, err
	}
	select {
	case out := <-result:
		if out.panicked != nil {
			panic(out.panicked)
		}
		return out.r, out.err
	case <-ctx.Done():
	}
	if state.CompareAndSwap(waiting, gaveUp) {
		return zero, ctx.Err()
	}
	// fn delivered just as ctx ended: the caller leaves, so undo it here.
	if out := <-result; out.panicked == nil && out.err == nil {
		undo(out.r)
	}
	return zero, ctx.Err()
}

// goStart starts fn on a goroutine of its own.
func goStart(fn func()) error { go fn(); return nil }
