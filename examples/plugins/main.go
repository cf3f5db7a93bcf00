// Command plugins is a small plugin host. It loads Go plugins (.so files
// built with go build -buildmode=plugin) with the standard plugin package,
// looks up each one's exported Plugin value, and composes it: values of types
// the host was never compiled against (it imports none of the plugin
// packages). It registers them by name with the kinds they claim, declares a
// kind of its own ("health"), adapts a legacy type it recognises by its
// methods, uses the composed proxies, and refuses faulty plugins with the
// whole error, going on with the others.
//
//	go run ./examples/plugins               # builds the bundled plugins first
//	go run ./examples/plugins -dir DIR      # loads the .so files in DIR
//
// A plugin must be built with the same Go toolchain and flags (-race) as its
// host; plugins are supported on Linux, FreeBSD and macOS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/validate"
)

// KindHealth is the host's own kind: anything that can Check itself.
const KindHealth mixin.Kind = "health"

// Checker is the proxy the host builds for KindHealth.
type Checker func(ctx context.Context) error

// legacyQueue is how the host recognises a legacy queue: it can be shut down
// but has no Exit or Close of its own.
type legacyQueue interface {
	Shutdown(force bool)
	Publish(msg string) error
	Open() bool
}

// queueAdapter gives a legacy queue the context kind's Exit.
type queueAdapter struct{ q legacyQueue }

func (a queueAdapter) Exit(err error) { a.q.Shutdown(err != nil) }

func main() {
	dir := flag.String("dir", "", "a directory of prebuilt plugins (*.so); empty: build the bundled ones")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "plugins:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
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

	dir, cleanup, err := pluginDir(dir)
	if err != nil {
		return err
	}
	defer cleanup()
	paths, err := findPlugins(dir)
	if err != nil {
		return err
	}
	fmt.Println("registering plugins:")
	for _, path := range paths {
		p, err := load(path)
		if err != nil {
			fmt.Printf("  %-13s not loaded: %v\n", baseName(path), err)
			continue
		}
		// A legacy type, adapted by hand (Python's ABC.register): the host
		// knows its methods, not its type.
		if _, ok := p.Value.(legacyQueue); ok {
			err := reg.Adapt(reflect.TypeOf(p.Value), mixin.KindContext, func(v any) (any, error) {
				return queueAdapter{v.(legacyQueue)}, nil
			})
			if err != nil && !errors.Is(err, mixin.ErrDuplicate) {
				return err
			}
		}
		c, err := host.Register(p.Name, p.Value, mixin.Require(p.Kinds...))
		if err != nil {
			why := "it lacks what its kinds need (validate.ErrAbstract)"
			if !errors.Is(err, validate.ErrAbstract) {
				why = "it could not be composed"
			}
			fmt.Printf("  %-13s refused, %s:\n%+v\n", p.Name, why, err)
			continue
		}
		fmt.Printf("  %-13s %T as %v\n", p.Name, c.Value(), c.Kinds())
	}
	c, ok := host.Lookup("config")
	if !ok {
		return errors.New("the config plugin did not load")
	}
	_, err = host.Register("config", c.Value())
	if errors.Is(err, mixin.ErrDuplicate) {
		fmt.Println("  registering config twice is refused:", err)
	}

	fmt.Println("using them:")
	c, _ = host.Lookup("locks/orders")
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
	fmt.Println("  config: Set(42) is refused:", ev.TrySet(42))

	c, _ = host.Lookup("health/db")
	check, _ := c.Proxy(KindHealth)
	fmt.Println("  health/db: Check says", check.(Checker)(ctx))

	c, _ = host.Lookup("queue/events")
	q := c.Value().(legacyQueue)
	cm, _ := c.Context()
	// The body gets the queue itself, not the adapter that closes it.
	err = cm.Do(ctx, func(_ context.Context, v any) error { return v.(legacyQueue).Publish("order created") })
	state := "closed"
	if q.Open() {
		state = "still open"
	}
	fmt.Printf("  queue/events: published inside Do (error: %v); the queue is %s afterwards\n", err, state)

	fmt.Print("registered:")
	for name := range host.All() {
		fmt.Print(" ", name)
	}
	fmt.Println()
	return nil
}

// baseName is a plugin file's name without directory and extension.
func baseName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".so") }
