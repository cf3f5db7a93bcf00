// Command plugins is a small plugin host. Its plugins live in packages of
// their own, as third-party code would; the host registers them by name with
// the kinds it requires, declares a kind of its own ("health"), adapts a
// foreign type it cannot change, uses the composed proxies, and refuses a
// faulty plugin with the whole error.
//
//	go run ./examples/plugins
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/examples/plugins/config"
	"github.com/gomixin/mixin/examples/plugins/faulty"
	"github.com/gomixin/mixin/examples/plugins/health"
	"github.com/gomixin/mixin/examples/plugins/legacyq"
	"github.com/gomixin/mixin/examples/plugins/redislock"
	"github.com/gomixin/mixin/validate"
)

// KindHealth is the host's own kind: anything that can Check itself.
const KindHealth mixin.Kind = "health"

// Checker is the proxy the host builds for KindHealth.
type Checker func(ctx context.Context) error

// queueAdapter gives a *legacyq.Queue the context kind's Exit.
type queueAdapter struct{ q *legacyq.Queue }

func (a queueAdapter) Exit(err error) { a.q.Shutdown(err != nil) }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "plugins:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	host := mixin.New()
	reg := host.Registry()

	// A kind of the host's own, with the same check as the built-in kinds.
	err := reg.Define(KindHealth, validate.Spec{Methods: []validate.Method{{
		Name:   "Check",
		Shapes: []reflect.Type{validate.Shape[func(context.Context) error]()},
		Hints:  []string{"Ping", "Healthy"},
	}}}, func(v any) (any, error) {
		return Checker(v.(interface{ Check(context.Context) error }).Check), nil
	})
	if err != nil {
		return err
	}
	// A foreign type, adapted by hand (Python's ABC.register).
	err = reg.Adapt(reflect.TypeFor[*legacyq.Queue](), mixin.KindContext, func(v any) (any, error) {
		return queueAdapter{v.(*legacyq.Queue)}, nil
	})
	if err != nil {
		return err
	}

	plugins := []struct {
		name  string
		v     any
		kinds []mixin.Kind
	}{
		{"locks/orders", redislock.New("orders"), []mixin.Kind{mixin.KindLock}},
		{"config", config.New(), []mixin.Kind{mixin.KindEvent}},
		{"health/db", health.Database{Up: true}, []mixin.Kind{KindHealth}},
		{"queue/events", legacyq.Connect("events"), []mixin.Kind{mixin.KindContext}},
		{"faulty", faulty.Plugin{}, []mixin.Kind{mixin.KindLock, KindHealth}},
	}
	fmt.Println("registering plugins:")
	for _, p := range plugins {
		c, err := host.Register(p.name, p.v, mixin.Require(p.kinds...))
		if err != nil {
			fmt.Printf("  %-13s refused (%v):\n%+v\n", p.name, errors.Is(err, validate.ErrAbstract), err)
			continue
		}
		fmt.Printf("  %-13s %T as %v\n", p.name, c.Value(), c.Kinds())
	}
	_, err = host.Register("config", config.New())
	fmt.Println("  registering config twice:", errors.Is(err, mixin.ErrDuplicate))

	fmt.Println("using them:")
	c, _ := host.Lookup("locks/orders")
	lock, _ := c.Lock()
	err = lock.Do(ctx, func(context.Context) error {
		short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		_, err := lock.Acquire(short)
		fmt.Println("  locks/orders: held; a second Acquire gives up with:", err)
		return nil
	})
	if err != nil {
		return err
	}

	c, _ = host.Lookup("config")
	ev, _ := c.Event()
	go func() {
		time.Sleep(5 * time.Millisecond)
		ev.Set(map[string]string{"mode": "fast"})
	}()
	v, err := ev.Wait(ctx)
	if err != nil {
		return err
	}
	fmt.Println("  config: a waiter got the reload:", v)
	fmt.Println("  config: Set with the wrong type is refused:", ev.TrySet(42) != nil)

	c, _ = host.Lookup("health/db")
	check, _ := c.Proxy(KindHealth)
	fmt.Println("  health/db: Check says", check.(Checker)(ctx))

	c, _ = host.Lookup("queue/events")
	q := c.Value().(*legacyq.Queue)
	cm, _ := c.Context()
	err = cm.Do(ctx, func(context.Context, any) error { return q.Publish("order created") })
	fmt.Println("  queue/events: published inside Do:", err, "; open afterwards:", q.Open())

	fmt.Print("registered:")
	for name := range host.All() {
		fmt.Print(" ", name)
	}
	fmt.Println()
	return nil
}
