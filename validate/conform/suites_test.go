package conform_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/internal/shop"
	"github.com/gomixin/mixin/validate/conform"
)

// resource is a group value as users write them: Setup opens, Cleanup
// closes, and both may be called in any of the accepted shapes.
type resource struct{ open atomic.Bool }

func (r *resource) Setup(context.Context) error { r.open.Store(true); return nil }
func (r *resource) Cleanup()                    { r.open.Store(false) }

// closer has a Cleanup only.
type closer struct{ closed atomic.Int32 }

func (c *closer) Cleanup(context.Context) error { c.closed.Add(1); return nil }

func TestGroupAndExecContextSuitesPass(t *testing.T) {
	conform.Group(t, func() any { return &resource{} })
	conform.Group(t, func() any { return &closer{} })

	dir := t.TempDir()
	n := 0
	conform.ExecContext[*os.File](t, func() any {
		n++
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(n)))
		require.NoError(t, err)
		return f
	})
	conform.ExecContext[*shop.Conn](t, func() any { return &shop.Session{} })
}

// stuckCleanup's Cleanup ignores its ctx until the test lets it go.
type stuckCleanup struct{ release chan struct{} }

func (s stuckCleanup) Cleanup(context.Context) error { <-s.release; return nil }

// refusingSetup's Setup always fails.
type refusingSetup struct{}

func (refusingSetup) Setup() error { return errors.New("no database") }

// stuckExit's Exit blocks until the test lets it go.
type stuckExit struct{ release chan struct{} }

func (s stuckExit) Exit(error) { <-s.release }

func TestGroupAndExecContextSuitesFailOnBrokenValues(t *testing.T) {
	t.Parallel() // the quick check: the package is its longest
	for _, tc := range []struct {
		name  string
		suite func(r *recorder, release chan struct{}) bool
		want  string
	}{
		{"Cleanup ignores its ctx", func(r *recorder, release chan struct{}) bool {
			return conform.Group(r, func() any { return stuckCleanup{release} }, conform.WithTimeout(100*time.Millisecond))
		}, "setup-once-cleanup-once: Exit (Cleanup) did not return within 100ms of its ctx ending"},
		{"Setup fails", func(r *recorder, _ chan struct{}) bool {
			return conform.Group(r, func() any { return refusingSetup{} }, conform.WithTimeout(100*time.Millisecond))
		}, "setup-once-cleanup-once: expected Enter to succeed, Setup returned no database"},
		{"Exit blocks", func(r *recorder, release chan struct{}) bool {
			return conform.ExecContext[any](r, func() any { return stuckExit{release} }, conform.WithTimeout(100*time.Millisecond), conform.WithWaiters(3))
		}, "enter-exit: Exit did not finish within 100ms: it blocks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			release := make(chan struct{})
			start := time.Now()
			ok := tc.suite(r, release)
			took := time.Since(start)
			close(release) // what the suite left blocked ends; goleak checks it
			assert.False(t, ok)
			assert.Contains(t, r.failures(), tc.want)
			assert.Less(t, took, 30*time.Second, "the suite must fail within seconds, not hang")
			t.Logf("failed in %v:\n%s", took.Round(time.Millisecond), r.failures())
		})
	}
}
