package etcd

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Event is a value-holding event shared through etcd: its value is kept,
// encoded with the codec (JSON by default), in the key Key returns
// (prefix/event/name), and waiters
// watch that key from the revision after the one they read, so that no Set
// between the read and the watch is missed, on any client.
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

// Key returns the key that holds the event's value: prefix/event/name, with
// '%' and '/' escaped in the prefix and the name.
func (e *Event[T]) Key() string { return e.key }

// NewEvent returns a handle on the event name over client.
func NewEvent[T any](client *clientv3.Client, name string, opts ...Option) (*Event[T], error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	s := &store{client: client, key: baseKey(cfg.prefix, "event", name)}
	return &Event[T]{dist.NewEvent[T](s, fmt.Sprintf("etcd event %q", name), name, cfg.codec, cfg.timeout), s.key}, nil
}

// store keeps an event in one key.
type store struct {
	client *clientv3.Client
	key    string
}

func (s *store) Put(ctx context.Context, data []byte) error {
	_, err := s.client.Put(ctx, s.key, string(data))
	return err
}

func (s *store) Get(ctx context.Context) ([]byte, bool, error) {
	data, _, err := s.read(ctx)
	return data, data != nil, err
}

// read returns the value (nil when there is none) and the revision read at.
func (s *store) read(ctx context.Context) ([]byte, int64, error) {
	resp, err := s.client.Get(ctx, s.key)
	if err != nil {
		return nil, 0, err
	}
	if len(resp.Kvs) == 0 {
		return nil, resp.Header.Revision, nil
	}
	return resp.Kvs[0].Value, resp.Header.Revision, nil
}

func (s *store) Exists(ctx context.Context) (bool, error) {
	resp, err := s.client.Get(ctx, s.key, clientv3.WithCountOnly())
	if err != nil {
		return false, err
	}
	return resp.Count > 0, nil
}

func (s *store) Delete(ctx context.Context) error {
	_, err := s.client.Delete(ctx, s.key)
	return err
}

// Follow reads the key (for its revision, and its value when asked), then
// watches it from the next revision; deletes are not Sets.
func (s *store) Follow(ctx context.Context, read bool, next func([]byte) bool) error {
	data, rev, err := s.read(ctx)
	if err != nil {
		return err
	}
	if read && data != nil && next(data) {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range s.client.Watch(wctx, s.key, clientv3.WithRev(rev+1), clientv3.WithFilterDelete()) {
		if err := resp.Err(); err != nil {
			return err
		}
		for _, ev := range resp.Events {
			if next(ev.Kv.Value) {
				return nil
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.New("the watch ended")
}
