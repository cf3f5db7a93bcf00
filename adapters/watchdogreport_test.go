package adapters_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
)

func TestWatchdogReportsLongHoldToLoggerAndObservers(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	dogs, locks := &recorder{}, &recorder{}
	w := adapters.NewWatchdog(hold, nil, adapters.WithLogger(logger), adapters.WithObserver(dogs))
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(locks), adapters.WithName("orders"))
	require.NoError(t, err)
	_, err = w.Watch(l)
	require.NoError(t, err)

	ctx := adapters.WithTask(context.Background())
	task, _ := adapters.TaskOf(ctx)
	ok, err := l.Acquire(ctx)
	require.True(t, ok)
	require.NoError(t, err)
	time.Sleep(2 * hold)
	holds := w.Check()
	require.Len(t, holds, 1)
	require.NoError(t, l.Release(ctx))

	for _, r := range []*recorder{dogs, locks} {
		e := r.one(t, adapters.OpLongHold)
		assert.Equal(t, "orders", e.Name)
		assert.Equal(t, task, e.Task)
		assert.GreaterOrEqual(t, e.Duration, 2*hold)
	}
	line := buf.String()
	assert.Contains(t, line, "level=WARN")
	assert.Contains(t, line, adapters.LongHoldMessage)
	assert.Contains(t, line, "mixin.name=orders")
	assert.Contains(t, line, "holder="+task.String())
	assert.Equal(t, 1, strings.Count(line, "\n"), "one record per hold")
	assert.Empty(t, w.Check(), "a hold is reported once")
}

func TestWatchdogForceReleaseEndsTheObservedHold(t *testing.T) {
	rec := &recorder{}
	w := adapters.NewWatchdog(0, nil)
	l, err := adapters.NewLock(&sync.Mutex{}, adapters.WithObserver(rec))
	require.NoError(t, err)
	_, err = w.Watch(l)
	require.NoError(t, err)
	ok, err := l.Acquire(context.Background())
	require.True(t, ok)
	require.NoError(t, err)
	time.Sleep(hold)
	holds := w.Check()
	require.Len(t, holds, 1)
	require.NoError(t, holds[0].ForceRelease(context.Background()))

	rel := rec.one(t, adapters.OpRelease)
	assert.Equal(t, adapters.OutcomeOK, rel.Outcome)
	assert.GreaterOrEqual(t, rel.Duration, hold)
	s := l.Stats()
	assert.Zero(t, s.HeldNow)
	assert.GreaterOrEqual(t, s.HoldTime, hold)
	assert.False(t, l.Locked())
}
