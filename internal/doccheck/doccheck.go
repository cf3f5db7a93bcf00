// Package doccheck type-checks the Go snippets of a module's README and of
// its package doc, so that a snippet a user copies compiles: each ```go
// block of the README (and each tab-indented block of the package doc that
// reads as Go) becomes the body of a function after the module's preamble
// (the names snippets may use without declaring them: ctx, addr, ...), its
// import block kept as the file's, and is checked with go/types against the
// module's dependencies (their export data, as the go command builds it). A variable a snippet declares and does
// not use is allowed; every other error fails the test, naming the block.
package doccheck

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Snippet is one code block and where it came from.
type Snippet struct {
	Where string // "README.md block 2", "lock.go package doc"
	Code  string
}

var fence = regexp.MustCompile("(?s)```go\n(.*?)```")

// README returns the ```go blocks of the Markdown file at path.
func README(path string) ([]Snippet, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Snippet
	for i, m := range fence.FindAllStringSubmatch(string(src), -1) {
		out = append(out, Snippet{Where: fmt.Sprintf("%s block %d", filepath.Base(path), i+1), Code: m[1]})
	}
	return out, nil
}

// PackageDoc returns the tab-indented code blocks of the package doc of the
// Go package in dir.
func PackageDoc(dir string) ([]Snippet, error) {
	fset := token.NewFileSet()
	names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var out []Snippet
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			return nil, err
		}
		if f.Doc == nil {
			continue
		}
		// Indented chunks (split at blank lines) that read as Go, and
		// those right after them, make one block; a table or a command
		// between them ends it.
		var block, chunk []string
		goish := false
		flush := func() {
			if len(block) > 0 {
				out = append(out, Snippet{Where: filepath.Base(name) + " package doc", Code: strings.Join(block, "\n")})
			}
			block, goish = nil, false
		}
		endChunk := func() {
			if len(chunk) == 0 {
				return
			}
			code := strings.Join(chunk, "\n")
			switch {
			case readsAsGo(code) || goish && !readsAsTable(code):
				block = append(block, chunk...)
				goish = true
			default:
				flush()
			}
			chunk = nil
		}
		for _, line := range strings.Split(f.Doc.Text(), "\n") {
			switch {
			case strings.HasPrefix(line, "\t"):
				chunk = append(chunk, strings.TrimPrefix(line, "\t"))
			case line == "":
				endChunk()
			default:
				endChunk()
				flush()
			}
		}
		endChunk()
		flush()
	}
	return out, nil
}

// Preamble is what snippets may use without declaring it: declarations
// (ctx, addr, a Config type, ...) and the imports those need.
type Preamble struct {
	Imports []string // import specs: `"context"`, `goredis "github.com/redis/go-redis/v9"`
	Decls   string
}

// readsAsGo tells a code block from a table or a command: Go declares,
// assigns or imports.
func readsAsGo(code string) bool {
	for _, mark := range []string{":=", "func ", "import ", "type ", "err = "} {
		if strings.Contains(code, mark) {
			return true
		}
	}
	return false
}

// readsAsTable tells a table (columns aligned with runs of spaces, or an
// arrow) from code.
func readsAsTable(code string) bool {
	return strings.Contains(code, "->") || strings.Contains(code, "   ")
}

// Check type-checks each snippet after the preamble.
func Check(t testing.TB, pre Preamble, snippets []Snippet) {
	t.Helper()
	fset := token.NewFileSet()
	// Export data from the build cache (go list -export): the module's
	// packages are built for its tests already.
	exports, err := exportFiles(pre, snippets)
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %q (go list -export -deps found none)", path)
		}
		return os.Open(f)
	})
	for _, s := range snippets {
		imports, body := splitImports(s.Code)
		specs := map[string]bool{}
		var all []string
		for _, spec := range append(strings.Split(imports, "\n"), pre.Imports...) {
			spec = strings.TrimSpace(spec)
			if spec != "" && !specs[spec] {
				specs[spec] = true
				all = append(all, spec)
			}
		}
		head := "package snippet\n\nimport (\n" + strings.Join(all, "\n") + "\n)\n\n" + pre.Decls + "\n\n"
		// Declarations (a func, a type) stand at the file's level;
		// statements become a function's body.
		f, err := parser.ParseFile(fset, s.Where, head+body, 0)
		if err != nil {
			f, err = parser.ParseFile(fset, s.Where, head+"func _() error {\n"+body+"\nreturn nil\n}\n", 0)
		}
		if err != nil {
			t.Errorf("%s does not parse as Go: %v\n%s", s.Where, err, s.Code)
			continue
		}
		var errs []string
		conf := types.Config{Importer: imp, Error: func(err error) {
			if te, ok := err.(types.Error); ok && (strings.Contains(te.Msg, "declared and not used") || strings.Contains(te.Msg, "imported and not used")) {
				return
			}
			errs = append(errs, err.Error())
		}}
		_, _ = conf.Check("snippet", fset, []*ast.File{f}, nil)
		if len(errs) > 0 {
			t.Errorf("%s does not compile:\n  %s\n%s", s.Where, strings.Join(errs, "\n  "), s.Code)
		}
	}
}

// exportFiles lists the export data file of every package the snippets and
// the preamble import, and of their dependencies, building them as needed.
func exportFiles(pre Preamble, snippets []Snippet) (map[string]string, error) {
	paths := map[string]bool{}
	add := func(spec string) {
		if i := strings.Index(spec, `"`); i >= 0 {
			paths[strings.Trim(spec[i:], `"`)] = true
		}
	}
	for _, spec := range pre.Imports {
		add(spec)
	}
	for _, s := range snippets {
		imports, _ := splitImports(s.Code)
		for _, spec := range strings.Split(imports, "\n") {
			add(strings.TrimSpace(spec))
		}
	}
	args := []string{"list", "-e", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}
	if raceBuild {
		args = append(args, "-race")
	}
	for p := range paths {
		args = append(args, p)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if path, file, ok := strings.Cut(line, "\t"); ok {
			files[path] = file
		}
	}
	return files, nil
}

// splitImports takes a snippet's leading import declarations out of it.
func splitImports(code string) (imports, body string) {
	rest := strings.TrimLeft(code, "\n")
	var imps []string
	for strings.HasPrefix(rest, "import ") {
		decl := strings.TrimPrefix(rest, "import ")
		if strings.HasPrefix(decl, "(") {
			end := strings.Index(decl, ")")
			imps = append(imps, decl[1:end])
			rest = decl[end+1:]
		} else {
			line, after, _ := strings.Cut(decl, "\n")
			imps = append(imps, line)
			rest = after
		}
		rest = strings.TrimLeft(rest, "\n")
	}
	return strings.Join(imps, "\n"), rest
}
