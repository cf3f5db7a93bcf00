package ecosystem_test

import (
	"context"
	"fmt"
	"reflect"

	"golang.org/x/sync/semaphore"

	"github.com/gomixin/mixin"
)

// weightedLock adapts a *semaphore.Weighted, whose Acquire and Release take
// a weight, to the lock kind: one unit is the lock.
type weightedLock struct {
	s    *semaphore.Weighted
	held bool
}

func (w *weightedLock) Acquire(ctx context.Context) (bool, error) {
	if err := w.s.Acquire(ctx, 1); err != nil {
		return false, err
	}
	w.held = true
	return true, nil
}

func (w *weightedLock) Release(context.Context) error { w.held = false; w.s.Release(1); return nil }
func (w *weightedLock) Locked() bool                  { return w.held }

// x/sync's semaphore.Weighted, whose Acquire and Release take a weight, fits
// no kind as it is; a hand-written adapter declared with Registry.Adapt
// (Python's ABC.register) makes one unit of it a lock.
func Example_semaphoreAdapted() {
	c := mixin.New()
	err := c.Registry().Adapt(reflect.TypeFor[*semaphore.Weighted](), mixin.KindLock, func(v any) (any, error) {
		return &weightedLock{s: v.(*semaphore.Weighted)}, nil
	})
	if err != nil {
		panic(err)
	}

	sem := semaphore.NewWeighted(1)
	comp, err := c.Compose(sem)
	if err != nil {
		panic(err)
	}
	l, _ := comp.Lock()
	_ = l.Do(context.Background(), func(context.Context) error {
		fmt.Println("inside; a second acquire gets in:", sem.TryAcquire(1))
		return nil
	})
	fmt.Println("after; a second acquire gets in:", sem.TryAcquire(1))
	fmt.Println(comp.Kinds(), comp.Value() == sem)
	// Output:
	// inside; a second acquire gets in: false
	// after; a second acquire gets in: true
	// [lock] true
}
