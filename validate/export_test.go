package validate

import (
	"reflect"

	"github.com/gomixin/mixin/internal/typecache"
)

// CheckSynthetic runs the matcher on a made-up type with the given methods,
// for fuzzing signatures that no compiled type has.
func CheckSynthetic(name string, methods map[string]reflect.Type, specs ...Spec) error {
	return checkInfo(syntheticInfo(name, methods), specs)
}

// Scans reports how many method-set scans have run.
func Scans() int64 { return typecache.Scans() }
