//go:build unix

package filelock_test

import (
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/gomixin/mixin/examples/testing/filelock"
	"github.com/gomixin/mixin/validate/conform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A per-holder lock is tested in handles mode: the factory makes a new
// handle on one lock file for every contender, as each process (or
// goroutine) would hold its own.
func TestFileLockInHandlesMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.lock")
	conform.Lock(t, func() any { return filelock.New(path) }, conform.Handles())
}
