package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
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
	data, _, _, err := s.read(ctx)
	return data, data != nil, err
}

// read returns the value (nil when there is none), the revision read at,
// and the revision the value was set at.
func (s *store) read(ctx context.Context) (data []byte, rev, mod int64, _ error) {
	resp, err := s.client.Get(ctx, s.key)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(resp.Kvs) == 0 {
		return nil, resp.Header.Revision, 0, nil
	}
	return resp.Kvs[0].Value, resp.Header.Revision, resp.Kvs[0].ModRevision, nil
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
// watches it from the next revision; deletes are not Sets. When etcd has
// compacted its history past the revisions the watch still had to see (a
// waiter cut off while the store was compacted), it reads the key again,
// passes its value on if it was set after the last revision seen (the
// latest of the Sets it missed), and watches on from there.
func (s *store) Follow(ctx context.Context, read bool, next func([]byte) bool) error {
	data, rev, _, err := s.read(ctx)
	if err != nil {
		return err
	}
	if read && data != nil && next(data) {
		return nil
	}
	seen := rev // every Set up to seen was passed on, or came before the wait
	for {
		stop, err := s.watch(ctx, &seen, next)
		switch {
		case stop:
			return nil
		case !errors.Is(err, rpctypes.ErrCompacted):
			return err
		}
		data, rev, mod, err := s.read(ctx)
		if err != nil {
			return err
		}
		if data != nil && mod > seen && next(data) {
			return nil
		}
		seen = max(seen, rev)
	}
}

// watch watches the key from the revision after *seen, moving *seen on
// with every Set passed to next: stop when next said so, an error matching
// rpctypes.ErrCompacted when the history after *seen was compacted.
func (s *store) watch(ctx context.Context, seen *int64, next func([]byte) bool) (stop bool, _ error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range s.client.Watch(wctx, s.key, clientv3.WithRev(*seen+1), clientv3.WithFilterDelete()) {
		if resp.CompactRevision != 0 {
			return false, fmt.Errorf("%w (history compacted up to revision %d, watched from %d)", rpctypes.ErrCompacted, resp.CompactRevision, *seen+1)
		}
		if err := resp.Err(); err != nil {
			return false, err
		}
		for _, ev := range resp.Events {
			*seen = max(*seen, ev.Kv.ModRevision)
			if next(ev.Kv.Value) {
				return true, nil
			}
		}
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return false, errors.New("the watch ended")
}
