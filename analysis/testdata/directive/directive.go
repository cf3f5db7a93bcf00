// Package directive declares what its types compose as, as a plugin does.
package directive

import "context"

// Mutex is an owner lock; its methods are on *Mutex, as a plugin hands out &Mutex{}.
//
//mixin:kind lock owner-lock
type Mutex struct{ held bool }

func (m *Mutex) Acquire(context.Context) (bool, error)  { m.held = true; return true, nil }
func (m *Mutex) Locked() bool                           { return m.held }
func (m *Mutex) IsOwner(context.Context) bool           { return m.held }
func (m *Mutex) ReleaseUnchecked(context.Context) error { m.held = false; return nil }
func (m *Mutex) Describe() string                       { return "mutex" }

// Flag is an event by value.
//
//mixin:kind event awaitable
type Flag struct{ ch chan int }

func (f Flag) Clear()                                   {}
func (f Flag) Get() (int, bool)                         { return 0, false }
func (f Flag) IsSet() bool                              { return false }
func (f Flag) Set(int)                                  {}
func (f Flag) WaitForNext(context.Context) (int, error) { return 0, nil }

// Half says it is a lock, and is half of one.
//
//mixin:kind lock
type Half struct{} // want "^mixin: can't compose \\*directive.Half as lock: missing abstract methods Release \\(but does have method Unlock\\), Locked$"

func (*Half) Acquire(context.Context) (bool, error) { return true, nil }
func (*Half) Unlock(context.Context) error          { return nil }

type (
	// Waiter waits in a shape no awaitable accepts.
	//mixin:kind awaitable
	Waiter struct{} // want `Wait has signature func\(int\) error, want func\(context.Context\) \(T, error\) or one of func\(context.Context\) error \| func\(\) \(T, error\) \| func\(\) error \| func\(\) T \| func\(\)`

	// Typo names a kind that does not exist.
	//mixin:kind lokc // want `^mixin: unknown kind "lokc" in //mixin:kind \(known: context, exec-context, event, awaitable, owner-lock, lock, group\)$`
	Typo struct{}

	// Empty names no kind.
	//mixin:kind // want `names no kind`
	Empty struct{}

	// Later is generic: checked where it is instantiated.
	//mixin:kind lock
	Later[T any] struct{}
)

func (Waiter) Wait(int) error { return nil }
