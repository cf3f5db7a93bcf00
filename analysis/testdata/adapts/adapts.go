// Package adapts declares an adapter: its Compose calls are the
// Registry's to judge, and nothing is reported on them.
package adapts

import (
	"reflect"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
)

// Queue is a foreign type with no method of any kind.
type Queue struct{}

func host() {
	_ = mixin.Default().Registry().Adapt(reflect.TypeFor[*Queue](), mixin.KindContext, func(v any) (any, error) {
		return nil, nil
	})
	mixin.Compose(&Queue{}, mixin.Require(mixin.KindContext))
	mixin.Compose(&Queue{})
	// The typed constructors know no adapters: still checked.
	adapters.NewLock(&Queue{}) // want `^mixin: can't compose \*adapts\.Queue as lock: missing abstract methods Acquire, Release, Locked, or instead Lock and Unlock \(sync\.Locker, a ctx locker, an error locker\) or LockContext and UnlockContext \(a ctx locker \(LockContext\)\)$`
}
