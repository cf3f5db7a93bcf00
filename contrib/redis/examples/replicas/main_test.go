package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/contrib/internal/serverproc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(serverproc.Reaper))
}

// TestRun runs the example as a newcomer would, on whatever Redis this
// machine has (a redis-server it starts, or miniredis).
func TestRun(t *testing.T) {
	require.NoError(t, run())
}
