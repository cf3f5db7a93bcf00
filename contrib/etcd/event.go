package etcd

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/internal/dist"
)

// Event is a value-holding event shared through etcd: its value is kept,
// encoded with the codec (JSON by default), in the key name, and waiters
// watch that key from the revision they read, so that no Set between the
// read and the watch is missed, on any client.
//
// An Event has the canonical methods of the event kind (with Set and Clear
// returning their errors), plus Wait and WaitUntil, which the Composer's
// proxy uses. An Event is made by NewEvent and is safe for concurrent use;
// its zero value is not usable.
type Event[T any] struct {
	client *clientv3.Client
	name   string
	cfg    config
}

// NewEvent returns a handle on the event name over client.
func NewEvent[T any](client *clientv3.Client, name string, opts ...Option) (*Event[T], error) {
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
	return fmt.Errorf("mixin: %s etcd event %q: %w", op, e.name, err)
}

// Set stores v and wakes every waiter, within the event's timeout.
func (e *Event[T]) Set(v T) error {
	ctx, cancel := e.bounded()
	defer cancel()
	return e.SetContext(ctx, v)
}

// SetContext stores v and wakes every waiter.
func (e *Event[T]) SetContext(ctx context.Context, v T) error {
	data, err := e.cfg.codec.Marshal(v)
	if err != nil {
		return e.fail("encode for", err)
	}
	if _, err := e.client.Put(ctx, e.name, string(data)); err != nil {
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
	v, _, err := e.read(ctx)
	return v, err
}

// read returns the value and the revision it was read at.
func (e *Event[T]) read(ctx context.Context) (T, int64, error) {
	var zero T
	resp, err := e.client.Get(ctx, e.name)
	if err != nil {
		return zero, 0, e.fail("get", err)
	}
	if len(resp.Kvs) == 0 {
		return zero, resp.Header.Revision, e.fail("get", adapters.ErrNoValue)
	}
	v, err := dist.Decode[T](e.cfg.codec, resp.Kvs[0].Value)
	if err != nil {
		return zero, resp.Header.Revision, e.fail("decode", err)
	}
	return v, resp.Header.Revision, nil
}

// IsSet reports whether the event holds a value; false too when etcd cannot
// say within the event's timeout.
func (e *Event[T]) IsSet() bool {
	ctx, cancel := e.bounded()
	defer cancel()
	resp, err := e.client.Get(ctx, e.name, clientv3.WithCountOnly())
	return err == nil && resp.Count > 0
}

// Clear empties the event, within its timeout. Waiters keep waiting.
func (e *Event[T]) Clear() error {
	ctx, cancel := e.bounded()
	defer cancel()
	if _, err := e.client.Delete(ctx, e.name); err != nil {
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

// follow reads the key (its value when use is set, its revision always) and
// watches it from the next revision, returning the first value match
// accepts (any, when match is nil).
func (e *Event[T]) follow(ctx context.Context, use bool, match func(T) bool) (T, error) {
	var zero T
	v, rev, err := e.read(ctx)
	switch {
	case ctx.Err() != nil:
		return zero, ctx.Err()
	case err == nil && use && (match == nil || match(v)):
		return v, nil
	case err != nil && rev == 0: // etcd did not answer
		return zero, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range e.client.Watch(wctx, e.name, clientv3.WithRev(rev+1), clientv3.WithFilterDelete()) {
		if err := resp.Err(); err != nil {
			return zero, e.fail("watch", err)
		}
		for _, ev := range resp.Events {
			v, err := dist.Decode[T](e.cfg.codec, ev.Kv.Value)
			if err != nil {
				return zero, e.fail("decode", err)
			}
			if match == nil || match(v) {
				return v, nil
			}
		}
	}
	if ctx.Err() != nil {
		return zero, ctx.Err()
	}
	return zero, e.fail("watch", errors.New("the watch ended"))
}
