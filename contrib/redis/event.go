package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Event is a value-holding event shared through Redis: its value is kept,
// encoded with the codec (JSON by default), in the key Key returns
// (prefix:event:{name}), and each Set publishes it on the pub/sub channel of
// the same name in the same transaction, so that
// WaitForNext on every client wakes. Wait and WaitUntil subscribe, wait
// for Redis to confirm, then read the key, so a Set between the read and the
// wait is not missed. Each waiting call holds a pub/sub connection.
//
// Its methods (Set, SetContext, Get, GetContext, IsSet, Clear, WaitForNext,
// Wait, WaitUntil, Name) are those of the embedded dist.Event: the event
// kind's canonical methods, with Set and Clear returning their errors, plus
// Wait and WaitUntil, which the Composer's proxy uses. An Event is made by
// NewEvent and is safe for concurrent use; its zero value is not usable.
type Event[T any] struct {
	*dist.Event[T]
	key string
}

// Key returns the key that holds the event's value: prefix:event:{name},
// with '%', ':', '{' and '}' escaped in the prefix and the name.
func (e *Event[T]) Key() string { return e.key }

// NewEvent returns a handle on the event name over client.
func NewEvent[T any](client goredis.UniversalClient, name string, opts ...Option) (*Event[T], error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	s := &store{client: client, key: baseKey(cfg.prefix, "event", name)}
	return &Event[T]{dist.NewEvent[T](s, fmt.Sprintf("redis event %q", name), name, cfg.codec, cfg.timeout), s.key}, nil
}

// store keeps an event in a key and a pub/sub channel of one name.
type store struct {
	client goredis.UniversalClient
	key    string
}

func (s *store) Put(ctx context.Context, data []byte) error {
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Set(ctx, s.key, data, 0)
		p.Publish(ctx, s.key, data)
		return nil
	})
	return err
}

func (s *store) Get(ctx context.Context) ([]byte, bool, error) {
	data, err := s.client.Get(ctx, s.key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (s *store) Exists(ctx context.Context) (bool, error) {
	n, err := s.client.Exists(ctx, s.key).Result()
	return n > 0, err
}

func (s *store) Delete(ctx context.Context) error { return s.client.Del(ctx, s.key).Err() }

// Follow subscribes, waits for the subscription's confirmation, reads the
// key when asked, then passes on what is published.
func (s *store) Follow(ctx context.Context, read bool, next func([]byte) bool) error {
	ps := s.client.Subscribe(ctx, s.key)
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // unblocks a Receive
	defer stop()
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		return err
	}
	if read {
		data, ok, err := s.Get(ctx)
		if err != nil {
			return err
		}
		if ok && next(data) {
			return nil
		}
	}
	for {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			return err
		}
		if next([]byte(msg.Payload)) {
			return nil
		}
	}
}
