package analysis

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"

	goanalysis "golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/validate"
)

// The import paths of the library's packages whose calls are checked.
const (
	rootPath     = "github.com/gomixin/mixin"
	adaptersPath = rootPath + "/adapters"
	validatePath = rootPath + "/validate"
)

// Analyzer reports, at vet time, the values that the library would refuse at
// run time: calls of mixin.Compose, (*mixin.Composer).Compose and Register
// (with the kinds of mixin.Require and mixin.Only), of the typed
// constructors in adapters (NewLock, NewOwnerLock, NewContext[T],
// NewExecContext[T], NewAwaitable[T], NewEvent[T], NewGroup), and of
// validate.Check and validate.Implements with the built-in specs
// (adapters.LockSpec() and the others), wherever the value's static type is
// concrete; and types whose declaration carries a //mixin:kind directive.
// Its messages are the run-time *validate.AbstractError's, word for word.
var Analyzer = &goanalysis.Analyzer{
	Name:     "mixinvet",
	Doc:      doc,
	URL:      "https://pkg.go.dev/github.com/gomixin/mixin/analysis",
	Requires: []*goanalysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

const doc = `report values that github.com/gomixin/mixin would refuse to compose

mixinvet runs the library's ABC check at vet time, with the library's own
specs: a value whose static type is concrete, given to mixin.Compose,
(*mixin.Composer).Compose or Register (with mixin.Require or mixin.Only), to
an adapters.NewX constructor, or to validate.Check or validate.Implements with
a built-in spec, is reported with the error the call would return at run
time: missing abstract methods, signatures that fit no shape, methods on the
pointer type only, near misses. A Compose without Require that would attach
no kind at all is reported too, and so is a value that composes by another
form of a kind while methods of the kind's main form look like a mistake
(the note Composite.Notes holds at run time).

A type declaration may say what its type is meant to compose as:

	//mixin:kind lock owner-lock
	type Mutex struct{ ... }

The type (or, when some of its methods have pointer receivers, the pointer
to it) is then checked as Compose(v, Require(kinds...)) would check it.

A refusal that is meant (a test of one, an example) is not reported when
its call's line, or the line above, carries //mixin:ignore.

Suggested fixes compose &v for methods on the pointer type, and add stubs
with the canonical signatures for missing methods.`

// directive is the comment that declares what a type composes as; ignore,
// on a call's line or the line above, says that the refusal there is meant
// (a test or an example of one).
const (
	directive = "//mixin:kind"
	ignore    = "//mixin:ignore"
)

// ignoredLines returns, per file, the lines that carry the ignore comment.
func ignoredLines(pass *goanalysis.Pass) map[string]map[int]bool {
	out := map[string]map[int]bool{}
	for _, f := range pass.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if rest, ok := strings.CutPrefix(c.Text, ignore); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
					pos := pass.Fset.Position(c.Pos())
					if out[pos.Filename] == nil {
						out[pos.Filename] = map[int]bool{}
					}
					out[pos.Filename][pos.Line] = true
				}
			}
		}
	}
	return out
}

// specFuncs maps the adapters functions that return a built-in spec to its
// kind, and ctors the typed constructors to the kind they check.
var (
	specFuncs = map[string]mixin.Kind{
		"ContextSpec": mixin.KindContext, "ExecContextSpec": mixin.KindExecContext,
		"AwaitableSpec": mixin.KindAwaitable, "EventSpec": mixin.KindEvent,
		"LockSpec": mixin.KindLock, "OwnerLockSpec": mixin.KindOwnerLock, "GroupSpec": mixin.KindGroup,
	}
	ctors = map[string]mixin.Kind{
		"NewContext": mixin.KindContext, "NewExecContext": mixin.KindExecContext,
		"NewAwaitable": mixin.KindAwaitable, "NewEvent": mixin.KindEvent,
		"NewLock": mixin.KindLock, "NewOwnerLock": mixin.KindOwnerLock, "NewGroup": mixin.KindGroup,
	}
)

func run(pass *goanalysis.Pass) (any, error) {
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	// A package that declares adapters or kinds of its own composes values
	// the built-in catalogue cannot judge: its Compose calls are left alone.
	adapts := false
	insp.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		if fn := callee(pass, n.(*ast.CallExpr)); fn != nil && isMethod(fn, rootPath, "Registry") &&
			(fn.Name() == "Adapt" || fn.Name() == "Define") {
			adapts = true
		}
	})
	ignored := ignoredLines(pass)
	insp.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		pos := pass.Fset.Position(call.Pos())
		if ignored[pos.Filename][pos.Line] || ignored[pos.Filename][pos.Line-1] {
			return
		}
		checkCall(pass, call, adapts)
	})
	insp.Preorder([]ast.Node{(*ast.GenDecl)(nil)}, func(n ast.Node) {
		checkDirectives(pass, n.(*ast.GenDecl))
	})
	return nil, nil
}

func callee(pass *goanalysis.Pass, call *ast.CallExpr) *types.Func {
	fn, _ := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
	if fn == nil || fn.Pkg() == nil {
		return nil
	}
	return fn
}

// isMethod reports whether fn is a method of the named type pkg.recv.
func isMethod(fn *types.Func, pkg, recv string) bool {
	sig := fn.Type().(*types.Signature)
	if sig.Recv() == nil || fn.Pkg().Path() != pkg {
		return false
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Name() == recv
}

func isFunc(fn *types.Func, pkg string) bool {
	return fn.Pkg().Path() == pkg && fn.Type().(*types.Signature).Recv() == nil
}

// checkCall reports what the library would refuse at a call.
func checkCall(pass *goanalysis.Pass, call *ast.CallExpr, adapts bool) {
	fn := callee(pass, call)
	if fn == nil || call.Ellipsis.IsValid() {
		return
	}
	arg := func(i int) ast.Expr {
		if i < len(call.Args) {
			return call.Args[i]
		}
		return nil
	}
	switch {
	case isFunc(fn, rootPath) && fn.Name() == "Compose":
		checkCompose(pass, arg(0), call.Args[1:], adapts)
	case isMethod(fn, rootPath, "Composer") && fn.Name() == "Compose":
		checkCompose(pass, arg(0), call.Args[1:], adapts)
	case isMethod(fn, rootPath, "Composer") && fn.Name() == "Register" && len(call.Args) >= 2:
		checkCompose(pass, arg(1), call.Args[2:], adapts)
	case isFunc(fn, adaptersPath) && ctors[fn.Name()] != "":
		v := arg(0)
		t := concrete(pass, v)
		if t == nil {
			return
		}
		var fixed types.Type
		if inst, ok := pass.TypesInfo.Instances[funcIdent(call.Fun)]; ok && inst.TypeArgs.Len() == 1 {
			fixed = inst.TypeArgs.At(0)
			if mentionsTypeParam(fixed) {
				return // T only known at instantiation
			}
			if isEmptyInterface(fixed) {
				fixed = nil // T = any leaves the placeholder free
			}
		}
		kind := ctors[fn.Name()]
		report(pass, v, t, func(t types.Type) *refusal { return builtin.construct(t, kind, fixed) }, true, fixed)
	case isFunc(fn, validatePath) && (fn.Name() == "Check" || fn.Name() == "Implements"):
		first := 0
		if fn.Name() == "Implements" {
			first = 1
		}
		if len(call.Args) < first+2 {
			return
		}
		var specs []validate.Spec
		for _, a := range call.Args[first+1:] {
			k, ok := specCall(pass, a)
			if !ok {
				return // a spec the analyzer cannot read: the run time will judge
			}
			specs = append(specs, builtin.specs[k])
		}
		v := arg(first)
		if t := concrete(pass, v); t != nil {
			report(pass, v, t, func(t types.Type) *refusal { return builtin.check(t, nil, specs...) }, true, nil)
		}
	}
}

// mentionsTypeParam reports whether t is or holds a type parameter: its
// method set, or T, is only known where the generic code is instantiated.
func mentionsTypeParam(t types.Type) bool {
	seen := map[types.Type]bool{}
	var walk func(t types.Type) bool
	walk = func(t types.Type) bool {
		t = types.Unalias(t)
		if seen[t] {
			return false
		}
		seen[t] = true
		switch t := t.(type) {
		case *types.TypeParam:
			return true
		case *types.Named:
			for i := 0; i < t.TypeArgs().Len(); i++ {
				if walk(t.TypeArgs().At(i)) {
					return true
				}
			}
			return false
		case *types.Pointer:
			return walk(t.Elem())
		case *types.Slice:
			return walk(t.Elem())
		case *types.Array:
			return walk(t.Elem())
		case *types.Chan:
			return walk(t.Elem())
		case *types.Map:
			return walk(t.Key()) || walk(t.Elem())
		case *types.Signature:
			for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
				for i := 0; i < tup.Len(); i++ {
					if walk(tup.At(i).Type()) {
						return true
					}
				}
			}
			return false
		case *types.Struct:
			for i := 0; i < t.NumFields(); i++ {
				if walk(t.Field(i).Type()) {
					return true
				}
			}
			return false
		case *types.Interface:
			for i := 0; i < t.NumMethods(); i++ {
				if walk(t.Method(i).Type()) {
					return true
				}
			}
		}
		return false
	}
	return walk(t)
}

// funcIdent returns the identifier naming the called function.
func funcIdent(e ast.Expr) *ast.Ident {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.SelectorExpr:
			return x.Sel
		case *ast.Ident:
			return x
		default:
			return nil
		}
	}
}

// specCall returns the kind of a call of a built-in spec function
// (adapters.LockSpec()).
func specCall(pass *goanalysis.Pass, e ast.Expr) (mixin.Kind, bool) {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) > 0 {
		return "", false
	}
	fn := callee(pass, call)
	if fn == nil || !isFunc(fn, adaptersPath) {
		return "", false
	}
	k, ok := specFuncs[fn.Name()]
	return k, ok
}

// concrete returns the static type of a value argument when it is concrete:
// not an interface, a type parameter or nil.
func concrete(pass *goanalysis.Pass, e ast.Expr) types.Type {
	if e == nil {
		return nil
	}
	tv, ok := pass.TypesInfo.Types[e]
	if !ok || tv.IsNil() || tv.Type == nil || types.IsInterface(tv.Type) || mentionsTypeParam(tv.Type) {
		return nil
	}
	if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
		return nil
	}
	return tv.Type
}

// checkCompose checks a Compose or Register call's value with its options.
func checkCompose(pass *goanalysis.Pass, v ast.Expr, opts []ast.Expr, adapts bool) {
	t := concrete(pass, v)
	if t == nil || adapts {
		return
	}
	var require, only []mixin.Kind
	for _, o := range opts {
		call, ok := ast.Unparen(o).(*ast.CallExpr)
		if !ok || call.Ellipsis.IsValid() {
			return
		}
		fn := callee(pass, call)
		if fn == nil || !isFunc(fn, rootPath) || (fn.Name() != "Require" && fn.Name() != "Only") {
			return // an option the analyzer cannot read
		}
		for _, a := range call.Args {
			tv := pass.TypesInfo.Types[a]
			if tv.Value == nil || tv.Value.Kind() != constant.String {
				return
			}
			k := mixin.Kind(constant.StringVal(tv.Value))
			if !builtin.known(k) {
				return // the Composer may have defined it
			}
			if fn.Name() == "Require" {
				require = append(require, k)
			} else {
				only = append(only, k)
			}
		}
	}
	// Without Require the value was meant to be of no kind in particular:
	// stubs of a kind it came near would be a guess.
	report(pass, v, t, func(t types.Type) *refusal { return builtin.compose(t, require, only) }, len(require) > 0, nil)
	// A value that composes by another form of a kind while it has methods
	// of the kind's main form that look like a mistake (an Acquire() int, a
	// Relase beside Lock and Unlock) composes silently at run time, where
	// only Composite.Notes says so: say it where its author sees it.
	if _, notes := builtin.composeNotes(t, require, only); len(notes) > 0 {
		for _, n := range notes {
			pass.Report(goanalysis.Diagnostic{Pos: v.Pos(), End: v.End(),
				Message: "mixin: " + rstring(t) + " composes, but " + n})
		}
	}
}

// report reports the refusal check finds for v of type t, with its fixes:
// &v when the pointer passes, else (when stubs is true) stubs for the
// missing methods, T written as fixed when the other methods bind none.
func report(pass *goanalysis.Pass, v ast.Expr, t types.Type, check func(types.Type) *refusal, stubs bool, fixed types.Type) {
	r := check(t)
	if r == nil {
		return
	}
	d := goanalysis.Diagnostic{Pos: v.Pos(), End: v.End(), Message: r.Error()}
	if fix, ok := addrFix(pass, v, t, r, check); ok {
		d.SuggestedFixes = append(d.SuggestedFixes, fix)
	} else if fix, ok := stubFix(pass, t, r, fixed); ok && stubs {
		d.SuggestedFixes = append(d.SuggestedFixes, fix)
	}
	pass.Report(d)
}

// addrFix composes &v when some problem is a method on the pointer type and
// the pointer passes.
func addrFix(pass *goanalysis.Pass, v ast.Expr, t types.Type, r *refusal, check func(types.Type) *refusal) (goanalysis.SuggestedFix, bool) {
	if !r.hasPointerReceiver() || !addressable(pass, v) || check(types.NewPointer(t)) != nil {
		return goanalysis.SuggestedFix{}, false
	}
	return goanalysis.SuggestedFix{
		Message:   "compose &v, a *" + rstring(t),
		TextEdits: []goanalysis.TextEdit{{Pos: v.Pos(), End: v.Pos(), NewText: []byte("&")}},
	}, true
}

// addressable reports whether &e is valid Go: a variable, a field or
// element of one, or a composite literal.
func addressable(pass *goanalysis.Pass, e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.CompositeLit:
		return true
	case *ast.Ident:
		_, ok := pass.TypesInfo.Uses[x].(*types.Var)
		return ok
	case *ast.SelectorExpr:
		sel := pass.TypesInfo.Selections[x]
		return sel != nil && sel.Kind() == types.FieldVal && addressable(pass, x.X)
	case *ast.IndexExpr:
		switch pass.TypesInfo.TypeOf(x.X).Underlying().(type) {
		case *types.Slice:
			return true
		case *types.Pointer: // a pointer to an array
			return true
		case *types.Array:
			return addressable(pass, x.X)
		default: // a map's element, a string's byte, a generic func
			return false
		}
	case *ast.StarExpr:
		return true
	}
	return false
}

// checkDirectives checks the //mixin:kind directives of a type declaration.
func checkDirectives(pass *goanalysis.Pass, gd *ast.GenDecl) {
	if gd.Tok != token.TYPE {
		return
	}
	for _, s := range gd.Specs {
		ts := s.(*ast.TypeSpec)
		docs := []*ast.CommentGroup{ts.Doc}
		if len(gd.Specs) == 1 && gd.Doc != ts.Doc {
			docs = append(docs, gd.Doc)
		}
		for _, cg := range docs {
			if cg == nil {
				continue
			}
			for _, c := range cg.List {
				if rest, ok := strings.CutPrefix(c.Text, directive); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
					rest, _, _ = strings.Cut(rest, "//") // a trailing comment
					checkDirective(pass, ts, c, strings.Fields(rest))
				}
			}
		}
	}
}

func checkDirective(pass *goanalysis.Pass, ts *ast.TypeSpec, c *ast.Comment, fields []string) {
	if len(fields) == 0 {
		pass.Reportf(c.Pos(), "mixin: %s names no kind (known: %s)", directive, knownKinds())
		return
	}
	var kinds []mixin.Kind
	for _, f := range fields {
		k := mixin.Kind(f)
		if !builtin.known(k) {
			pass.Reportf(c.Pos(), "mixin: unknown kind %q in %s (known: %s)", f, directive, knownKinds())
			return
		}
		kinds = append(kinds, k)
	}
	obj := pass.TypesInfo.Defs[ts.Name]
	if obj == nil || ts.TypeParams != nil || types.IsInterface(obj.Type()) {
		return // a generic or interface type is checked where it is instantiated
	}
	t := obj.Type()
	check := func(t types.Type) *refusal { return builtin.compose(t, kinds, nil) }
	if check(t) == nil {
		return
	}
	if _, isPtr := t.Underlying().(*types.Pointer); !isPtr && len(scan(t).ptrOnly) > 0 {
		t = types.NewPointer(t) // the methods are on *T: a plugin hands out &T{}
	}
	r := check(t)
	if r == nil {
		return
	}
	d := goanalysis.Diagnostic{Pos: ts.Name.Pos(), End: ts.Name.End(), Message: r.Error()}
	if fix, ok := stubFix(pass, t, r, nil); ok {
		d.SuggestedFixes = append(d.SuggestedFixes, fix)
	}
	pass.Report(d)
}

func knownKinds() string {
	names := make([]string, len(builtin.kinds))
	for i, k := range builtin.kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
