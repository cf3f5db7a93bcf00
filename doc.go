// Package mixin gives values it was never compiled against — plugins from
// other modules, legacy objects, types nobody here wrote — behaviour derived
// from the methods they happen to have: Go's counterpart of the mixins of
// Python's asyncutils.mixins.
//
// A [Composer] looks up a value's method set by reflection (once per type),
// checks it the way Python's abc does at instantiation, and attaches a proxy
// for every kind of behaviour it fits:
//
//	KindContext      Exit (or io.Closer)         -> Enter, Exit, Do   (AsyncContextMixin)
//	KindAwaitable    Wait (or Done/Err)          -> Await, Chan       (AwaitableMixin)
//	KindLock         Acquire/Release/Locked,     -> Acquire, Release, Enter, Exit, Do
//	                 sync.Locker, ctx lockers                         (LockMixin)
//	KindOwnerLock    Acquire/Locked/IsOwner/     -> a Lock whose Release checks the owner
//	                 ReleaseUnchecked                                 (LockWithOwnerMixin)
//	KindEvent        Clear/Get/IsSet/Set/        -> Wait, Await, WaitForValue, Stream
//	                 WaitForNext                                      (EventMixin)
//	KindExecContext  as KindContext              -> Enter and Exit on an Executor (ExecutorRequiredAsyncContextMixin)
//	KindGroup        optional Setup/Cleanup      -> Enter, Go, Wait, Exit (LoopContextMixin)
//
// A worked example, composing a *sync.Mutex and requiring it to be a lock:
//
//	var mu sync.Mutex
//	c, err := mixin.Compose(&mu, mixin.Require(mixin.KindLock))
//	if err != nil {
//		return err // a *validate.AbstractError naming every problem
//	}
//	lock, _ := c.Lock()
//	err = lock.Do(ctx, func(ctx context.Context) error {
//		// mutual exclusion; a caller whose ctx ends while waiting gets
//		// ctx.Err() and the mutex is left free
//		return nil
//	})
//
// A value that does not fit is refused with a [*validate.AbstractError] that
// reads like Python's TypeError and the Go compiler's messages at once:
//
//	mixin: can't compose *shop.Cache as lock: missing abstract methods Release
//	(but does have method Unlock), Locked; Acquire has signature func() int,
//	want func(context.Context) (bool, error) or one of func(context.Context) error | func() bool | func()
//
// With %+v it prints one problem a line. Every blocking call takes a
// context.Context first; errors are returned, never thrown; a panic in user
// code a proxy runs leaves no lock held and no context un-exited.
//
// [Registry.Define] declares kinds of a plugin host's own, [Registry.Adapt]
// adapts a foreign type by hand (Python's ABC.register), and
// [Composer.Register] keeps composed plugins by name. The package-level
// [Compose] uses a default Composer; [New] makes a private one. The typed
// constructors in package adapters (adapters.NewLock, adapters.NewContext[T],
// ...) compose one kind without a Composer.
//
// go doc lists Compose (and New) under the types they return, Composite
// (and Composer), as it lists every function that returns a type of the
// package: they are the package's entry points all the same.
package mixin
