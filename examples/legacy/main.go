// Command legacy composes real stdlib values that were never written for this
// library (a *sync.Mutex, a *sync.WaitGroup, a started *exec.Cmd, an
// *os.File, a context.Context) and one value that is refused. For each it
// prints the kinds that attached and shows one derived behaviour working.
//
//	go run ./examples/legacy
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/gomixin/mixin"
)

// legacyCache is somebody's old type: it looks like a lock, but its Acquire
// returns a ticket number, it has Unlock where Release belongs, and no
// Locked. Composing it as a lock is refused with every problem named.
type legacyCache struct{ tickets int }

func (c *legacyCache) Acquire() int { c.tickets++; return c.tickets }
func (c *legacyCache) Unlock()      {}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "legacy:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()

	// *sync.Mutex: a sync.Locker becomes a lock with Do and cancellable acquires.
	var mu sync.Mutex
	c, err := mixin.Compose(&mu)
	if err != nil {
		return err
	}
	section("*sync.Mutex", c, "Lock and Unlock: a sync.Locker")
	lock, _ := c.Lock()
	counter := 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = lock.Do(ctx, func(context.Context) error { counter++; return nil })
		}()
	}
	wg.Wait()
	fmt.Println("  50 goroutines incremented under Do:", counter)
	_ = lock.Do(ctx, func(context.Context) error {
		short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		_, err := lock.Acquire(short)
		fmt.Println("  a second Acquire while held gives up with:", err)
		return nil
	})
	if !lock.Locked() {
		fmt.Println("  after Do the lock is free")
	}

	// *sync.WaitGroup: an awaitable whose Await honours a ctx deadline.
	var jobs sync.WaitGroup
	jobs.Add(1)
	c, err = mixin.Compose(&jobs)
	if err != nil {
		return err
	}
	section("*sync.WaitGroup", c, "Wait()")
	await, _ := c.Awaitable()
	short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	_, err = await.Await(short)
	cancel()
	fmt.Println("  Await before Done:", err)
	go func() { time.Sleep(5 * time.Millisecond); jobs.Done() }()
	_, err = await.Await(ctx)
	fmt.Println("  Await after Done:", err)

	// A started *exec.Cmd: Wait() error, never called twice.
	cmd := exec.Command("sh", "-c", "sleep 0.05; exit 3")
	if err := cmd.Start(); err != nil {
		return err
	}
	c, err = mixin.Compose(cmd)
	if err != nil {
		return err
	}
	section("*exec.Cmd (started)", c, "Wait() error")
	await, _ = c.Awaitable()
	short, cancel = context.WithTimeout(ctx, 5*time.Millisecond)
	_, err = await.Await(short)
	cancel()
	fmt.Println("  Await with a 5ms deadline:", err)
	_, err = await.Await(ctx)
	fmt.Println("  the next Await joins the same Wait:", err)

	// *os.File: io.Closer makes it a context manager; Do closes it.
	f, err := os.Create(filepath.Join(os.TempDir(), "mixin-legacy-example.txt"))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	c, err = mixin.Compose(f)
	if err != nil {
		return err
	}
	section("*os.File", c, "Close() error: io.Closer; its Close may block, so it is also an executor-backed context, whose Exit a caller can stop waiting for")
	cm, _ := c.Context()
	err = cm.Do(ctx, func(_ context.Context, v any) error {
		_, err := v.(*os.File).WriteString("written inside Do\n")
		return err
	})
	fmt.Println("  Do wrote and returned:", err)
	_, err = f.WriteString("after")
	if errors.Is(err, os.ErrClosed) {
		fmt.Println("  writing after Do fails: Do closed the file")
	}

	// context.Context: Done and Err make it an awaitable.
	parent, stop := context.WithCancel(ctx)
	defer stop()
	c, err = mixin.Compose(parent)
	if err != nil {
		return err
	}
	section("context.Context", c, "Done() and Err()")
	await, _ = c.Awaitable()
	time.AfterFunc(5*time.Millisecond, stop)
	_, err = await.Await(ctx)
	fmt.Println("  Await returned once it was cancelled:", err)

	// A value that breaks the rules is refused, with every problem at once.
	fmt.Println("*main.legacyCache, required to be a lock")
	//mixin:ignore the refusal is what this example shows (mixinvet reports it at vet time)
	_, err = mixin.Compose(&legacyCache{}, mixin.Require(mixin.KindLock))
	fmt.Printf("  refused: %v\n", err)
	fmt.Printf("  itemised (%%+v):\n%+v\n", err)
	return nil
}

// section says what a value composed as, and which of its methods made it.
func section(name string, c *mixin.Composite, why string) {
	fmt.Printf("%s composes as %v, by its %s\n", name, c.Kinds(), why)
}
