package delegate_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/contrib/internal/dist/delegate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The written files are what the generator writes now: a method added to
// dist.Handle or dist.Event, or a handle type added to an engine, without
// `go run ./contrib/internal/dist/gendoc` fails here.
func TestWrittenFilesAreFresh(t *testing.T) {
	for _, e := range delegate.Engines {
		want, err := delegate.Generate("..", filepath.Join("..", "..", "..", e))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("..", "..", "..", e, delegate.File))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "contrib/%s/%s is stale: go run ./contrib/internal/dist/gendoc", e, delegate.File)
	}
}

// go doc lists every method of every engine's Lock and Event, with the
// signature of Token among them (issue 31: it listed none).
func TestGoDocListsTheHandlesMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go doc")
	}
	goTool, err := exec.LookPath("go")
	require.NoError(t, err)
	for _, e := range delegate.Engines {
		for _, typ := range []string{"Lock", "Event"} {
			cmd := exec.Command(goTool, "doc", ".", typ)
			cmd.Dir = filepath.Join("..", "..", "..", e)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			text := string(out)
			for _, m := range map[string][]string{"Lock": {"Acquire(", "Release(", "IsOwner(", "Lost(", "Token() (int64, bool)"}, "Event": {"Set(", "Get(", "WaitForNext("}}[typ] {
				assert.True(t, strings.Contains(text, m), "go doc %s.%s lists no %s:\n%s", e, typ, m, text)
			}
		}
	}
}
