// Package calls has one call of each checked form.
package calls

import (
	"context"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/validate"
)

// Cache is the design's near lock.
type Cache struct{}

func (*Cache) Acquire() int { return 0 }
func (*Cache) Relase()      {}

// Lock is a lock in the canonical shapes.
type Lock struct{}

func (*Lock) Acquire(context.Context) (bool, error) { return true, nil }
func (*Lock) Release(context.Context) error         { return nil }
func (*Lock) Locked() bool                          { return false }

// NearLocker composes as a sync.Locker, though its Acquire and its Relase
// look meant for the lock kind's main form.
type NearLocker struct{ mu sync.Mutex }

func (n *NearLocker) Lock()       { n.mu.Lock() }
func (n *NearLocker) Unlock()     { n.mu.Unlock() }
func (*NearLocker) Acquire() int  { return 0 }
func (*NearLocker) Relase() error { return nil }

// Plain has no method of any kind.
type Plain struct{ N int }

// Event is an event of ints, with Set missing.
type Event struct{}

func (*Event) Clear()                                   {}
func (*Event) Get() (int, error)                        { return 0, nil }
func (*Event) IsSet() bool                              { return false }
func (*Event) WaitForNext(context.Context) (int, error) { return 0, nil }

// Setup has a group's Setup in a shape no group accepts.
type Setup struct{}

func (Setup) Setup() int { return 0 }

func composes(t *testing.T, c *mixin.Composer, r io.Reader, opts []mixin.ComposeOption) {
	var mu sync.Mutex
	// Values that compose: nothing to say.
	mixin.Compose(&mu)
	mixin.Compose(&Lock{}, mixin.Require(mixin.KindLock))
	mixin.Compose(adapters.NewOwnerMutex(), mixin.Require(mixin.KindLock), mixin.Only(mixin.KindLock))
	mixin.Compose(&os.File{})
	adapters.NewLock(&mu)
	adapters.NewGroup(nil)
	adapters.NewAwaitable[error](&exec.Cmd{})
	validate.Check(&Lock{}, adapters.LockSpec())

	// Values that compose by another form, with methods of the main form
	// that look like a mistake: composed, with a note.
	mixin.Compose(&NearLocker{}) // want `^mixin: \*calls\.NearLocker composes, but lock: composed by its sync\.Locker methods; its methods of the lock kind's main form look like a mistake: missing abstract methods Release \(Relase: did you mean Release\?\), Locked \(Lock: did you mean Locked\?\); Acquire has signature func\(\) int, want .*$`

	// What the analyzer cannot know: an interface value, options it cannot read.
	mixin.Compose(r)
	mixin.Compose(Plain{}, opts...)
	mixin.Compose(Plain{}, mixin.Require("user-kind"))

	// What Compose would refuse.
	mixin.Compose(mu)                                                              // want `^mixin: can't compose sync\.Mutex as lock \(as sync\.Locker\): methods Lock, Unlock, TryLock have pointer receivers \(compose &v, a \*sync\.Mutex\)$`
	mixin.Compose(&Cache{}, mixin.Require(mixin.KindLock))                         // want `^mixin: can't compose \*calls\.Cache as lock: missing abstract methods Release \(Relase: did you mean Release\?\), Locked; Acquire has signature func\(\) int, want func\(context\.Context\) \(bool, error\) or one of func\(context\.Context\) error \| func\(\) bool \| func\(\)$`
	mixin.Compose(Plain{})                                                         // want `^mixin: can't compose calls\.Plain as any kind: has none of the methods of the kinds \[context exec-context event awaitable owner-lock lock group\]$`
	mixin.Compose(sync.NewCond(&mu))                                               // want `^mixin: can't compose \*sync\.Cond as awaitable: \*sync\.Cond's Wait must be called with its L held and in a loop that checks the condition, which a proxy cannot do; an event \(adapters\.NewValueEvent\) does this job; as event: missing abstract methods Clear, Get, IsSet, Set, WaitForNext; Wait has signature func\(\), want func\(context\.Context\) \(T, error\)$`
	mixin.Compose(&exec.Cmd{}, mixin.Require(mixin.KindLock, mixin.KindAwaitable)) // want `^mixin: can't compose \*exec\.Cmd as lock: missing abstract methods Acquire, Release, Locked, or instead Lock and Unlock \(sync\.Locker, a ctx locker, an error locker\) or LockContext and UnlockContext \(a ctx locker \(LockContext\)\)$`
	mixin.Compose(&Event{}, mixin.Only(mixin.KindEvent))                           // want `^mixin: can't compose \*calls\.Event as event: missing abstract method Set$`
	c.Compose(&Cache{}, mixin.Require(mixin.KindOwnerLock))                        // want `^mixin: can't compose \*calls\.Cache as owner-lock: missing abstract methods Locked, IsOwner, ReleaseUnchecked; Acquire has signature func\(\) int, want func\(context\.Context\) \(bool, error\) or one of func\(context\.Context\) error \| func\(\) bool \| func\(\)$`
	c.Register("cache", &Cache{}, mixin.Require(mixin.KindLock))                   // want `^mixin: can't compose \*calls\.Cache as lock: missing abstract methods Release \(Relase: did you mean Release\?\), Locked; Acquire has signature func\(\) int, want func\(context\.Context\) \(bool, error\) or one of func\(context\.Context\) error \| func\(\) bool \| func\(\)$`

	// A map's element cannot be addressed: no &v fix (see the fixes package).
	stores := map[string]sync.Mutex{}
	validate.Check(stores["a"], adapters.LockSpec()) // want `^mixin: can't compose sync\.Mutex as lock \(as sync\.Locker\): methods Lock, Unlock, TryLock have pointer receivers \(compose &v, a \*sync\.Mutex\)$`

	// The typed constructors.
	adapters.NewLock(&Cache{})            // want `^mixin: can't compose \*calls\.Cache as lock: missing abstract methods Release \(Relase: did you mean Release\?\), Locked; Acquire has signature func\(\) int, want func\(context\.Context\) \(bool, error\) or one of func\(context\.Context\) error \| func\(\) bool \| func\(\)$`
	adapters.NewOwnerLock(&Lock{})        // want `^mixin: can't compose \*calls\.Lock as owner-lock: missing abstract methods IsOwner, ReleaseUnchecked \(but does have method Release\)$`
	adapters.NewContext[int](&os.File{})  // want `^mixin: can't compose \*os\.File as context: has no Enter, so Enter would yield the value itself, which is not a int$`
	adapters.NewExecContext[int](&Lock{}) // want `^mixin: can't compose \*calls\.Lock as exec-context: missing abstract method Exit \(but does have method Release\), or instead Shutdown \(a graceful server\), GracefulStop and Stop \(a graceful stopper\), Close \(io\.Closer\) or Stop \(a stopper\)$`
	adapters.NewAwaitable[int](&sync.WaitGroup{})
	adapters.NewEvent[string](&Event{}) // want `^mixin: can't compose \*calls\.Event as event: missing abstract method Set; Get has signature func\(\) \(int, error\), want func\(\) \(string, error\) or func\(\) \(string, bool\); WaitForNext has signature func\(context\.Context\) \(int, error\), want func\(context\.Context\) \(string, error\)$`
	adapters.NewGroup(Setup{})          // want `^mixin: can't compose calls\.Setup as group: Setup has signature func\(\) int, want func\(context\.Context\) error or one of func\(\) error \| func\(\)$`

	// validate with the built-in specs.
	validate.Check(mu, adapters.LockSpec())                                         // want `^mixin: can't compose sync\.Mutex as lock \(as sync\.Locker\): methods Lock, Unlock, TryLock have pointer receivers \(compose &v, a \*sync\.Mutex\)$`
	validate.Implements(t, &Cache{}, adapters.LockSpec(), adapters.AwaitableSpec()) // want `^mixin: can't compose \*calls\.Cache as lock: missing abstract methods Release \(Relase: did you mean Release\?\), Locked; Acquire has signature func\(\) int, want func\(context\.Context\) \(bool, error\) or one of func\(context\.Context\) error \| func\(\) bool \| func\(\); as awaitable: missing abstract method Wait, or instead Done \(a Done channel\)$`
}

// generic is checked where it is instantiated, not here.
func generic[T any](v T) {
	mixin.Compose(v)
	mixin.Compose(&v)
	mixin.Compose(Box[T]{})
	adapters.NewContext[T](&os.File{})
	adapters.NewEvent[[]T](&Event{})
	adapters.NewEvent[[]int](Box[int]{}) // want `^mixin: can't compose calls\.Box\[int\] as event: missing abstract methods Clear, Get, IsSet, Set, WaitForNext$`
}

// Box is generic.
type Box[T any] struct{ v T }

// meant are refusals their authors mean.
func meant() {
	//mixin:ignore the refusal is what this shows
	mixin.Compose(Plain{})
	adapters.NewLock(&Cache{}) //mixin:ignore
	//mixin:ignored is another word: no effect
	adapters.NewLock(&Cache{}) // want `as lock: missing abstract methods`
}

// lookedUp is what plugin.Lookup returns for a variable of type any: a
// pointer to it, whose method set is empty whatever it holds.
func lookedUp(sym *any, closer *io.Closer) {
	mixin.Compose(sym)       // want `^mixin: can't compose \*any as any kind: a pointer to an interface has no methods \(plugin\.Lookup returns a pointer to the variable\): compose \*p$`
	adapters.NewLock(closer) // want `^mixin: can't compose \*io\.Closer as lock: a pointer to an interface has no methods \(plugin\.Lookup returns a pointer to the variable\): compose \*p$`
	mixin.Compose(*sym)      // an interface: the analyzer cannot tell
	adapters.NewContext[int](*closer)
}
