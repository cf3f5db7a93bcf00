package postgres_test

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
		Imports: []string{`"context"`, `"errors"`, `"testing"`, `"github.com/jackc/pgx/v5/pgxpool"`, `"github.com/gomixin/mixin"`, `"github.com/gomixin/mixin/adapters"`, `"github.com/gomixin/mixin/contrib/postgres"`, `"github.com/gomixin/mixin/validate/conform"`},
		Decls: `type Config struct{ Version int }
type Order struct{ ID string }
var (
	ctx    context.Context
	dsn    string
	ourDSN string
	pool   *pgxpool.Pool
	cfg    Config
	order  Order
	store  interface{ Write(context.Context, int64, Order) error }
)`,
	}, append(readme, pkg...))
}
