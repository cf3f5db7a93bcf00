package validate_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// palette is what fuzzed signatures are made of: the types the shapes use,
// near misses of them, and the placeholder itself.
var palette = []reflect.Type{
	reflect.TypeFor[context.Context](),
	reflect.TypeFor[error](),
	reflect.TypeFor[bool](),
	reflect.TypeFor[int](),
	reflect.TypeFor[string](),
	reflect.TypeFor[any](),
	reflect.TypeFor[struct{}](),
	reflect.TypeFor[<-chan struct{}](),
	reflect.TypeFor[chan struct{}](),
	reflect.TypeFor[*int](),
	reflect.TypeFor[validate.T](),
	reflect.TypeFor[[]int](),
	reflect.TypeFor[func()](),
	reflect.TypeFor[adapters.Result[int]](),
	reflect.TypeFor[adapters.Locksmith](),
}

var names = []string{
	"Acquire", "Release", "Locked", "Enter", "Exit", "Close", "Wait", "Done", "Err",
	"Get", "Set", "Clear", "IsSet", "WaitForNext", "Lock", "Unlock", "TryLock",
	"IsOwner", "ReleaseUnchecked", "Setup", "Cleanup", "Relase", "wait", "X",
}

// builtinSpecs returns the specs of the built-in kinds that adapters defines.
func builtinSpecs() []validate.Spec {
	return []validate.Spec{
		adapters.ContextSpec(), adapters.ExecContextSpec(), adapters.AwaitableSpec(), adapters.EventSpec(),
		adapters.LockSpec(), adapters.OwnerLockSpec(), adapters.GroupSpec(),
	}
}

// decodeMethods turns fuzz bytes into a method table: per method, a name
// byte, a parameter count, parameter types, a result count, result types and
// a variadic flag.
func decodeMethods(data []byte) map[string]reflect.Type {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	methods := map[string]reflect.Type{}
	for len(data) > 0 && len(methods) < 8 {
		name := names[next()%len(names)]
		in := make([]reflect.Type, next()%4)
		for i := range in {
			in[i] = palette[next()%len(palette)]
		}
		out := make([]reflect.Type, next()%4)
		for i := range out {
			out[i] = palette[next()%len(palette)]
		}
		variadic := next()%5 == 0 && len(in) > 0
		if variadic {
			in[len(in)-1] = reflect.SliceOf(in[len(in)-1])
		}
		methods[name] = reflect.FuncOf(in, out, variadic)
	}
	return methods
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{4, 0, 0, 0})                             // Enter()
	f.Add([]byte{4, 1, 0, 2, 10, 1, 1, 4, 1, 1, 1, 2, 1}) // Enter(ctx) (T, error); Exit(error) bool
	f.Add([]byte{5, 1, 1, 1, 2, 1})                       // Close(error) bool
	f.Add([]byte{6, 0, 1, 1, 1})                          // Wait() error
	f.Add([]byte{6, 1, 0, 2, 10, 1, 1})                   // Wait(ctx) (T, error)
	f.Add([]byte{7, 0, 1, 7, 1, 8, 0, 1, 1, 1})           // Done() <-chan struct{}; Err() error
	f.Add([]byte{7, 0, 1, 8, 1})                          // Done() chan struct{}: a near miss
	f.Add([]byte{6, 2, 0, 3, 0, 0})                       // variadic-looking Wait
	f.Add([]byte{21, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		methods := decodeMethods(data)
		specs := builtinSpecs()
		err := validate.CheckSynthetic("fuzz.Type", methods, specs...)
		if err == nil {
			return
		}
		if !errors.Is(err, validate.ErrAbstract) {
			t.Fatalf("error does not match ErrAbstract: %v", err)
		}
		var ae *validate.AbstractError
		if !errors.As(err, &ae) {
			t.Fatalf("error is not an *AbstractError: %T", err)
		}
		if len(ae.Problems) == 0 || len(ae.Kinds) == 0 {
			t.Fatalf("an error with no problems: %#v", ae)
		}
		_ = err.Error()
		_ = fmt.Sprintf("%+v", err)
		for _, s := range specs {
			_ = validate.CheckSynthetic("fuzz.Type", methods, s)
		}
	})
}
