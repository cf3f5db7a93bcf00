package conform_test

import (
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/validate/conform"
)

// liar is a lock whose Locked always says false.
type liar struct{ mu sync.Mutex }

func (l *liar) Lock()        { l.mu.Lock() }
func (l *liar) Unlock()      { l.mu.Unlock() }
func (l *liar) Locked() bool { return false }
func (l *liar) Acquire()     { l.mu.Lock() }
func (l *liar) Release()     { l.mu.Unlock() }

// TestSuiteFailingHere fails on purpose, when run by
// TestSuiteReportsAtTheCallersLine in a child process.
func TestSuiteFailingHere(t *testing.T) {
	if os.Getenv("MIXIN_FAIL_HERE") == "" {
		t.Skip("run by TestSuiteReportsAtTheCallersLine")
	}
	conform.Lock(t, func() any { return &liar{} }) // the line reported
}

// A conform suite's failures are reported at the line that called the suite
// (issue 24, item 9), not at the suite's own lines.
func TestSuiteReportsAtTheCallersLine(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteFailingHere$", "-test.v")
	cmd.Env = append(os.Environ(), "MIXIN_FAIL_HERE=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child test fails: %s", out)
	s := string(out)
	assert.Contains(t, s, "--- FAIL: TestSuiteFailingHere/locked-tells-truth")
	assert.Regexp(t, regexp.MustCompile(`(?m)^\s+caller_test\.go:31: expected Locked after Acquire`), s)
	assert.NotRegexp(t, regexp.MustCompile(`(?m)^\s+lock\.go:\d+: `), s, "no failure at the suite's own lines")
}
