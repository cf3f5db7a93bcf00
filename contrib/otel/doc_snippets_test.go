package mixinotel_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin/internal/doccheck"
)

// The snippets of the README and of the package doc compile.
func TestDocSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the module's dependencies from source")
	}
	readme, err := doccheck.README("README.md")
	require.NoError(t, err)
	require.NotEmpty(t, readme)
	pkg, err := doccheck.PackageDoc(".")
	require.NoError(t, err)
	doccheck.Check(t, doccheck.Preamble{
		Imports: []string{`"context"`, `"sync"`, `"go.opentelemetry.io/otel/metric"`, `"go.opentelemetry.io/otel/trace"`, `"github.com/gomixin/mixin"`, `mixinotel "github.com/gomixin/mixin/contrib/otel"`},
		Decls: `var (
	ctx         context.Context
	mp          metric.MeterProvider
	tp          trace.TracerProvider
	legacyMutex *sync.Mutex
)`,
	}, append(readme, pkg...))
}
