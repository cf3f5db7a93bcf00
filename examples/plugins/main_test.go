package main

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHostRegistersUsesAndRefuses(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stdout
	os.Stdout = w
	out := make(chan string)
	go func() { var b bytes.Buffer; _, _ = io.Copy(&b, r); out <- b.String() }()
	runErr := run()
	os.Stdout = old
	require.NoError(t, w.Close())
	got := <-out
	require.NoError(t, runErr)
	for _, want := range []string{
		"locks/orders  *redislock.Mutex as [lock]",
		"config        *config.Config as [event awaitable]",
		"health/db     health.Database as [health]",
		"queue/events  *legacyq.Queue as [context]",
		"faulty        refused (true):",
		"mixin: register \"faulty\":\nmixin: can't compose faulty.Plugin: (package github.com/gomixin/mixin/examples/plugins/faulty)",
		"lock: missing abstract method Release (Relase: did you mean Release?)",
		"lock: Acquire has signature func(context.Context) int",
		"health: method Check has pointer receiver (compose &v, a *faulty.Plugin)",
		"registering config twice: true",
		"a second Acquire gives up with: context deadline exceeded",
		"config: a waiter got the reload: map[mode:fast]",
		"config: Set with the wrong type is refused: true",
		"health/db: Check says <nil>",
		"[events] order created",
		"published inside Do: <nil> ; open afterwards: false",
		"registered: config health/db locks/orders queue/events",
	} {
		assert.Contains(t, got, want)
	}
}
