// Command mixinvet reports values that github.com/gomixin/mixin would refuse
// to compose, at vet time. Run it alone or as a vet tool:
//
//	mixinvet ./...
//	go vet -vettool=$(which mixinvet) ./...
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/gomixin/mixin/analysis"
)

func main() { singlechecker.Main(analysis.Analyzer) }
