package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"plugin"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gomixin/mixin"
)

// bundledPkg is the import path under which the bundled plugin sources live.
const bundledPkg = "github.com/gomixin/mixin/examples/plugins/bundled/"

// bundled are the plugins built when no directory is given.
var bundled = []string{"memlock", "config", "health", "legacyq", "faulty", "oddsym"}

// extraBuildFlags are added to go build's flags for the plugins: a test sets
// the coverage flags its own binary was built with.
var extraBuildFlags []string

// buildBundled builds the bundled plugin sources into dir with
// go build -buildmode=plugin, with the flags the host was built with (a
// plugin must match its host: -race, coverage), and returns their paths.
func buildBundled(dir string) ([]string, error) {
	flags := []string{"build", "-buildmode=plugin"}
	if raceEnabled {
		flags = append(flags, "-race")
	}
	flags = append(flags, extraBuildFlags...)
	paths := make([]string, len(bundled))
	errs := make([]error, len(bundled))
	build := func(i int) {
		paths[i] = filepath.Join(dir, bundled[i]+".so")
		args := append(slices.Clone(flags), "-o", paths[i], bundledPkg+bundled[i])
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			errs[i] = fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The first is built alone: it compiles what they all share (the
	// standard library and this module, built for a plugin), which the
	// others then find in the build cache; built at the same time, each go
	// command would compile it all again (six times the work, cold).
	build(0)
	var wg sync.WaitGroup
	for i := 1; i < len(bundled); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			build(i)
		}()
	}
	wg.Wait()
	return paths, errors.Join(errs...)
}

// findPlugins lists the .so files of dir, in name order.
func findPlugins(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.so"))
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("no .so files in %s", dir)
	}
	slices.Sort(paths)
	return paths, err
}

// loaded is what the host found in one plugin file.
type loaded struct {
	Name  string
	Kinds []mixin.Kind
	Value any
}

// load opens a plugin and looks up its three symbols: Name (string), Kinds
// ([]string) and Plugin (a value of type any). What it returns is a value of
// a type the host was never compiled against.
func load(path string) (loaded, error) {
	p, err := plugin.Open(path)
	if err != nil {
		return loaded{}, err
	}
	var l loaded
	name, err := lookup[string](p, "Name")
	if err != nil {
		return l, err
	}
	kinds, err := lookup[[]string](p, "Kinds")
	if err != nil {
		return l, err
	}
	value, err := lookup[any](p, "Plugin")
	if err != nil {
		return l, err
	}
	l.Name, l.Value = *name, *value
	for _, k := range *kinds {
		l.Kinds = append(l.Kinds, mixin.Kind(k))
	}
	return l, nil
}

// lookup finds an exported variable of type V: plugin.Lookup gives a
// pointer to it.
func lookup[V any](p *plugin.Plugin, symbol string) (*V, error) {
	s, err := p.Lookup(symbol)
	if err != nil {
		return nil, err
	}
	v, ok := s.(*V)
	if !ok {
		return nil, fmt.Errorf("symbol %s is a %T, want a variable of type %v", symbol, s, reflect.TypeFor[V]())
	}
	return v, nil
}

// pluginDir returns the directory of plugins to load: dir when given, else a
// temporary one the bundled sources are built into (remove it when done).
func pluginDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "mixin-plugins-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	start := time.Now()
	fmt.Printf("building %d bundled plugins with go build -buildmode=plugin (race: %v) ...\n", len(bundled), raceEnabled)
	if _, err := buildBundled(tmp); err != nil {
		cleanup()
		return "", nil, err
	}
	fmt.Printf("built them in %v\n", time.Since(start).Round(10*time.Millisecond))
	return tmp, cleanup, nil
}
