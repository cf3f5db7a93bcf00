// Command cmd writes adapters/faultmatrix_gen_test.go from the kinds' specs:
// go generate ./adapters runs it.
package main

import (
	"fmt"
	"os"

	"github.com/gomixin/mixin/adapters/internal/faultgen"
)

func main() {
	src, err := faultgen.Source("adapters_test")
	if err == nil {
		err = os.WriteFile("faultmatrix_gen_test.go", src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultgen:", err)
		os.Exit(1)
	}
}
