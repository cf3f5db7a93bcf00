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

func TestRunExportsTheMixinMetrics(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, 100*time.Millisecond, true))
	s := out.String()
	for _, want := range []string{
		`"Name": "mixin.lock.wait.duration"`,
		`"Name": "mixin.lock.hold.duration"`,
		`"Name": "mixin.lock.acquires"`,
		`"Name": "mixin.lock.waiters"`,
		`"Value": "legacy-mutex"`,
		`"Value": "owner-mutex"`,
		"spans made: ",
	} {
		assert.Contains(t, s, want)
	}
}
