package mixin_test

import (
	"context"
	"fmt"
	"reflect"

	"github.com/gomixin/mixin"
)

// chanLock adapts a buffered channel of capacity 1, a common hand-made lock,
// to the lock kind: a send acquires, a receive releases.
type chanLock struct{ ch chan struct{} }

func (c chanLock) Acquire(ctx context.Context) (bool, error) {
	select {
	case c.ch <- struct{}{}:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (c chanLock) Release(context.Context) error { <-c.ch; return nil }
func (c chanLock) Locked() bool                  { return len(c.ch) == 1 }

// A foreign type whose methods fit no kind as they are (here a channel, which
// has none) gets a hand-written adapter with Registry.Adapt (Python's
// ABC.register); composing one of its values then goes through the adapter,
// and Value still returns the original.
func ExampleRegistry_Adapt() {
	c := mixin.New()
	err := c.Registry().Adapt(reflect.TypeFor[chan struct{}](), mixin.KindLock, func(v any) (any, error) {
		return chanLock{v.(chan struct{})}, nil
	})
	if err != nil {
		panic(err)
	}

	ch := make(chan struct{}, 1)
	comp, err := c.Compose(ch)
	if err != nil {
		panic(err)
	}
	l, _ := comp.Lock()
	_ = l.Do(context.Background(), func(context.Context) error {
		fmt.Println("inside: held", len(ch) == 1)
		return nil
	})
	fmt.Println("after: held", len(ch) == 1)
	fmt.Println(comp.Kinds(), comp.Value() == ch)
	// Output:
	// inside: held true
	// after: held false
	// [lock] true
}
