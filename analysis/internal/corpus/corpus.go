// Package corpus holds the values of the differential test: each package
// variable is checked by the analyzer from its static type in this source and
// by the library from its value at run time, and both must say the same.
package corpus

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/shop"
)

// The corpus: standard-library values, the library's own, and broken ones.
var (
	MutexPtr      = &sync.Mutex{}
	MutexValue    sync.Mutex
	RWMutexPtr    = &sync.RWMutex{}
	WaitGroupPtr  = &sync.WaitGroup{}
	WaitGroupVal  sync.WaitGroup
	FilePtr       = &os.File{}
	CmdPtr        = &exec.Cmd{}
	CondPtr       = sync.NewCond(&sync.Mutex{})
	ProcessPtr    = &os.Process{}
	TimerPtr      = &time.Timer{}
	TickerPtr     = &time.Ticker{}
	ServerPtr     = &http.Server{}
	BufferPtr     = &bytes.Buffer{}
	BuilderPtr    = &strings.Builder{}
	OnePtr        = &sync.Once{}
	Int           = 42
	String        = "s"
	Empty         = struct{}{}
	OwnerMutex    = adapters.NewOwnerMutex()
	ValueEvent    = adapters.NewValueEvent[int]()
	DurationEvent = adapters.NewValueEvent[time.Duration]()
	LocalEvent    = adapters.NewValueEvent[Thing]()
	CtxDoneVal    = DoneValue{}
	CachePtr      = &Cache{}
	StoreVal      = Store{}
	StorePtr      = &Store{}
	TypoPtr       = &Typo{}
	HalfEventPtr  = &HalfEvent{}
	MixedTPtr     = &MixedT{}
	CtxLockerPtr  = &AlmostCtxLocker{}
	GoodLockPtr   = &GoodLock{}
	ClosersPtr    = &Closer{}
	BadCloserPtr  = &BadCloser{}
	SetupPtr      = &Setupper{}
	BadSetupPtr   = &BadSetup{}
	ThingVal      = Thing{}
	UnlockerPtr   = &Unlocker{}
	NearLockerPtr = &NearLocker{}
	WaiterPtr     = &Waiter{}
	VariadicPtr   = &Variadic{}
	ErrCloserPtr  = &ErrCloser{}
	ExoticPtr     = &Exotic{}
	BoxThing      = Box[Thing]{}
	BoxPtrBox     = &Box[*Box[int]]{}
	Chan          = make(chan (<-chan int))
	Func          = func(int) bool { return false }
	Map           = map[string][]byte{}
	Array         = [2]rune{}
	AnonStruct    = struct {
		A int `json:"a"`
		Thing
	}{}
	PtrPtr = new(*Thing)

	// Promoted methods: a refusal follows a method to the type that
	// declares it.
	EmbedCondPtr    = &EmbedCond{sync.NewCond(&sync.Mutex{})}
	EmbedCondVal    = EmbedCond{sync.NewCond(&sync.Mutex{})}
	DeepCondPtr     = &DeepCond{EmbedCond{sync.NewCond(&sync.Mutex{})}}
	OwnWaitCondPtr  = &OwnWaitCond{sync.NewCond(&sync.Mutex{})}
	CondValEmbedPtr = &CondValEmbed{}
	ErrTryLockerPtr = &ErrTryLocker{}

	// The fixtures the library's own tests compose (internal/shop).
	ShopCachePtr   = &shop.Cache{}
	ShopStoreVal   = shop.Store{}
	ShopStorePtr   = &shop.Store{}
	ShopTypoPtr    = &shop.Typo{}
	ShopSessionPtr = &shop.Session{}
	ShopConnPtr    = &shop.Conn{}
	ShopGateVal    = shop.Gate{}
	ShopGatePtr    = &shop.Gate{}
	ShopJobPtr     = shop.NewJob(1)
	ShopFuturePtr  = &shop.Future{}

	// Stoppers whose Stop returns something to await (validate.Result
	// shapes): the library's own task type, by pointer or value, an
	// interface, and near misses.
	DoneStopperPtr    = &DoneStopper{}
	WaitStopperPtr    = &WaitStopper{}
	IfaceStopperPtr   = &IfaceStopper{}
	PtrTaskStopperPtr = &PtrTaskStopper{}
	BidiStopperPtr    = &BidiStopper{}
	IntStopperPtr     = &IntStopper{}

	// Pointers to interfaces (plugin.Lookup's *any for a variable): refused,
	// whatever they hold.
	PtrToAny    = func() *any { var v any = &GoodLock{}; return &v }()
	PtrToCloser = func() *io.Closer { var c io.Closer = &Closer{}; return &c }()
)

// Values returns the corpus's values by variable name.
func Values() map[string]any {
	ptrs := map[string]any{
		"MutexPtr": &MutexPtr, "MutexValue": &MutexValue, "RWMutexPtr": &RWMutexPtr,
		"WaitGroupPtr": &WaitGroupPtr, "WaitGroupVal": &WaitGroupVal, "FilePtr": &FilePtr,
		"CmdPtr": &CmdPtr, "CondPtr": &CondPtr, "ProcessPtr": &ProcessPtr, "TimerPtr": &TimerPtr,
		"TickerPtr": &TickerPtr, "ServerPtr": &ServerPtr, "BufferPtr": &BufferPtr,
		"BuilderPtr": &BuilderPtr, "OnePtr": &OnePtr, "Int": &Int, "String": &String, "Empty": &Empty,
		"OwnerMutex": &OwnerMutex, "ValueEvent": &ValueEvent, "DurationEvent": &DurationEvent,
		"LocalEvent": &LocalEvent, "CtxDoneVal": &CtxDoneVal, "CachePtr": &CachePtr,
		"StoreVal": &StoreVal, "StorePtr": &StorePtr, "TypoPtr": &TypoPtr,
		"HalfEventPtr": &HalfEventPtr, "MixedTPtr": &MixedTPtr, "CtxLockerPtr": &CtxLockerPtr,
		"GoodLockPtr": &GoodLockPtr, "ClosersPtr": &ClosersPtr, "BadCloserPtr": &BadCloserPtr,
		"SetupPtr": &SetupPtr, "BadSetupPtr": &BadSetupPtr, "ThingVal": &ThingVal,
		"UnlockerPtr": &UnlockerPtr, "NearLockerPtr": &NearLockerPtr, "WaiterPtr": &WaiterPtr, "VariadicPtr": &VariadicPtr,
		"ErrCloserPtr": &ErrCloserPtr, "ExoticPtr": &ExoticPtr, "BoxThing": &BoxThing,
		"BoxPtrBox": &BoxPtrBox, "Chan": &Chan, "Func": &Func, "Map": &Map, "Array": &Array,
		"AnonStruct": &AnonStruct, "PtrPtr": &PtrPtr,
		"EmbedCondPtr": &EmbedCondPtr, "EmbedCondVal": &EmbedCondVal, "DeepCondPtr": &DeepCondPtr,
		"OwnWaitCondPtr": &OwnWaitCondPtr, "CondValEmbedPtr": &CondValEmbedPtr,
		"ErrTryLockerPtr": &ErrTryLockerPtr,
		"ShopCachePtr":    &ShopCachePtr, "ShopStoreVal": &ShopStoreVal, "ShopStorePtr": &ShopStorePtr,
		"ShopTypoPtr": &ShopTypoPtr, "ShopSessionPtr": &ShopSessionPtr, "ShopConnPtr": &ShopConnPtr,
		"ShopGateVal": &ShopGateVal, "ShopGatePtr": &ShopGatePtr, "ShopJobPtr": &ShopJobPtr,
		"ShopFuturePtr":  &ShopFuturePtr,
		"DoneStopperPtr": &DoneStopperPtr, "WaitStopperPtr": &WaitStopperPtr,
		"IfaceStopperPtr": &IfaceStopperPtr, "PtrTaskStopperPtr": &PtrTaskStopperPtr,
		"BidiStopperPtr": &BidiStopperPtr, "IntStopperPtr": &IntStopperPtr,
		"PtrToAny": &PtrToAny, "PtrToCloser": &PtrToCloser,
	}
	out := make(map[string]any, len(ptrs))
	for name, p := range ptrs {
		out[name] = reflect.ValueOf(p).Elem().Interface()
	}
	return out
}

// EmbedCond embeds *sync.Cond: its Wait is the Cond's.
type EmbedCond struct{ *sync.Cond }

// DeepCond embeds a type that embeds *sync.Cond.
type DeepCond struct{ EmbedCond }

// OwnWaitCond embeds *sync.Cond but declares a Wait of its own.
type OwnWaitCond struct{ *sync.Cond }

// Wait is OwnWaitCond's own.
func (OwnWaitCond) Wait() {}

// CondValEmbed embeds a sync.Cond value: *CondValEmbed has its Wait.
type CondValEmbed struct{ sync.Cond }

// ErrTryLocker is a sync.Locker whose TryLock also returns an error.
type ErrTryLocker struct{ sync.Mutex }

// TryLock tries the mutex.
func (l *ErrTryLocker) TryLock() (bool, error) { return l.Mutex.TryLock(), nil }

// Thing is a plain type, used as an event's T.
type Thing struct{ N int }

// DoneValue has a Done channel on its value and Err on its pointer.
type DoneValue struct{}

// Done returns nil.
func (DoneValue) Done() <-chan struct{} { return nil }

// Err returns nil.
func (*DoneValue) Err() error { return nil }

// Cache is the design's example of a near lock.
type Cache struct{}

// Acquire has a shape no lock accepts.
func (*Cache) Acquire() int { return 0 }

// Store is a lock whose methods are on its pointer.
type Store struct{}

// Acquire acquires.
func (*Store) Acquire(context.Context) (bool, error) { return true, nil }

// Release releases.
func (*Store) Release(context.Context) error { return nil }

// Locked reports false.
func (*Store) Locked() bool { return false }

// Typo has Relase for Release.
type Typo struct{}

// Acquire acquires.
func (*Typo) Acquire(context.Context) (bool, error) { return true, nil }

// Relase is a typo.
func (*Typo) Relase(context.Context) error { return nil }

// Locked reports false.
func (*Typo) Locked() bool { return false }

// NearLocker is a sync.Locker whose Acquire and Relase look meant for the
// lock kind's main form: it composes, with a note.
type NearLocker struct{ mu sync.Mutex }

// Lock locks.
func (n *NearLocker) Lock() { n.mu.Lock() }

// Unlock unlocks.
func (n *NearLocker) Unlock() { n.mu.Unlock() }

// Acquire has no lock's shape.
func (*NearLocker) Acquire() int { return 0 }

// Relase is a typo.
func (*NearLocker) Relase() error { return nil }

// HalfEvent has part of an event.
type HalfEvent struct{}

// Get gets.
func (*HalfEvent) Get() (int, error) { return 0, nil }

// Set sets.
func (*HalfEvent) Set(int) {}

// Value is a hinted name for Get.
func (*HalfEvent) Value() int { return 0 }

// MixedT is an event whose methods disagree on T.
type MixedT struct{}

// Clear clears.
func (*MixedT) Clear() {}

// Get gets an int.
func (*MixedT) Get() (int, error) { return 0, nil }

// IsSet reports false.
func (*MixedT) IsSet() bool { return false }

// Set takes a string.
func (*MixedT) Set(string) {}

// WaitForNext waits for an int.
func (*MixedT) WaitForNext(context.Context) (int, error) { return 0, nil }

// AlmostCtxLocker has Lock(ctx) error and an Unlock without ctx.
type AlmostCtxLocker struct{}

// Lock locks.
func (*AlmostCtxLocker) Lock(context.Context) error { return nil }

// Unlock unlocks.
func (*AlmostCtxLocker) Unlock() {}

// GoodLock is a lock in other shapes.
type GoodLock struct{}

// Acquire acquires.
func (*GoodLock) Acquire() bool { return true }

// Release releases.
func (*GoodLock) Release() {}

// Locked reports false.
func (*GoodLock) Locked() bool { return false }

// Closer is an io.Closer with an Enter.
type Closer struct{}

// Close closes.
func (*Closer) Close() error { return nil }

// Enter yields a Thing.
func (*Closer) Enter() Thing { return Thing{} }

// BadCloser closes in a shape no context accepts.
type BadCloser struct{}

// Close takes a flag.
func (*BadCloser) Close(bool) error { return nil }

// Setupper has a group's Setup.
type Setupper struct{}

// Setup sets up.
func (*Setupper) Setup(context.Context) error { return nil }

// BadSetup has a Setup in a shape no group accepts.
type BadSetup struct{}

// Setup returns an int.
func (*BadSetup) Setup() int { return 0 }

// Unlocker has Unlock but no Release.
type Unlocker struct{}

// Acquire acquires.
func (*Unlocker) Acquire(context.Context) (bool, error) { return true, nil }

// Unlock is a hinted name for Release.
func (*Unlocker) Unlock(context.Context) error { return nil }

// Locked reports false.
func (*Unlocker) Locked() bool { return false }

// Waiter waits for a []any.
type Waiter struct{}

// Wait waits.
func (*Waiter) Wait(context.Context) ([]any, error) { return nil, nil }

// Variadic has a variadic method.
type Variadic struct{}

// Exit takes many errors.
func (*Variadic) Exit(...any) bool { return false }

// ErrCloser is an io.Closer that is also an error: a context[error] over it
// may yield it from Enter without an Enter of its own.
type ErrCloser struct{}

// Close closes.
func (*ErrCloser) Close() error { return nil }

// Error says what it is.
func (*ErrCloser) Error() string { return "err closer" }

// Exotic has methods whose signatures hold every kind of type, so that
// messages print each as the run time does.
type Exotic struct{}

// Wait has a send-only channel of bytes.
func (*Exotic) Wait(chan<- byte) error { return nil }

// Get returns a func and a map.
func (*Exotic) Get() (func(int, ...string) (bool, error), map[string][]interface{ M() int }) {
	return nil, nil
}

// Set takes a struct with a tag.
func (*Exotic) Set(struct {
	A int `tag:"a"`
	B []*Thing
}) {
}

// Clear takes an array of runes and an unsafe-free pointer to a pointer.
func (*Exotic) Clear([3]rune, **Thing) {}

// Exit takes a channel of receive-only channels.
func (*Exotic) Exit(chan (<-chan any), interface{}) bool { return false }

// Acquire takes an error and a context.
func (*Exotic) Acquire(error, context.Context) bool { return false }

// Box is generic.
type Box[T any] struct{ v T }

// Wait returns the boxed value with a wrong first parameter.
func (b Box[T]) Wait(int) (T, error) { return b.v, nil }

// Get gets the boxed value.
func (b Box[T]) Get() (T, error) { return b.v, nil }

// DoneTask is a stopper's task with a Done channel, on the pointer.
type DoneTask struct{ done chan struct{} }

// Done is closed when the task is over.
func (t *DoneTask) Done() <-chan struct{} { return t.done }

// WaitTask is a stopper's task with Wait() error, on the value.
type WaitTask struct{}

// Wait waits for the task.
func (WaitTask) Wait() error { return nil }

// BidiTask has a Done channel that is not receive-only.
type BidiTask struct{}

// Done returns a bidirectional channel: not the shape asked for.
func (BidiTask) Done() chan struct{} { return nil }

// DoneStopper's Stop returns its own task type, with Done on the pointer.
type DoneStopper struct{}

// Stop stops and returns what to await.
func (*DoneStopper) Stop() *DoneTask { return &DoneTask{} }

// WaitStopper's Stop returns a task value with Wait() error.
type WaitStopper struct{}

// Stop stops and returns what to await.
func (*WaitStopper) Stop() WaitTask { return WaitTask{} }

// IfaceStopper's Stop returns an interface with Wait() error.
type IfaceStopper struct{}

// Stop stops and returns what to await.
func (*IfaceStopper) Stop() interface{ Wait() error } { return WaitTask{} }

// PtrTaskStopper's Stop returns a DoneTask value, whose Done is the
// pointer's: nothing to await.
type PtrTaskStopper struct{}

// Stop stops and returns a value without Done.
func (*PtrTaskStopper) Stop() DoneTask { return DoneTask{} }

// BidiStopper's Stop returns a task whose Done has the wrong type.
type BidiStopper struct{}

// Stop stops and returns a task with the wrong Done.
func (*BidiStopper) Stop() BidiTask { return BidiTask{} }

// IntStopper's Stop returns an int: a stopper that almost is.
type IntStopper struct{}

// Stop stops and returns a number.
func (*IntStopper) Stop() int { return 0 }
