package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/dist"
)

// Event is a value-holding event shared through Redis: its value is kept,
// encoded with the codec (JSON by default), in the key name, and each Set
// publishes it on the pub/sub channel name, so that WaitForNext on every
// client wakes. Waits subscribe before they read the key, so a Set between
// the read and the wait is not missed.
//
// An Event has the canonical methods of the event kind (with Set and Clear
// returning their errors), plus Wait and WaitUntil, which the Composer's
// proxy uses. An Event is made by NewEvent and is safe for concurrent use;
// its zero value is not usable.
type Event[T any] struct {
	client goredis.UniversalClient
	name   string
	cfg    config
}

// NewEvent returns a handle on the event name over client.
func NewEvent[T any](client goredis.UniversalClient, name string, opts ...Option) (*Event[T], error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	return &Event[T]{client: client, name: name, cfg: newConfig(opts)}, nil
}

// Name returns the event's name.
func (e *Event[T]) Name() string { return e.name }

// bounded is a ctx for a call made without one.
func (e *Event[T]) bounded() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), e.cfg.timeout)
}

func (e *Event[T]) fail(op string, err error) error {
	return fmt.Errorf("mixin: %s redis event %q: %w", op, e.name, err)
}

// Set stores v and wakes every waiter, within the event's timeout.
func (e *Event[T]) Set(v T) error {
	ctx, cancel := e.bounded()
	defer cancel()
	return e.SetContext(ctx, v)
}

// SetContext stores v and wakes every waiter: the key is set and v published
// in one transaction.
func (e *Event[T]) SetContext(ctx context.Context, v T) error {
	data, err := e.cfg.codec.Marshal(v)
	if err != nil {
		return e.fail("encode for", err)
	}
	_, err = e.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Set(ctx, e.name, data, 0)
		p.Publish(ctx, e.name, data)
		return nil
	})
	if err != nil {
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
	data, err := e.client.Get(ctx, e.name).Bytes()
	if errors.Is(err, goredis.Nil) {
		return zero, e.fail("get", adapters.ErrNoValue)
	}
	if err != nil {
		return zero, e.fail("get", err)
	}
	v, err := dist.Decode[T](e.cfg.codec, data)
	if err != nil {
		return zero, e.fail("decode", err)
	}
	return v, nil
}

// IsSet reports whether the event holds a value; false too when Redis
// cannot say within the event's timeout.
func (e *Event[T]) IsSet() bool {
	ctx, cancel := e.bounded()
	defer cancel()
	n, err := e.client.Exists(ctx, e.name).Result()
	return err == nil && n > 0
}

// Clear empties the event, within its timeout. Waiters keep waiting.
func (e *Event[T]) Clear() error {
	ctx, cancel := e.bounded()
	defer cancel()
	if err := e.client.Del(ctx, e.name).Err(); err != nil {
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

// follow subscribes to the event's channel, reads the key when read is set,
// and returns the first value match accepts (any, when match is nil).
func (e *Event[T]) follow(ctx context.Context, read bool, match func(T) bool) (T, error) {
	var zero T
	if ctx.Err() != nil {
		return zero, ctx.Err()
	}
	ps := e.client.Subscribe(ctx, e.name)
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // unblocks a Receive
	defer stop()
	fail := func(err error) (T, error) {
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		return zero, e.fail("wait on", err)
	}
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		return fail(err)
	}
	if read {
		v, err := e.GetContext(ctx)
		switch {
		case err == nil && (match == nil || match(v)):
			return v, nil
		case err != nil && !errors.Is(err, adapters.ErrNoValue):
			return fail(err)
		}
	}
	for {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			return fail(err)
		}
		v, err := dist.Decode[T](e.cfg.codec, []byte(msg.Payload))
		if err != nil {
			return zero, e.fail("decode", err)
		}
		if match == nil || match(v) {
			return v, nil
		}
	}
}
