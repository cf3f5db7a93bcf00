package analysis

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	goanalysis "golang.org/x/tools/go/analysis"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/validate"
)

// stubFix adds, after the declaration of t's named type, a stub with the
// canonical signature (the spec's first shape) for each missing method, as
// gopls's stub-methods fix does: T as the type's other methods bind it, else
// as fixed (a constructor's type argument), else any. It offers none when
// the type is declared in another package or nothing is missing.
func stubFix(pass *goanalysis.Pass, t types.Type, r *refusal, fixed types.Type) (goanalysis.SuggestedFix, bool) {
	ptr := false
	base := t
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		ptr, base = true, p.Elem()
	}
	named, ok := types.Unalias(base).(*types.Named)
	if !ok || named.Obj().Pkg() != pass.Pkg || named.TypeArgs().Len() > 0 {
		return goanalysis.SuggestedFix{}, false
	}
	obj := named.Obj()
	file, decl := declOf(pass, obj)
	if decl == nil {
		return goanalysis.SuggestedFix{}, false
	}
	imp := &importer{pass: pass, file: file}
	info := scan(t)
	var stubs strings.Builder
	var names []string
	seen := map[string]bool{}
	for _, p := range r.problems {
		if p.reason != validate.ReasonMissing || seen[p.method] {
			continue
		}
		spec, ok := builtin.specs[mixin.Kind(p.kind)]
		if !ok {
			continue
		}
		form, meth, ok := lookupMethod(&spec, p.form, p.method)
		if !ok {
			continue
		}
		seen[p.method] = true
		names = append(names, p.method)
		m, _, _ := bindForm(info, &spec, form, nil)
		bound := "any"
		if m.bound != nil {
			bound = types.TypeString(m.bound, imp.qualify)
		} else if fixed != nil {
			bound = types.TypeString(fixed, imp.qualify)
		}
		star := ""
		if ptr {
			star = "*"
		}
		fmt.Fprintf(&stubs, "\nfunc (%s %s%s) %s%s {\n\tpanic(\"unimplemented\")\n}\n",
			receiverName(pass, obj), star, obj.Name(), p.method, srcSignature(meth.Shapes[0], imp, bound))
	}
	if len(names) == 0 {
		return goanalysis.SuggestedFix{}, false
	}
	// After the line that ends the declaration, so that a comment there
	// stays with it.
	at, text := decl.End(), "\n"+stubs.String()
	if tf := pass.Fset.File(at); tf != nil {
		if line := tf.Line(at); line < tf.LineCount() {
			at, text = tf.LineStart(line+1), stubs.String()
		} else {
			at = token.Pos(tf.Base() + tf.Size()) // the end of the file
		}
	}
	edits := []goanalysis.TextEdit{{Pos: at, End: at, NewText: []byte(text)}}
	edits = append(edits, imp.edits()...)
	return goanalysis.SuggestedFix{
		Message:   "add stubs for " + strings.Join(names, ", "),
		TextEdits: edits,
	}, true
}

// lookupMethod finds a spec method by the form and name a problem gives.
func lookupMethod(spec *validate.Spec, formName, name string) (*validate.Spec, validate.Method, bool) {
	for _, f := range forms(spec) {
		if f.Name != formName {
			continue
		}
		for _, m := range f.Methods {
			if m.Name == name {
				return &f, m, true
			}
		}
	}
	return nil, validate.Method{}, false
}

// declOf returns the file and the declaration of a package-level type.
func declOf(pass *goanalysis.Pass, obj types.Object) (*ast.File, *ast.GenDecl) {
	for _, f := range pass.Files {
		if f.Pos() > obj.Pos() || obj.Pos() > f.End() {
			continue
		}
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE && gd.Pos() <= obj.Pos() && obj.Pos() <= gd.End() {
				return f, gd
			}
		}
	}
	return nil, nil
}

// receiverName is the name the type's methods already use for their
// receiver, or the type name's first letter.
func receiverName(pass *goanalysis.Pass, obj types.Object) string {
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) == 0 || len(fd.Recv.List[0].Names) == 0 {
				continue
			}
			rt := fd.Recv.List[0].Type
			if s, ok := rt.(*ast.StarExpr); ok {
				rt = s.X
			}
			if id, ok := rt.(*ast.Ident); ok && pass.TypesInfo.Uses[id] == obj {
				if n := fd.Recv.List[0].Names[0].Name; n != "_" {
					return n
				}
			}
		}
	}
	return string(unicode.ToLower([]rune(obj.Name())[0]))
}

// srcSignature writes a shape as the parameters and results of a method
// declaration, T written as bound.
func srcSignature(f reflect.Type, imp *importer, bound string) string {
	var b strings.Builder
	b.WriteString("(")
	for i := 0; i < f.NumIn(); i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		in := f.In(i)
		name := "v"
		switch {
		case in == reflect.TypeFor[error]():
			name = "err"
		case in.String() == "context.Context":
			name = "ctx"
		case f.NumIn() > 1 && in != placeholder:
			name = "arg" + strconv.Itoa(i)
		}
		b.WriteString(name + " " + srcType(in, imp, bound))
	}
	b.WriteString(")")
	switch n := f.NumOut(); {
	case n == 1:
		b.WriteString(" " + srcType(f.Out(0), imp, bound))
	case n > 1:
		b.WriteString(" (")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(srcType(f.Out(i), imp, bound))
		}
		b.WriteString(")")
	}
	return b.String()
}

// srcType writes a shape's type as Go source in the stub's file.
func srcType(r reflect.Type, imp *importer, bound string) string {
	switch {
	case r == placeholder:
		return bound
	case r == reflect.TypeFor[any]():
		return "any"
	case r.Name() != "" && r.PkgPath() == "":
		return r.Name()
	case r.Name() != "":
		pkgName, _, _ := strings.Cut(r.String(), ".")
		return imp.name(r.PkgPath(), pkgName) + "." + r.Name()
	}
	switch r.Kind() {
	case reflect.Pointer:
		return "*" + srcType(r.Elem(), imp, bound)
	case reflect.Slice:
		return "[]" + srcType(r.Elem(), imp, bound)
	case reflect.Chan:
		switch r.ChanDir() {
		case reflect.RecvDir:
			return "<-chan " + srcType(r.Elem(), imp, bound)
		case reflect.SendDir:
			return "chan<- " + srcType(r.Elem(), imp, bound)
		}
		return "chan " + srcType(r.Elem(), imp, bound)
	case reflect.Struct:
		if r.NumField() == 0 {
			return "struct{}"
		}
	case reflect.Func:
		return "func" + srcSignature(r, imp, bound)
	}
	return r.String()
}

// importer names packages in one file, adding the imports a stub needs.
type importer struct {
	pass  *goanalysis.Pass
	file  *ast.File
	added []string
}

// name returns the name by which the file refers to the package at path,
// importing it when the file does not.
func (im *importer) name(path, pkgName string) string {
	if path == im.pass.Pkg.Path() {
		return ""
	}
	for _, spec := range im.file.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		if p != path {
			continue
		}
		if spec.Name != nil {
			return spec.Name.Name
		}
		for _, ip := range im.pass.Pkg.Imports() {
			if ip.Path() == path {
				return ip.Name()
			}
		}
		return pkgName
	}
	for _, a := range im.added {
		if a == path {
			return pkgName
		}
	}
	im.added = append(im.added, path)
	return pkgName
}

// qualify is a types.Qualifier for the file.
func (im *importer) qualify(p *types.Package) string {
	return im.name(p.Path(), p.Name())
}

// edits returns the edits that add the imports the stubs need.
func (im *importer) edits() []goanalysis.TextEdit {
	if len(im.added) == 0 {
		return nil
	}
	var lines []string
	for _, p := range im.added {
		lines = append(lines, strconv.Quote(p))
	}
	for _, d := range im.file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		if gd.Lparen.IsValid() {
			return []goanalysis.TextEdit{{Pos: gd.Lparen + 1, End: gd.Lparen + 1,
				NewText: []byte("\n\t" + strings.Join(lines, "\n\t"))}}
		}
		// import "x": made a block holding it and the new ones.
		spec := gd.Specs[0].(*ast.ImportSpec)
		old := spec.Path.Value
		if spec.Name != nil {
			old = spec.Name.Name + " " + old
		}
		return []goanalysis.TextEdit{{Pos: gd.Pos(), End: gd.End(),
			NewText: []byte("import (\n\t" + old + "\n\t" + strings.Join(lines, "\n\t") + "\n)")}}
	}
	return []goanalysis.TextEdit{{Pos: im.file.Name.End(), End: im.file.Name.End(),
		NewText: []byte("\n\nimport (\n\t" + strings.Join(lines, "\n\t") + "\n)")}}
}
