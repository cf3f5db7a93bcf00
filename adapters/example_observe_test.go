package adapters_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/gomixin/mixin/adapters"
)

func ExampleWithObserver() {
	obs := adapters.ObserverFunc(func(_ context.Context, e adapters.Observation) {
		fmt.Println(e.Kind, e.Name, e.Op, e.Outcome)
	})
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(obs), adapters.WithName("orders"))
	if err != nil {
		panic(err)
	}
	_ = l.Do(context.Background(), func(context.Context) error { return nil })
	s := l.Stats()
	fmt.Println("acquires:", s.Acquires, "held now:", s.HeldNow)
	// Output:
	// lock orders acquire ok
	// lock orders do ok
	// lock orders release ok
	// acquires: 1 held now: 0
}

func ExampleGroup_Stats() {
	g, err := adapters.NewGroup(nil, adapters.WithStats(), adapters.ContinueOnError())
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_ = g.Enter(ctx)
	g.Go(func(context.Context) error { return nil })
	g.Go(func(context.Context) error { return fmt.Errorf("no stock") })
	err = g.Exit(ctx, nil)
	s := g.Stats()
	fmt.Println(err)
	fmt.Println("started:", s.Started, "failed:", s.Failed, "running:", s.Running)
	// Output:
	// no stock
	// started: 2 failed: 1 running: 0
}
