// Package fixes has the refusals whose suggested fixes are tested.
package fixes

import (
	"context"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
)

// Store is a lock whose methods are on *Store.
type Store struct{}

func (*Store) Acquire(context.Context) (bool, error) { return true, nil }
func (*Store) Release(context.Context) error         { return nil }
func (*Store) Locked() bool                          { return false }

// Half has Acquire only.
type Half struct{}

func (h *Half) Acquire(context.Context) (bool, error) { return true, nil }

// Ints has an event's Get and Clear.
type Ints struct{}

func (Ints) Get() (int, error) { return 0, nil }
func (Ints) Clear()            {}

func use(a [1]Store, sl []Store) {
	mixin.Compose(a[0], mixin.Require(mixin.KindLock))  // want `^mixin: can't compose fixes\.Store as lock: methods Acquire, Release, Locked have pointer receivers \(compose &v, a \*fixes\.Store\)$`
	mixin.Compose(sl[0], mixin.Require(mixin.KindLock)) // want `^mixin: can't compose fixes\.Store as lock: methods Acquire, Release, Locked have pointer receivers \(compose &v, a \*fixes\.Store\)$`
	var s Store
	mixin.Compose(s, mixin.Require(mixin.KindLock)) // want `^mixin: can't compose fixes\.Store as lock: methods Acquire, Release, Locked have pointer receivers \(compose &v, a \*fixes\.Store\)$`
	mixin.Compose(Store{})                          // want `^mixin: can't compose fixes\.Store as lock: methods Acquire, Release, Locked have pointer receivers \(compose &v, a \*fixes\.Store\); as owner-lock: missing abstract methods IsOwner, ReleaseUnchecked; methods Acquire, Locked have pointer receivers \(compose &v, a \*fixes\.Store\)$`
	adapters.NewLock(&Half{})                       // want `^mixin: can't compose \*fixes\.Half as lock: missing abstract methods Release, Locked$`
	adapters.NewEvent[int](Ints{})                  // want `^mixin: can't compose fixes\.Ints as event: missing abstract methods IsSet, Set, WaitForNext$`
}
