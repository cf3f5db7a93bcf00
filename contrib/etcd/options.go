package etcd

import (
	"time"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Codec turns an event's values into the bytes etcd stores, and back.
// Any value with these two methods will do; JSON is the default.
type Codec interface {
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer.
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec: encoding/json.
var JSON Codec = dist.JSON

// Option configures a Lock or an Event.
type Option func(*config)

type config struct {
	ttl     int
	timeout time.Duration
	codec   Codec
	prefix  string
}

// Defaults.
const (
	// DefaultTTL is a lock's lease in seconds: how long the key outlives a
	// holder that stopped refreshing it (etcd's concurrency package's
	// default too).
	DefaultTTL = 60
	// DefaultTimeout bounds the calls made without a ctx: a Lock's Locked,
	// an Event's Set, Get, IsSet and Clear.
	DefaultTimeout = 5 * time.Second
)

func newConfig(opts []Option) config {
	c := config{ttl: DefaultTTL, timeout: DefaultTimeout, codec: JSON, prefix: dist.DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// WithTTL sets a lock's lease in seconds (default DefaultTTL; etcd refuses
// a TTL shorter than its minimum, 1s with the fastest election settings).
// The lease is kept alive by the client while held; a holder whose lease
// expires is told it lost the lock.
func WithTTL(seconds int) Option {
	return func(c *config) {
		if seconds > 0 {
			c.ttl = seconds
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

// WithCodec sets an event's codec (default JSON).
func WithCodec(codec Codec) Option {
	return func(c *config) {
		if codec != nil {
			c.codec = codec
		}
	}
}

// WithPrefix sets the application prefix of the keys (default "mixin"), so
// that applications sharing an etcd can use the same names apart. Locks and
// events made with different prefixes never exclude or wake each other.
func WithPrefix(prefix string) Option {
	return func(c *config) {
		if prefix != "" {
			c.prefix = prefix
		}
	}
}
