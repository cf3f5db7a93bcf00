package mixin_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// Compose takes a value it was never compiled against and attaches every
// behaviour its methods allow.
func ExampleCompose() {
	var mu sync.Mutex
	c, err := mixin.Compose(&mu)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Kinds())
	l, _ := c.Lock()
	_ = l.Do(context.Background(), func(context.Context) error {
		fmt.Println("held:", l.Locked())
		return nil
	})
	fmt.Println("held:", l.Locked())
	// Output:
	// [lock]
	// held: true
	// held: false
}

// Require makes kinds mandatory; a value that cannot be all of them is
// refused with every problem listed at once.
func ExampleRequire() {
	var wg sync.WaitGroup
	_, err := mixin.Compose(&wg, mixin.Require(mixin.KindAwaitable, mixin.KindLock, mixin.KindContext))
	fmt.Println(errors.Is(err, validate.ErrAbstract))
	fmt.Printf("%+v\n", err)
	// Output:
	// true
	// mixin: can't compose *sync.WaitGroup:
	//     context: missing abstract method Exit
	//     context: or instead Shutdown (a graceful server), GracefulStop and Stop (a graceful stopper), Close (io.Closer) or Stop (a stopper)
	//     lock: missing abstract method Acquire
	//     lock: missing abstract method Release
	//     lock: missing abstract method Locked
	//     lock: or instead Lock and Unlock (sync.Locker, a ctx locker, an error locker) or LockContext and UnlockContext (a ctx locker (LockContext))
}

// A plugin host keeps composed values by name; a second registration under a
// name is refused, never a silent overwrite.
func ExampleComposer_Register() {
	host := mixin.New()
	_, _ = host.Register("db-lock", &sync.Mutex{}, mixin.Require(mixin.KindLock))
	_, _ = host.Register("jobs", &sync.WaitGroup{}, mixin.Require(mixin.KindAwaitable))
	_, err := host.Register("jobs", &sync.WaitGroup{})
	fmt.Println(errors.Is(err, mixin.ErrDuplicate))
	for name, c := range host.All() {
		fmt.Println(name, c.Kinds())
	}
	// Output:
	// true
	// db-lock [lock]
	// jobs [awaitable]
}

type greeterPlugin struct{}

func (greeterPlugin) Greet(ctx context.Context, name string) (string, error) {
	return "hello, " + name, nil
}

// Define declares a kind of the plugin host's own: values get the same ABC
// check as the built-in kinds, and a proxy back.
func ExampleRegistry_Define() {
	host := mixin.New()
	err := host.Registry().Define("greeter", validate.Spec{Methods: []validate.Method{{
		Name:   "Greet",
		Shapes: []reflect.Type{validate.Shape[func(context.Context, string) (string, error)]()},
	}}}, nil)
	if err != nil {
		panic(err)
	}
	c, err := host.Compose(greeterPlugin{}, mixin.Require("greeter"))
	if err != nil {
		panic(err)
	}
	p, _ := c.Proxy("greeter")
	out, err := p.(*mixin.Dynamic).Call("Greet", context.Background(), "gopher")
	fmt.Println(out[0], err)

	_, err = host.Compose(&sync.Mutex{}, mixin.Require("greeter"))
	fmt.Println(err)
	// Output:
	// hello, gopher <nil>
	// mixin: can't compose *sync.Mutex as greeter: missing abstract method Greet
}

// Greeter is what a plugin host wants of its plugins.
type Greeter interface {
	Greet(ctx context.Context, name string) (string, error)
}

// A plugin host's own kind, end to end: the spec names the method and its
// shape (validate.Shape spells a func type), the build func turns a value
// that passed the check into the host's own typed proxy, and the host calls
// it with no reflection and no []any. (Without a build func, Proxy returns
// a *mixin.Dynamic, whose Call returns the method's results, its error
// among them, as a []any.)
func ExampleRegistry_Define_typed() {
	host := mixin.New()
	err := host.Registry().Define("greeter", validate.Spec{Methods: []validate.Method{{
		Name:   "Greet",
		Shapes: []reflect.Type{validate.Shape[func(context.Context, string) (string, error)]()},
	}}}, func(v any) (any, error) {
		g, ok := v.(Greeter) // the check passed: v has Greet in that shape
		if !ok {
			return nil, fmt.Errorf("%T is not a Greeter", v)
		}
		return g, nil
	})
	if err != nil {
		panic(err)
	}
	c, err := host.Register("hello-plugin", greeterPlugin{}, mixin.Require("greeter"))
	if err != nil {
		panic(err)
	}
	p, _ := c.Proxy("greeter")
	msg, err := p.(Greeter).Greet(context.Background(), "gopher")
	fmt.Println(msg, err)

	d, _ := mixin.Compose(greeterPlugin{}) // the default Composer knows no greeter
	fmt.Println(d.Has("greeter"))
	// Output:
	// hello, gopher <nil>
	// false
}

func ExampleWithObserver() {
	waits := adapters.ObserverFunc(func(_ context.Context, e adapters.Observation) {
		if e.Op == adapters.OpAcquire {
			fmt.Printf("%s %s: %s\n", e.Kind, e.Name, e.Outcome)
		}
	})
	c := mixin.New(mixin.WithObserver(waits))
	comp, err := c.Register("orders-db", &sync.Mutex{}) // a legacy lock, unchanged
	if err != nil {
		panic(err)
	}
	l, _ := comp.Lock()
	_ = l.Do(context.Background(), func(context.Context) error { return nil })
	fmt.Println("acquires:", l.Stats().Acquires)
	// Output:
	// lock orders-db: ok
	// acquires: 1
}
