package dist

import (
	"context"
	"time"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/errs"
)

// Store is where an engine keeps an event's encoded value and how it wakes
// waiters.
type Store interface {
	Put(ctx context.Context, data []byte) error
	// Get returns the value; ok is false when there is none.
	Get(ctx context.Context) (data []byte, ok bool, err error)
	Exists(ctx context.Context) (bool, error)
	Delete(ctx context.Context) error
	// Follow calls next with every value set after it began, first with the
	// value held then when read is set (if there is one), until next says
	// stop (it then returns nil) or ctx ends. No Set between the read and
	// the first wake-up may be missed.
	Follow(ctx context.Context, read bool, next func(data []byte) (stop bool)) error
}

// Event is an event of T over a Store: what contrib's Event types are made
// of. Values are encoded with its codec.
type Event[T any] struct {
	store   Store
	what    string // for messages: "redis event \"name\""
	name    string
	codec   Codec
	timeout time.Duration // bound of the calls made without a ctx
}

// NewEvent makes an event over store, named name (what names it in errors).
func NewEvent[T any](store Store, what, name string, codec Codec, timeout time.Duration) *Event[T] {
	return &Event[T]{store: store, what: what, name: name, codec: codec, timeout: timeout}
}

// Name returns the event's name.
func (e *Event[T]) Name() string { return e.name }

func (e *Event[T]) bounded() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), e.timeout)
}

func (e *Event[T]) fail(op string, err error) error {
	return errs.Errorf("%s %s: %w", op, e.what, err)
}

// Set stores v and wakes every waiter, on every client, within the event's
// timeout.
func (e *Event[T]) Set(v T) error {
	ctx, cancel := e.bounded()
	defer cancel()
	return e.SetContext(ctx, v)
}

// SetContext stores v and wakes every waiter, on every client.
func (e *Event[T]) SetContext(ctx context.Context, v T) error {
	data, err := e.codec.Marshal(v)
	if err != nil {
		return e.fail("encode for", err)
	}
	if err := e.store.Put(ctx, data); err != nil {
		return e.fail("set", err)
	}
	return nil
}

// Get returns the value, or an error matching adapters.ErrNoValue when the
// event holds none, within the event's timeout.
func (e *Event[T]) Get() (T, error) {
	ctx, cancel := e.bounded()
	defer cancel()
	return e.GetContext(ctx)
}

// GetContext returns the value, or an error matching adapters.ErrNoValue
// when the event holds none.
func (e *Event[T]) GetContext(ctx context.Context) (T, error) {
	var zero T
	data, ok, err := e.store.Get(ctx)
	switch {
	case err != nil:
		return zero, e.fail("get", err)
	case !ok:
		return zero, e.fail("get", adapters.ErrNoValue)
	}
	return e.decode(data)
}

func (e *Event[T]) decode(data []byte) (T, error) {
	v, err := Decode[T](e.codec, data)
	if err != nil {
		return v, e.fail("decode", err)
	}
	return v, nil
}

// IsSet reports whether the event holds a value; false too when the server
// cannot say within the event's timeout.
func (e *Event[T]) IsSet() bool {
	ctx, cancel := e.bounded()
	defer cancel()
	ok, err := e.store.Exists(ctx)
	return err == nil && ok
}

// Clear empties the event, within its timeout. Waiters keep waiting.
func (e *Event[T]) Clear() error {
	ctx, cancel := e.bounded()
	defer cancel()
	if err := e.store.Delete(ctx); err != nil {
		return e.fail("clear", err)
	}
	return nil
}

// WaitForNext waits for the next Set on any client, even while a value is
// held, and returns its value; ctx.Err() when ctx ends first.
func (e *Event[T]) WaitForNext(ctx context.Context) (T, error) { return e.follow(ctx, false, nil) }

// Wait returns the value if one is held, else waits for the next Set.
func (e *Event[T]) Wait(ctx context.Context) (T, error) { return e.follow(ctx, true, nil) }

// WaitUntil returns the value once match accepts it: the value held now, or
// one a later Set stores.
func (e *Event[T]) WaitUntil(ctx context.Context, match func(T) bool) (T, error) {
	return e.follow(ctx, true, match)
}

// follow returns the first value match accepts (any, when match is nil).
func (e *Event[T]) follow(ctx context.Context, read bool, match func(T) bool) (T, error) {
	var got, zero T
	if ctx.Err() != nil {
		return zero, ctx.Err()
	}
	var derr error // a value that could not be decoded ends the wait
	err := e.store.Follow(ctx, read, func(data []byte) bool {
		v, err := e.decode(data)
		if err != nil {
			derr = err
			return true
		}
		if match == nil || match(v) {
			got = v
			return true
		}
		return false
	})
	switch {
	case derr != nil:
		return zero, derr
	case err == nil:
		return got, nil
	case ended(ctx) != nil:
		return zero, ended(ctx)
	}
	return zero, e.fail("wait on", err)
}

// ended returns ctx's error, or context.DeadlineExceeded once its deadline
// has passed: a connection whose read deadline is ctx's can fail with an I/O
// timeout a moment before ctx's own timer marks it done.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}
