package adapters

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
)

// ValueEvent is a ready-made event that holds a value: Set stores it and
// wakes every waiter at once, WaitForNext always waits for the next Set (even
// when a value is held), Get on an empty event returns ErrNoValue, and Clear
// empties it. Waiters cost no goroutine; Get is one atomic load.
//
// A ValueEvent is safe for concurrent use. Use NewValueEvent; the zero value
// is also ready to use.
type ValueEvent[T any] struct {
	cur     atomic.Pointer[box[T]] // the value held, nil when empty
	mu      sync.Mutex             // orders Set, Clear and waiter registration
	pending *generation[T]         // what the next Set closes; nil until someone waits
	streams int                    // running Streams: Set then links the next generation
}

type box[T any] struct{ v T }

// generation is one future Set: waiters block on ch, Set stores v and closes
// it. While Streams run, next links the generation after it, so that a
// stream sees every value set.
type generation[T any] struct {
	ch   chan struct{}
	v    T
	next *generation[T]
}

// NewValueEvent returns an empty ValueEvent.
func NewValueEvent[T any]() *ValueEvent[T] { return &ValueEvent[T]{} }

// Set stores v and wakes every waiter with it. The value persists until the
// next Set or Clear.
func (e *ValueEvent[T]) Set(v T) {
	e.mu.Lock()
	e.cur.Store(&box[T]{v})
	if g := e.pending; g != nil {
		g.v = v
		e.pending = nil
		if e.streams > 0 {
			e.pending = &generation[T]{ch: make(chan struct{})}
			g.next = e.pending
		}
		close(g.ch)
	}
	e.mu.Unlock()
}

// Get returns the value held, or ErrNoValue when the event is empty.
func (e *ValueEvent[T]) Get() (T, error) {
	if b := e.cur.Load(); b != nil {
		return b.v, nil
	}
	var zero T
	return zero, ErrNoValue
}

// IsSet reports whether the event holds a value.
func (e *ValueEvent[T]) IsSet() bool { return e.cur.Load() != nil }

// Clear empties the event. Waiters keep waiting for the next Set.
func (e *ValueEvent[T]) Clear() {
	e.mu.Lock()
	e.cur.Store(nil)
	e.mu.Unlock()
}

// pendingLocked returns the generation the next Set closes. e.mu is held.
func (e *ValueEvent[T]) pendingLocked() *generation[T] {
	if e.pending == nil {
		e.pending = &generation[T]{ch: make(chan struct{})}
	}
	return e.pending
}

// WaitForNext waits for the next Set and returns the value it set, or
// ctx.Err() when ctx ends first.
func (e *ValueEvent[T]) WaitForNext(ctx context.Context) (T, error) {
	if ctx == nil {
		var zero T
		return zero, nilCtx("ValueEvent.WaitForNext")
	}
	e.mu.Lock()
	g := e.pendingLocked()
	e.mu.Unlock()
	return g.wait(ctx)
}

// Wait returns the value held, or waits for the next Set when the event is
// empty. The check and the wait are one step: a Set cannot slip between them.
func (e *ValueEvent[T]) Wait(ctx context.Context) (T, error) {
	if ctx == nil {
		var zero T
		return zero, nilCtx("ValueEvent.Wait")
	}
	if b := e.cur.Load(); b != nil {
		return b.v, nil
	}
	e.mu.Lock()
	if b := e.cur.Load(); b != nil {
		e.mu.Unlock()
		return b.v, nil
	}
	g := e.pendingLocked()
	e.mu.Unlock()
	return g.wait(ctx)
}

func (g *generation[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-g.ch:
		return g.v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// follow registers a follower (a Stream or a WaitUntil): from now on every
// Set links the generation after the one it closes, so the follower sees
// every value. It returns the value held now (nil when empty) and the
// generation the next Set closes; unfollow undoes it.
func (e *ValueEvent[T]) follow() (*box[T], *generation[T]) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.streams++
	return e.cur.Load(), e.pendingLocked()
}

func (e *ValueEvent[T]) unfollow() {
	e.mu.Lock()
	e.streams--
	e.mu.Unlock()
}

// after returns the generation after g, which a follower waits on next.
func (e *ValueEvent[T]) after(g *generation[T]) *generation[T] {
	e.mu.Lock()
	defer e.mu.Unlock()
	if g.next == nil { // set before this follower's first Set linked it
		return e.pendingLocked()
	}
	return g.next
}

// Stream yields every value set from the moment it starts until ctx ends or
// the loop breaks, in order, none skipped: a consumer slower than the setters
// sees each value late, not never (the values wait in memory meanwhile). It
// starts no goroutine.
func (e *ValueEvent[T]) Stream(ctx context.Context) iter.Seq[T] {
	if ctx == nil {
		return func(func(T) bool) {}
	}
	return func(yield func(T) bool) {
		_, g := e.follow()
		defer e.unfollow()
		for {
			v, err := g.wait(ctx)
			if err != nil || !yield(v) {
				return
			}
			g = e.after(g)
		}
	}
}

// WaitUntil returns the first value for which match is true: the value held
// now, if it matches, else the first value set later that does; ctx.Err()
// when ctx ends first. Reading the value held and waiting for the next Set
// are one step, and no Set is missed while it waits, however quickly values
// follow each other. match runs in the caller's goroutine, never under the
// event's lock.
func (e *ValueEvent[T]) WaitUntil(ctx context.Context, match func(T) bool) (T, error) {
	if ctx == nil {
		var zero T
		return zero, nilCtx("ValueEvent.WaitUntil")
	}
	b, g := e.follow()
	defer e.unfollow()
	if b != nil && match(b.v) {
		return b.v, nil
	}
	for {
		v, err := g.wait(ctx)
		if err != nil {
			return v, err
		}
		if match(v) {
			return v, nil
		}
		g = e.after(g)
	}
}

// waitUntilAny and streamAny serve an Event proxy whose T is an interface
// type (the Composer's Event[any]) over a ValueEvent of a concrete T.
func (e *ValueEvent[T]) waitUntilAny(ctx context.Context, match func(any) bool) (any, error) {
	return e.WaitUntil(ctx, func(v T) bool { return match(v) })
}

func (e *ValueEvent[T]) streamAny(ctx context.Context) iter.Seq[any] {
	return func(yield func(any) bool) {
		for v := range e.Stream(ctx) {
			if !yield(v) {
				return
			}
		}
	}
}
