package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Event is a value-holding event shared through Redis: its value is kept,
// encoded with the codec (JSON by default), in the key Key returns
// (prefix:event:{name}), and each Set publishes it on the pub/sub channel of
// the same name in the same transaction, so that
// WaitForNext on every client wakes. Wait and WaitUntil subscribe, wait
// for Redis to confirm, then read the key, so a Set between the read and the
// wait is not missed. Waiting calls subscribe on the client's one pub/sub
// connection, shared with every Lock and Semaphore on the client, and
// unsubscribe when they return.
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

// NewEvent returns a handle on the event name over client. Its keys are
// prefix:event:{name} (the value, kept until Clear: it has no expiry while
// the event is set) and prefix:event:{name}:seq (the number of the last
// Set, expiring a minute after it: numbers keep rising without it).
func NewEvent[T any](client goredis.UniversalClient, name string, opts ...Option) (*Event[T], error) {
	if err := usable(client, name); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	key := baseKey(cfg.prefix, "event", name)
	s := &store{client: client, st: stateOf(client), key: key, seq: key + ":seq", retryMin: cfg.retryMin, retryMax: max(cfg.retryMax, time.Second), health: cfg.health}
	return &Event[T]{dist.NewEvent[T](s, fmt.Sprintf("redis event %q", name), name, cfg.codec, cfg.timeout), s.key}, nil
}

// store keeps an event in a key and a pub/sub channel of one name, and
// the number of its last Set in a key beside it.
type store struct {
	client             goredis.UniversalClient
	st                 *clientState
	key, seq           string
	retryMin, retryMax time.Duration // how a waiter cut off tries again
	health             time.Duration // how long a subscription may be silent before it is pinged
}

// putScript stores the value, numbers the Set (as a lock's tokens: never
// below the server's clock in µs, so numbers grow across a restart, and
// after the number's key expired, counterTTL after the last Set) and
// publishes "number value" on the event's channel.
var putScript = script(`
local n = mint(KEYS[2])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', KEYS[1], string.format('%.0f', n) .. ' ' .. ARGV[1])
return n
`)

func (s *store) Put(ctx context.Context, data []byte) error {
	return putScript.Run(ctx, s.client, []string{s.key, s.seq}, data).Err()
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

// read returns the value (nil when there is none) and the number of the
// last Set (0 when there was none).
func (s *store) read(ctx context.Context) ([]byte, int64, error) {
	vals, err := s.client.MGet(ctx, s.key, s.seq).Result()
	if err != nil {
		return nil, 0, err
	}
	var data []byte
	if v, ok := vals[0].(string); ok {
		data = []byte(v)
	}
	var n int64
	if v, ok := vals[1].(string); ok {
		n, _ = strconv.ParseInt(v, 10, 64)
	}
	return data, n, nil
}

// Follow subscribes (on the client's shared pub/sub connection), waits for
// the subscription's confirmation, reads the key when asked, then passes on
// what is published. The shared connection is pinged when silent for the
// health-check interval, and taken as dropped when the ping is not answered
// within another (a flow a NAT or a load balancer dropped gives no other
// sign). When it drops the waiter subscribes again, with a back-off, until
// ctx ends; once subscribed again it reads the key, and passes on its value
// if a Set was made while it was cut off (the latest of them, if there were
// several).
func (s *store) Follow(ctx context.Context, read bool, next func([]byte) bool) error {
	last := int64(-1) // the number of the last Set seen; -1 before the first subscription
	wait := s.retryMin
	for {
		stop, err := s.follow(ctx, &last, read, next)
		switch {
		case stop:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, goredis.ErrClosed):
			return err // nothing will ever answer
		}
		if last >= 0 {
			wait = s.retryMin // it was subscribed: the drop is news
		}
		t := time.NewTimer(wait + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, s.retryMax)
	}
}

// follow is one subscription: stop when next said so.
func (s *store) follow(ctx context.Context, last *int64, read bool, next func([]byte) bool) (stop bool, _ error) {
	sub, err := s.st.subscribe(ctx, s.client, s.key, s.health)
	if err != nil {
		return false, err
	}
	defer sub.leave()
	// The read is bounded as a ping is: the pooled connection it takes may
	// have gone silent too; go-redis closes one whose call timed out, and
	// the next subscription reads on another.
	rctx, cancel := context.WithTimeout(ctx, 2*s.health)
	data, n, err := s.read(rctx)
	cancel()
	if err != nil {
		return false, err
	}
	first := *last < 0
	fresh := n > *last // a Set made while cut off
	*last = max(*last, n)
	if data != nil && ((first && read) || (!first && fresh)) && next(data) {
		return true, nil
	}
	for {
		msgs, err := sub.next(ctx, 0)
		if err != nil {
			return false, err
		}
		for _, m := range msgs {
			num, value, ok := strings.Cut(m, " ")
			n, perr := strconv.ParseInt(num, 10, 64)
			if !ok || perr != nil {
				continue // not a Set of this library's
			}
			if n <= *last {
				continue // seen when the key was read
			}
			*last = n
			if next([]byte(value)) {
				return true, nil
			}
		}
	}
}
