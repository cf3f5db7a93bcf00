package adapters

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/gomixin/mixin/internal/errs"
)

// ErrGoexit is the error a proxy passes on when user code called
// runtime.Goexit instead of returning: to a context's Exit, out of a Group,
// and to a caller waiting for work the proxy ran on another goroutine (a
// context-less Acquire or Wait, an ExecContext's Enter, Exit or Runner work).
var ErrGoexit = errors.New("mixin: runtime.Goexit called")

// PanicError carries a panic as a value: what was thrown and the stack of the
// goroutine that threw it. It travels where a panic must become an error (to a
// context's Exit, out of a Group) and is re-panicked where the caller waits.
// It unwraps to the panic value when that value is an error.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as debug.Stack gives it.
	Stack []byte
}

func newPanicError(v any) *PanicError {
	if pe, ok := v.(*PanicError); ok {
		return pe
	}
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// Error returns "mixin: panic: " followed by the value (an error's message
// without its own "mixin: ").
func (p *PanicError) Error() string {
	if err, ok := p.Value.(error); ok {
		return errs.Prefix + "panic: " + errs.Trim(err.Error())
	}
	return fmt.Sprintf("mixin: panic: %v", p.Value)
}

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As see through the panic.
func (p *PanicError) Unwrap() error {
	if err, ok := p.Value.(error); ok {
		return err
	}
	return nil
}

// Format prints Error() for %v and %s; %+v adds the stack.
func (p *PanicError) Format(f fmt.State, verb rune) {
	_, _ = f.Write([]byte(p.Error()))
	if verb == 'v' && f.Flag('+') {
		_, _ = f.Write([]byte("\n"))
		_, _ = f.Write(p.Stack)
	}
}

// errUnusable is returned by the methods of a zero or nil proxy.
func errUnusable(proxy string) error {
	return errs.Errorf("%s used without its constructor (New%s): %w", proxy, proxy, ErrUnusable)
}

// ErrUnusable is matched by the error every method of a zero-value or nil
// proxy returns: proxies must be made by their constructors.
var ErrUnusable = errors.New("mixin: zero or nil proxy")

var errNilFunc = errors.New("mixin: nil func")

// ErrNilContext is matched by the error every method that takes a ctx
// returns when given a nil context.Context (as net/http refuses one), on
// every path: nothing is acquired, entered, set or waited for.
var ErrNilContext = errors.New("mixin: nil context.Context")

// nilCtx is the error of method (as "Lock.Acquire") given a nil ctx.
func nilCtx(method string) error {
	return errs.Errorf("%s: %w", method, ErrNilContext)
}
