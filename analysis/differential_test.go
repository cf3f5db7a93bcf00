package analysis

import (
	"fmt"
	"go/types"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/analysis/internal/corpus"
	"github.com/gomixin/mixin/validate"
)

// corpusTypes loads the corpus package from source and returns the static
// type of each of its variables.
func corpusTypes(t *testing.T) map[string]types.Type {
	t.Helper()
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedTypes | packages.NeedName}, "github.com/gomixin/mixin/analysis/internal/corpus")
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	require.Empty(t, pkgs[0].Errors)
	scope := pkgs[0].Types.Scope()
	out := map[string]types.Type{}
	for _, name := range scope.Names() {
		if v, ok := scope.Lookup(name).(*types.Var); ok {
			out[name] = v.Type()
		}
	}
	return out
}

func text(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// assertMirrorsf asserts that the analyzer's text is the run time's. For a
// pointer to an interface the run time goes on to name the type of what
// the pointer holds, which the static type does not say: there the
// analyzer's text is what the run time's begins with.
func assertMirrorsf(t *testing.T, runTime, analyzed string, format string, args ...any) {
	t.Helper()
	if strings.Contains(runTime, pointerToInterfaceWhy+": compose *p, ") {
		assert.Truef(t, analyzed != "" && strings.HasPrefix(runTime, analyzed), "%s\nrun time: %q\nanalyzer: %q", fmt.Sprintf(format, args...), runTime, analyzed)
		return
	}
	assert.Equalf(t, runTime, analyzed, format, args...)
}

func refusalText(r *refusal) string {
	if r == nil {
		return ""
	}
	return r.Error()
}

// TestDifferentialCorpus runs both checks over the corpus: the analyzer on
// the source's types, the library on the compiled values. They must refuse
// the same values with the same words, kind by kind, and for Compose with
// and without Require and Only.
func TestDifferentialCorpus(t *testing.T) {
	typesByName := corpusTypes(t)
	values := corpus.Values()
	require.Len(t, values, len(typesByName), "every corpus variable has its value in corpus.Values")
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	reg := mixin.NewRegistry()
	refused, noted := 0, 0
	for _, name := range names {
		v, st := values[name], typesByName[name]
		require.NotNil(t, st, name)
		for _, k := range reg.Kinds() {
			spec, _ := reg.Spec(k)
			want := text(validate.Check(v, spec))
			assertMirrorsf(t, want, refusalText(builtin.check(st, nil, spec)), "%s checked as %s", name, k)
			_, err := mixin.New().Compose(v, mixin.Require(k))
			assertMirrorsf(t, text(err), refusalText(builtin.compose(st, []mixin.Kind{k}, nil)), "%s composed with Require(%s)", name, k)
			_, err = mixin.New().Compose(v, mixin.Only(k))
			assertMirrorsf(t, text(err), refusalText(builtin.compose(st, nil, []mixin.Kind{k})), "%s composed with Only(%s)", name, k)
			if want != "" {
				refused++
			}
		}
		comp, err := mixin.Compose(v)
		r, notes := builtin.composeNotes(st, nil, nil)
		assertMirrorsf(t, text(err), refusalText(r), "%s composed", name)
		assert.Equalf(t, comp.Notes(), notes, "%s composed: its notes", name)
		if len(notes) > 0 {
			noted++
		}
		_, err = mixin.New().Compose(v, mixin.Require(mixin.KindLock, mixin.KindEvent))
		assertMirrorsf(t, text(err), refusalText(builtin.compose(st, []mixin.Kind{mixin.KindLock, mixin.KindEvent}, nil)), "%s composed with Require(lock, event)", name)

		// The typed constructors with T fixed to int and to error (an
		// interface type).
		intT, errT := types.Typ[types.Int], types.Universe.Lookup("error").Type()
		_, err = adapters.NewEvent[int](v)
		assertMirrorsf(t, text(err), refusalText(builtin.check(st, intT, builtin.specs[mixin.KindEvent])), "%s NewEvent[int]", name)
		_, err = adapters.NewAwaitable[error](v)
		assertMirrorsf(t, text(err), refusalText(builtin.check(st, errT, builtin.specs[mixin.KindAwaitable])), "%s NewAwaitable[error]", name)
		_, err = adapters.NewContext[int](v)
		assertMirrorsf(t, text(err), refusalText(builtin.construct(st, mixin.KindContext, intT)), "%s NewContext[int]", name)
		_, err = adapters.NewContext[error](v)
		assertMirrorsf(t, text(err), refusalText(builtin.construct(st, mixin.KindContext, errT)), "%s NewContext[error]", name)
		_, err = adapters.NewLock(v)
		assertMirrorsf(t, text(err), refusalText(builtin.check(st, nil, builtin.specs[mixin.KindLock])), "%s NewLock", name)
	}
	assert.Greater(t, refused, 50, "the corpus has refusals to compare")
	assert.Positive(t, noted, "the corpus has near misses that compose, whose notes to compare")
}
