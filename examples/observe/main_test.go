package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunPrintsStatsAndChartPerLock(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, 200*time.Millisecond, 4))
	s := out.String()
	for _, want := range []string{
		"legacy-mutex (*sync.Mutex)",
		"owner-mutex (*adapters.OwnerMutex)",
		"lock-file (*main.lockFile)",
		"waiting now 0, held now 0",
		"wait time of the acquisitions:",
		"█",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, "acquires 0 ", "every lock was taken")
	assert.Equal(t, 3, bytes.Count(out.Bytes(), []byte("errors 0, lost 0")))
}
