package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gomixin/mixin/adapters"
)

func ExampleNewValueEvent() {
	e := adapters.NewValueEvent[string]()
	_, err := e.Get()
	fmt.Println(errors.Is(err, adapters.ErrNoValue))

	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.WaitForNext(context.Background())
		}()
	}
	time.Sleep(10 * time.Millisecond)
	e.Set("go") // wakes all three
	wg.Wait()
	v, _ := e.Get()
	fmt.Println(v, e.IsSet())
	// Output:
	// true
	// go true
}

func newIntEvent() *adapters.Event[int] {
	ev, err := adapters.NewEvent[int](adapters.NewValueEvent[int]())
	if err != nil {
		panic(err)
	}
	return ev
}

func ExampleEvent_Wait() {
	ev := newIntEvent()
	go func() { time.Sleep(5 * time.Millisecond); ev.Set(1) }()
	v, _ := ev.Wait(context.Background()) // empty: waits for the next Set
	fmt.Println(v)
	v, _ = ev.Wait(context.Background()) // held: returns at once
	fmt.Println(v)
	// Output:
	// 1
	// 1
}

func ExampleEvent_WaitForNext() {
	ev := newIntEvent()
	ev.Set(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	_, err := ev.WaitForNext(ctx) // a held value does not count
	fmt.Println(err)
	// Output:
	// context deadline exceeded
}

func ExampleEvent_Await() {
	ev := newIntEvent()
	ev.Set(9)
	v, err := ev.Await(context.Background())
	fmt.Println(v, err)
	// Output:
	// 9 <nil>
}

func ExampleEvent_Get() {
	ev := newIntEvent()
	_, err := ev.Get()
	fmt.Println(err)
	ev.Set(2)
	ev.Clear()
	fmt.Println(ev.IsSet())
	// Output:
	// mixin: event holds no value
	// false
}

func ExampleEvent_WaitForValue() {
	ev := newIntEvent()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	// Nobody sets 10 in time: set it ourselves at the deadline, waking every
	// waiter, and still report the timeout.
	err := ev.WaitForValue(ctx, 10, adapters.SetAtTimeout[int]())
	v, _ := ev.Get()
	fmt.Println(err, v)
	// Output:
	// context deadline exceeded 10
}

func ExampleEvent_Stream() {
	ev := newIntEvent()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	go func() {
		time.Sleep(5 * time.Millisecond)
		for i := 1; i <= 3; i++ {
			ev.Set(i)
		}
	}()
	for v := range ev.Stream(ctx) {
		fmt.Println(v)
		if v == 3 {
			break
		}
	}
	// Output:
	// 1
	// 2
	// 3
}

func ExampleEvent_TrySet() {
	ev, _ := adapters.NewEvent[any](adapters.NewValueEvent[int]()) // as the Composer makes it
	fmt.Println(ev.TrySet(1))
	fmt.Println(errors.Is(ev.TrySet("one"), adapters.ErrType))
	// Output:
	// <nil>
	// true
}
