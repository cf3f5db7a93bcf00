package adapters_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// FuzzValueEvent runs a sequence of operations decoded from the input
// against a ValueEvent and checks each against a model: a value or none.
// Waits use a ctx that has already ended, or a waiter started before a Set,
// so that every operation's outcome is determined.
func FuzzValueEvent(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 5, 2, 3, 1, 2, 3})
	f.Add([]byte{4, 7, 5, 0, 1, 6, 2})
	f.Add([]byte{0, 1, 0, 2, 1, 4, 9, 5, 6, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		e := adapters.NewValueEvent[int]()
		var model struct {
			v   int
			set bool
		}
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		for i := 0; i < len(ops); i++ {
			arg := 0
			if i+1 < len(ops) {
				arg = int(ops[i+1])
			}
			switch ops[i] % 7 {
			case 0: // Set
				e.Set(arg)
				model.v, model.set = arg, true
				i++
			case 1: // Clear
				e.Clear()
				model.set = false
			case 2: // Get
				v, err := e.Get()
				if model.set && (err != nil || v != model.v) {
					t.Fatalf("op %d Get: want %d, got %d, %v", i, model.v, v, err)
				}
				if !model.set && !errors.Is(err, adapters.ErrNoValue) {
					t.Fatalf("op %d Get on empty: want ErrNoValue, got %d, %v", i, v, err)
				}
			case 3: // IsSet
				if e.IsSet() != model.set {
					t.Fatalf("op %d IsSet: want %v", i, model.set)
				}
			case 4: // WaitForNext with an ended ctx never returns a value
				if _, err := e.WaitForNext(ended); !errors.Is(err, context.Canceled) {
					t.Fatalf("op %d WaitForNext(ended): want Canceled, got %v", i, err)
				}
			case 5: // Wait with an ended ctx: the value if held
				v, err := e.Wait(ended)
				if model.set && (err != nil || v != model.v) {
					t.Fatalf("op %d Wait(ended) while set: want %d, got %d, %v", i, model.v, v, err)
				}
				if !model.set && !errors.Is(err, context.Canceled) {
					t.Fatalf("op %d Wait(ended) while empty: want Canceled, got %v", i, err)
				}
			case 6: // a waiter registered before a Set gets that value
				got := make(chan int, 1)
				ready := make(chan struct{})
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					close(ready)
					v, _ := e.WaitForNext(ctx)
					got <- v
				}()
				<-ready
				// WaitForNext registers under the event's lock; keep setting
				// until the waiter has seen one of our values.
				want := arg + 1000
				var v int
				for {
					e.Set(want)
					select {
					case v = <-got:
					case <-time.After(time.Millisecond):
						continue
					}
					break
				}
				if v != want {
					t.Fatalf("op %d: waiter got %d, want %d", i, v, want)
				}
				model.v, model.set = want, true
				i++
			}
		}
	})
}

// FuzzOwnerMutex runs acquires and releases by four tasks against an owner
// lock over OwnerMutex and checks each against a model: the owner or none.
// Acquires use an ended ctx, so that one on a held lock fails at once.
func FuzzOwnerMutex(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 4, 1, 5, 8})
	f.Add([]byte{0, 1, 5, 4, 9, 13, 8})
	f.Add([]byte{2, 6, 3, 10, 14, 7})
	f.Fuzz(func(t *testing.T, ops []byte) {
		o, err := adapters.NewOwnerLock(adapters.NewOwnerMutex())
		if err != nil {
			t.Fatal(err)
		}
		var tasks [4]context.Context
		for i := range tasks {
			ctx, cancel := context.WithCancel(adapters.WithTask(context.Background()))
			cancel()
			tasks[i] = ctx
		}
		owner := -1
		for i, op := range ops {
			who := int(op) % 4
			ctx := tasks[who]
			switch (op / 4) % 4 {
			case 0: // Acquire
				ok, err := o.Acquire(ctx)
				if owner < 0 {
					if !ok || err != nil {
						t.Fatalf("op %d: task %d Acquire on a free lock: got %v, %v", i, who, ok, err)
					}
					owner = who
				} else if ok || !errors.Is(err, context.Canceled) {
					t.Fatalf("op %d: task %d Acquire on a lock held by %d: got %v, %v", i, who, owner, ok, err)
				}
			case 1: // Release
				err := o.Release(ctx)
				if owner == who {
					if err != nil {
						t.Fatalf("op %d: owner %d Release: %v", i, who, err)
					}
					owner = -1
				} else if !errors.Is(err, adapters.ErrNotOwner) {
					t.Fatalf("op %d: task %d Release of a lock held by %d: want ErrNotOwner, got %v", i, who, owner, err)
				}
			case 2: // IsOwner
				if o.IsOwner(ctx) != (owner == who) {
					t.Fatalf("op %d: IsOwner(%d) with owner %d", i, who, owner)
				}
			case 3: // Locked
				if o.Locked() != (owner >= 0) {
					t.Fatalf("op %d: Locked with owner %d", i, owner)
				}
			}
		}
	})
}
