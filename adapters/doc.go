// Package adapters holds one file per mixin kind: its spec (the abstract
// methods and the shapes each may have), its proxy type and its typed
// constructor, plus the ready-made implementations (OwnerMutex) and the
// pieces they share: task identity (WithTask, TaskOf), panics carried as
// values (PanicError) and locksmiths (Watchdog).
//
// Each constructor checks the value once per dynamic type and binds its
// methods to typed funcs by interface assertion, so calls through a proxy
// make no reflect.Value.Call. A method whose shape has T in it, on a proxy
// whose T is any (the Composer's) and whose method names a concrete type X
// (Wait(ctx) (int, error), Enter() *os.File), is bound through code compiled
// for X when X is registered (RegisterType; the predeclared types are), and
// called through reflection otherwise; so is one on a proxy whose T is
// another interface type. The typed constructor (NewContext[*os.File]) is
// the fastest path of all.
//
// Proxies are safe for concurrent use as far as the wrapped value is, and
// must be made by their constructors: the methods of a zero or nil proxy
// return an error matching ErrUnusable instead of panicking.
package adapters
