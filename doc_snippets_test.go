package mixin_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/internal/doccheck"
)

// The Go snippets of the README, of the pages in docs/ and of the package
// doc compile.
func TestDocSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list -export")
	}
	readme, err := doccheck.README("README.md")
	require.NoError(t, err)
	require.NotEmpty(t, readme)
	pages, err := filepath.Glob("docs/*.md")
	require.NoError(t, err)
	require.NotEmpty(t, pages)
	for _, page := range pages {
		snippets, err := doccheck.README(page)
		require.NoError(t, err)
		readme = append(readme, snippets...)
	}
	pkg, err := doccheck.PackageDoc(".")
	require.NoError(t, err)
	doccheck.Check(t, doccheck.Preamble{
		Imports: []string{`"context"`, `"errors"`, `"log"`, `"net/http"`, `"os/exec"`, `"plugin"`, `"sync"`, `"testing"`, `"github.com/gomixin/mixin"`, `"github.com/gomixin/mixin/adapters"`, `"github.com/gomixin/mixin/validate"`, `"github.com/gomixin/mixin/validate/conform"`},
		Decls: `// ticketlock stands for the user's own package.
var ticketlock struct{ New func() any }

var (
	ctx         context.Context
	v           any
	obs, other  adapters.Observer
	legacyMutex *sync.Mutex
	p           *plugin.Plugin
	work        func(context.Context) error
)`,
	}, append(readme, pkg...))
}
