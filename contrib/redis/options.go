package redis

import (
	"time"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Codec turns an event's values into the bytes Redis stores, and back.
// Any value with these two methods will do; JSON is the default.
type Codec interface {
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer.
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec: encoding/json.
var JSON Codec = dist.JSON

// Option configures a Lock, a Semaphore or an Event.
type Option func(*config)

type config struct {
	expiry   time.Duration
	timeout  time.Duration
	retryMin time.Duration
	retryMax time.Duration
	health   time.Duration
	codec    Codec
	prefix   string
	// allowEviction: AllowEviction.
	allowEviction bool
}

// Defaults.
const (
	// DefaultExpiry is a lock's lease: how long the key outlives a holder
	// that stopped refreshing it (redsync's default too).
	DefaultExpiry = 8 * time.Second
	// DefaultTimeout bounds the calls made without a ctx: a Lock's Locked,
	// an Event's Set, Get, IsSet and Clear.
	DefaultTimeout = 5 * time.Second
	// DefaultHealthCheck is how long an event's waiter lets its
	// subscription be silent before it pings it (go-redis's channel helper
	// uses the same).
	DefaultHealthCheck = 3 * time.Second
)

func newConfig(opts []Option) config {
	c := config{expiry: DefaultExpiry, timeout: DefaultTimeout, retryMin: time.Millisecond, retryMax: 32 * time.Millisecond, health: DefaultHealthCheck, codec: JSON, prefix: dist.DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// WithExpiry sets a lock's or a semaphore's lease (default DefaultExpiry).
// The lease is refreshed every third of it while held; a holder that cannot
// refresh it before it runs out is told it lost the lock. A waiter's place
// in the queue lasts as long without a word from it, and is moved on every
// third of it.
func WithExpiry(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.expiry = d
		}
	}
}

// WithTimeout bounds the calls made without a ctx (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithRetry sets how an Acquire waiting for a held lock (or semaphore)
// tries again (default 1ms to 32ms). It is woken by the release when its
// turn comes (pub/sub); the first waiter in the queue also tries every max,
// to notice a lease that ran out with no release. When Redis refuses the
// subscription, or an attempt fails, it polls, first after min, the wait
// doubling up to max. Every wait has up to half of it
// added at random. An event's waiter cut off from Redis subscribes again
// with the same back-off, from min to at least a second.
func WithRetry(min, max time.Duration) Option {
	return func(c *config) {
		if min > 0 && max >= min {
			c.retryMin, c.retryMax = min, max
		}
	}
}

// WithCodec sets an event's codec (default JSON).
func WithCodec(codec Codec) Option {
	return func(c *config) {
		if codec != nil {
			c.codec = codec
		}
	}
}

// WithPrefix sets the application prefix of the keys (default "mixin"), so
// that applications sharing a Redis can use the same names apart. Locks and
// events made with different prefixes never exclude or wake each other.
func WithPrefix(prefix string) Option {
	return func(c *config) {
		if prefix != "" {
			c.prefix = prefix
		}
	}
}

// AllowEviction lets a Lock acquire on a Redis that can evict its key (a
// maxmemory with an eviction policy other than noeviction), which Acquire
// and TryAcquire otherwise refuse with ErrEvictionPolicy. It is unsafe: an
// evicted key lets another handle acquire at once while the holder still
// believes it holds the lock, until its next refresh (a third of the
// lease) finds the key gone. Use it only where the lock's keys cannot be
// evicted for a reason Redis does not show (a memory limit never reached).
func AllowEviction() Option {
	return func(c *config) { c.allowEviction = true }
}

// WithHealthCheck sets how long an event's waiter lets its subscription's
// connection be silent before it sends a PING on it (default
// DefaultHealthCheck); when no answer comes within as long again, the
// connection is taken as dropped (a flow a NAT or a load balancer dropped,
// which gives no other sign) and the waiter subscribes again on a new one,
// reading the key for a Set it missed.
func WithHealthCheck(every time.Duration) Option {
	return func(c *config) {
		if every > 0 {
			c.health = every
		}
	}
}
