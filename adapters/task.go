package adapters

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
)

// Task is a task identity: Python's current_task(), carried in a ctx. The zero
// Task is no task.
type Task uint64

// String returns "task-N".
func (t Task) String() string { return "task-" + strconv.FormatUint(uint64(t), 10) }

// ErrNoTask is matched by the errors of calls that need a task identity (an
// owner lock's Acquire and Release) made with a ctx that carries none. Give a
// ctx one with WithTask; a Group's tasks get their own.
var ErrNoTask = errors.New("mixin: ctx carries no task identity (use adapters.WithTask)")

type taskKey struct{}

var lastTask atomic.Uint64

// taskCtx carries a task identity: one allocation, and a look-up that boxes
// nothing (context.WithValue would box the Task).
type taskCtx struct {
	context.Context
	task Task
}

// Value returns the taskCtx itself for the task key, else asks its parent.
func (c *taskCtx) Value(key any) any {
	if key == (taskKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// WithTask returns a ctx carrying a fresh task identity, distinct from every
// other in the process. Derived ctxs share it; call WithTask again for a new
// one.
func WithTask(ctx context.Context) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return &taskCtx{Context: ctx, task: Task(lastTask.Add(1))}
}

// TaskOf returns the task identity ctx carries; ok is false when it carries
// none (then ownership checks fail with ErrNoTask rather than pass).
func TaskOf(ctx context.Context) (Task, bool) {
	if ctx == nil {
		return 0, false
	}
	if tc, ok := ctx.(*taskCtx); ok {
		return tc.task, true
	}
	if tc, ok := ctx.Value(taskKey{}).(*taskCtx); ok {
		return tc.task, true
	}
	return 0, false
}
