package validate_test

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// TestImplementsFailingHere fails on purpose, when run by
// TestImplementsReportsAtTheCallersLine in a child process.
func TestImplementsFailingHere(t *testing.T) {
	if os.Getenv("MIXIN_FAIL_HERE") == "" {
		t.Skip("run by TestImplementsReportsAtTheCallersLine")
	}
	validate.Implements(t, 42, adapters.LockSpec()) // the line reported
}

// validate.Implements reports a failure at the caller's line, in the
// go test prefix and at the top of the error trace (issue 24, item 9).
func TestImplementsReportsAtTheCallersLine(t *testing.T) {
	if testing.Short() && runtime.GOOS == "windows" {
		t.Skip()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestImplementsFailingHere$", "-test.v")
	cmd.Env = append(os.Environ(), "MIXIN_FAIL_HERE=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child test fails: %s", out)
	s := string(out)
	assert.Regexp(t, regexp.MustCompile(`(?m)^\s+caller_test\.go:23: `), s, "the go test prefix is the caller's line")
	assert.Regexp(t, regexp.MustCompile(`Error Trace:\s+\S*/validate/caller_test\.go:23\n`), s, "the trace starts at the caller's line")
	assert.NotContains(t, s, "validate/testing.go", "no frame of the helper itself")
	assert.Contains(t, s, "can't compose int")
}
