package adapters_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gomixin/mixin/adapters"
)

// twiceExecutor is a lying executor: it runs every function twice, each on
// a goroutine of its own.
type twiceExecutor struct{ wg sync.WaitGroup }

func (e *twiceExecutor) Submit(_ context.Context, fn func()) error {
	e.wg.Add(2)
	go func() { defer e.wg.Done(); fn() }()
	go func() { defer e.wg.Done(); fn() }()
	return nil
}

// ExecContext's Runner over an executor that runs a function twice: the
// second run closes the work's done channel a second time, a panic in
// library code on the executor's goroutine ("close of closed channel"),
// which ends the process. A Group guards against it (groupTask.claimed);
// ExecContext does not.
func TestReviewExecContextExecutorRunsTwice(t *testing.T) {
	prev := adapters.SetFaultHandler(func(adapters.Fault) {})
	defer func() { _ = adapters.SetFaultHandler(prev) }()
	e := &twiceExecutor{}
	x, err := adapters.NewExecContext[int](&countingCtx{}, adapters.WithExecutor(e))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = x.Runner()(ctx, func() {})
	e.wg.Wait()
}
