// Package adapters holds one file per mixin kind: its spec (the abstract
// methods and the shapes each may have), its proxy type and its typed
// constructor, plus the ready-made implementations (OwnerMutex) and the
// pieces they share: task identity (WithTask, TaskOf), panics carried as
// values (PanicError) and locksmiths (Watchdog).
//
// Each constructor checks the value once per dynamic type and binds its
// methods to typed funcs by interface assertion, so calls through a proxy
// make no reflect.Value.Call. The one exception: a method whose shape has T
// in it, on a proxy whose T is an interface type (the Composer's [any]) and
// whose method names a concrete type (Enter() *os.File) is called through
// reflection; use the typed constructor (NewContext[*os.File]) for the fast
// path.
//
// Proxies are safe for concurrent use as far as the wrapped value is, and
// must be made by their constructors: the methods of a zero or nil proxy
// return an error matching ErrUnusable instead of panicking.
package adapters
