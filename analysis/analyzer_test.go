package analysis_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/gomixin/mixin/analysis"
)

func testdata(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAnalyzerOverTestdata checks the testdata packages' want comments:
// calls reports every checked call form, directive checks //mixin:kind
// directives, adapts leaves Compose to a package that registers adapters.
// One run over the three loads and type-checks their dependencies once (a
// run each cost three loads of the standard library from source, under
// -race).
func TestAnalyzerOverTestdata(t *testing.T) {
	analysistest.Run(t, testdata(t), analysis.Analyzer, "./calls", "./directive", "./adapts")
}

// TestAnalyzerSuggestedFixes applies every fix (&v, stubs with the canonical
// signatures, the import they need) and compares with the golden files.
func TestAnalyzerSuggestedFixes(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, testdata(t), analysis.Analyzer, "./fixes")
}

// TestAnalyzerFixedCodePasses checks the golden files, the code after every
// fix, again: nothing is left to report.
func TestAnalyzerFixedCodePasses(t *testing.T) {
	dir := t.TempDir()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	src := testdata(t)
	mod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	require.NoError(t, err)
	mod = []byte(strings.Replace(string(mod), "=> ../..", "=> "+root, 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644))
	sum, err := os.ReadFile(filepath.Join(src, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "fixed"), 0o755))
	goldens, err := filepath.Glob(filepath.Join(src, "fixes", "*.golden"))
	require.NoError(t, err)
	require.NotEmpty(t, goldens)
	want := regexp.MustCompile(`// want .*`)
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		require.NoError(t, err)
		name := strings.TrimSuffix(filepath.Base(g), ".golden")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "fixed", name), want.ReplaceAll(b, nil), 0o644))
	}
	analysistest.Run(t, dir, analysis.Analyzer, "./fixed")
}

// TestAnalyzerSaysNothingOnTheExamples runs over the library's examples:
// their plugins carry //mixin:kind and compose, and the refusals they show
// on purpose carry //mixin:ignore.
func TestAnalyzerSaysNothingOnTheExamples(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	analysistest.Run(t, root, analysis.Analyzer, "./examples/...")
}
