package analysis

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	goanalysis "golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/analysis/internal/corpus"
	"github.com/gomixin/mixin/validate"
)

// callForm is one checked call: its source, with X for the value, and what
// it returns at run time.
type callForm struct {
	src string
	run func(v any) error
}

func callForms() []callForm {
	err := func(_ any, err error) error { return err }
	forms := []callForm{
		{"mixin.Compose(X)", func(v any) error { return noted(v)(mixin.Compose(v)) }},
		{"mixin.Compose(X, mixin.Only(mixin.KindLock, mixin.KindAwaitable))", func(v any) error {
			return noted(v)(mixin.Compose(v, mixin.Only(mixin.KindLock, mixin.KindAwaitable)))
		}},
		{"mixin.New().Compose(X, mixin.Require(mixin.KindEvent), mixin.Only(mixin.KindGroup))", func(v any) error {
			return noted(v)(mixin.New().Compose(v, mixin.Require(mixin.KindEvent), mixin.Only(mixin.KindGroup)))
		}},
		{"adapters.NewLock(X)", func(v any) error { return err(adapters.NewLock(v)) }},
		{"adapters.NewOwnerLock(X)", func(v any) error { return err(adapters.NewOwnerLock(v)) }},
		{"adapters.NewContext[int](X)", func(v any) error { return err(adapters.NewContext[int](v)) }},
		{"adapters.NewContext[error](X)", func(v any) error { return err(adapters.NewContext[error](v)) }},
		{"adapters.NewAwaitable[string](X)", func(v any) error { return err(adapters.NewAwaitable[string](v)) }},
		{"adapters.NewAwaitable[any](X)", func(v any) error { return err(adapters.NewAwaitable[any](v)) }},
		{"adapters.NewEvent[int](X)", func(v any) error { return err(adapters.NewEvent[int](v)) }},
		{"adapters.NewGroup(X)", func(v any) error { return err(adapters.NewGroup(v)) }},
		// Register's error names the registration and wraps the
		// *validate.AbstractError, whose words the analyzer reports.
		{"mixin.New().Register(\"name\", X, mixin.Require(mixin.KindLock, mixin.KindContext))", func(v any) error {
			_, err := mixin.New().Register("name", v, mixin.Require(mixin.KindLock, mixin.KindContext))
			var ae *validate.AbstractError
			if errors.As(err, &ae) {
				return ae
			}
			return err
		}},
		{"validate.Check(X, adapters.LockSpec(), adapters.EventSpec())", func(v any) error {
			return validate.Check(v, adapters.LockSpec(), adapters.EventSpec())
		}},
	}
	for _, k := range mixin.NewRegistry().Kinds() {
		forms = append(forms, callForm{
			fmt.Sprintf("mixin.Compose(X, mixin.Require(%q))", k),
			func(v any) error { return noted(v)(mixin.New().Compose(v, mixin.Require(k))) },
		})
	}
	return forms
}

// noted returns a Compose's error, or, when the value composed with notes
// (Composite.Notes), the analyzer's words for its last note: mixinvet says
// at the call what the composite holds.
func noted(v any) func(c *mixin.Composite, err error) error {
	return func(c *mixin.Composite, err error) error {
		if err != nil {
			return err
		}
		if n := c.Notes(); len(n) > 0 {
			return errors.New("mixin: " + reflect.TypeOf(v).String() + " composes, but " + n[len(n)-1])
		}
		return nil
	}
}

// TestDifferentialCallSites writes a call of every checked form for every
// corpus value into the corpus package (an overlay: nothing is written to
// disk), runs the analyzer over it, and makes each call at run time: the
// analyzer reports exactly the calls that fail, each with the error's text.
func TestDifferentialCallSites(t *testing.T) {
	values := corpus.Values()
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	forms := callForms()

	var src strings.Builder
	src.WriteString("package corpus\n\nimport (\n\t\"github.com/gomixin/mixin\"\n\t\"github.com/gomixin/mixin/adapters\"\n\t\"github.com/gomixin/mixin/validate\"\n)\n\nfunc calls() {\n")
	type site struct {
		name string
		form callForm
	}
	line := strings.Count(src.String(), "\n") + 1
	sites := map[int]site{}
	for _, n := range names {
		for _, f := range forms {
			src.WriteString("\t" + strings.Replace(f.src, "X", n, 1) + "\n")
			sites[line] = site{n, f}
			line++
		}
	}
	src.WriteString("}\n")

	dir, err := filepath.Abs(filepath.Join("internal", "corpus"))
	require.NoError(t, err)
	file := filepath.Join(dir, "zz_calls.go")
	pkgs, err := packages.Load(&packages.Config{
		Mode:    packages.LoadAllSyntax,
		Dir:     dir,
		Overlay: map[string][]byte{file: []byte(src.String())},
	}, ".")
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	require.Empty(t, pkgs[0].Errors)
	g, err := checker.Analyze([]*goanalysis.Analyzer{Analyzer}, pkgs, nil)
	require.NoError(t, err)

	got := map[int]string{}
	for _, act := range g.Roots {
		require.NoError(t, act.Err)
		for _, d := range act.Diagnostics {
			pos := act.Package.Fset.Position(d.Pos)
			require.Equal(t, file, pos.Filename, "a diagnostic outside the calls: %s", d.Message)
			got[pos.Line] = d.Message
		}
	}
	refused := 0
	for ln, s := range sites {
		want := text(s.form.run(values[s.name]))
		if want != "" {
			refused++
		}
		assertMirrorsf(t, want, got[ln], "%s", strings.Replace(s.form.src, "X", s.name, 1))
	}
	assert.Greater(t, refused, 100, "the corpus has refusals to compare")
}
