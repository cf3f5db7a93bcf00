package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/gomixin/mixin/adapters"
)

func ExampleNewLock() {
	var mu sync.Mutex // a sync.Locker: Lock, Unlock, and TryLock when present
	l, err := adapters.NewLock(&mu)
	if err != nil {
		panic(err)
	}
	_ = l.Do(context.Background(), func(context.Context) error {
		// A caller that gives up while the lock is held gets its ctx error,
		// and the lock is left as it was.
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		_, err := l.Acquire(ctx)
		fmt.Println(err)
		return nil
	})
	fmt.Println("locked:", l.Locked())
	// The acquire that gave up left nothing held: this one gets the lock.
	ok, err := l.Acquire(context.Background())
	fmt.Println("acquired:", ok, err)
	_ = l.Release(context.Background())
	// Output:
	// context deadline exceeded
	// locked: false
	// acquired: true <nil>
}

func ExampleNewOwnerLock() {
	o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
	if err != nil {
		panic(err)
	}
	alice := adapters.WithTask(context.Background())
	bob := adapters.WithTask(context.Background())
	_, _ = o.Acquire(alice)
	err = o.Release(bob)
	fmt.Println(errors.Is(err, adapters.ErrNotOwner))
	fmt.Println(err)
	fmt.Println(o.Release(alice))
	// Output:
	// true
	// mixin: *adapters.OwnerMutex is not acquired by current task
	// <nil>
}

func ExampleWithTask() {
	ctx := adapters.WithTask(context.Background())
	_, ok := adapters.TaskOf(ctx)
	fmt.Println(ok)
	_, ok = adapters.TaskOf(context.Background())
	fmt.Println(ok)
	// Output:
	// true
	// false
}

func ExampleNewWatchdog() {
	dog := adapters.NewWatchdog(time.Millisecond, func(h adapters.Hold) {
		fmt.Println("held too long; holder known:", h.HasHolder)
		_ = h.ForceRelease(context.Background())
	})
	l, err := dog.Watch(adapters.NewOwnerMutex())
	if err != nil {
		panic(err)
	}
	stuck := adapters.WithTask(context.Background())
	_, _ = l.Acquire(stuck)
	time.Sleep(2 * time.Millisecond)
	dog.Check()
	fmt.Println("locked after force-release:", l.Locked())
	// Output:
	// held too long; holder known: true
	// locked after force-release: false
}

// shout is a context manager of its own: Enter yields a builder, Exit
// suppresses errors.
type shout struct{ b strings.Builder }

func (s *shout) Enter() *strings.Builder { return &s.b }
func (s *shout) Exit(err error) bool {
	fmt.Println("exit saw:", err)
	return true
}

func ExampleNewContext() {
	c, err := adapters.NewContext[*strings.Builder](&shout{})
	if err != nil {
		panic(err)
	}
	err = c.Do(context.Background(), func(_ context.Context, b *strings.Builder) error {
		b.WriteString("hi")
		return errors.New("body failed")
	})
	fmt.Println("Do returned:", err)
	// Output:
	// exit saw: body failed
	// Do returned: <nil>
}

func ExampleNewAwaitable() {
	cmd := exec.Command("sh", "-c", "exit 2")
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	a, err := adapters.NewAwaitable[any](cmd) // Wait() error
	if err != nil {
		panic(err)
	}
	_, err = a.Await(context.Background())
	fmt.Println(err)
	// Output:
	// exit status 2
}

func ExampleAwaitable_Chan() {
	var wg sync.WaitGroup
	wg.Add(1)
	a, _ := adapters.NewAwaitable[any](&wg)
	ch := a.Chan(context.Background())
	wg.Done()
	select {
	case r := <-ch:
		fmt.Println("done:", r.Err)
	case <-time.After(time.Second):
		fmt.Println("timeout")
	}
	// Output:
	// done: <nil>
}

// blockingConn's Enter and Exit block, as a legacy client's connect and
// close calls do; ExecContext runs them on an executor.
type blockingConn struct{}

func (blockingConn) Enter() (string, error) { time.Sleep(50 * time.Millisecond); return "conn", nil }
func (blockingConn) Exit(error) error       { fmt.Println("closed"); return nil }

func ExampleNewExecContext() {
	x, err := adapters.NewExecContext[string](blockingConn{})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	_, err = x.Enter(ctx) // the caller leaves at its deadline...
	fmt.Println(err)
	time.Sleep(100 * time.Millisecond) // ...and the late Enter is matched by one Exit
	// Output:
	// context deadline exceeded
	// closed
}

// Invoice is a plugin's result type.
type Invoice struct{ Total int }

// invoiceJob is the plugin's job: its Wait returns the plugin's own type,
// which no proxy of T = any (the Composer's) can bind by a type assertion.
type invoiceJob struct{}

func (invoiceJob) Wait(context.Context) (*Invoice, error) { return &Invoice{Total: 42}, nil }

func ExampleRegisterType() {
	// In the plugin's init function: the proxies of T = any call the job's
	// Wait directly, without reflection.
	adapters.RegisterType[*Invoice]()

	a, err := adapters.NewAwaitable[any](invoiceJob{}) // what the Composer makes
	if err != nil {
		panic(err)
	}
	v, err := a.Await(context.Background())
	fmt.Println(v.(*Invoice).Total, err)
	// Output: 42 <nil>
}
