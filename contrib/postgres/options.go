package postgres

import (
	"time"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// Codec turns an event's values into the bytes PostgreSQL stores, and back.
// Any value with these two methods will do; JSON is the default.
type Codec interface {
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer.
	Unmarshal(data []byte, v any) error
}

// JSON is the default codec: encoding/json.
var JSON Codec = dist.JSON

// Option configures a Lock, an Event or Setup.
type Option func(*config)

type config struct {
	lease    time.Duration
	timeout  time.Duration
	retryMin time.Duration
	retryMax time.Duration
	codec    Codec
	prefix   string
	schema   string // "": the connection's search_path
}

// Defaults.
const (
	// DefaultLease is a lock's lease: how long its row outlives a holder
	// that stopped refreshing it, by the server's clock.
	DefaultLease = 10 * time.Second
	// DefaultTimeout bounds the calls made without a ctx: a Lock's Locked,
	// an Event's Set, Get, IsSet and Clear.
	DefaultTimeout = 5 * time.Second
)

func newConfig(opts []Option) config {
	c := config{lease: DefaultLease, timeout: DefaultTimeout, retryMin: 5 * time.Millisecond, retryMax: 250 * time.Millisecond, codec: JSON, prefix: dist.DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// WithLease sets a lock's lease (default DefaultLease; at least a
// millisecond). The lease is refreshed every third of it while held; a
// holder that cannot refresh it before it runs out is told it lost the
// lock. Expiry is by the server's clock (clock_timestamp()), never the
// client's.
func WithLease(d time.Duration) Option {
	return func(c *config) {
		if d >= time.Millisecond {
			c.lease = d
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

// WithRetry sets how a waiter looks again while its process cannot listen
// (its listening connection is not open yet, or is being opened again): an
// Acquire tries, an event's waiter reads the row, first after min, the wait
// doubling up to max (default 5ms to 250ms), with up to half of it added at
// random; a waiter whose statements fail backs off the same way, an event's
// up to at least a second. While the process listens, a lock's waiter is
// woken by the release and otherwise looks again only when the holder's
// lease could have run out; an event's waiter is woken by the Set, and reads
// the row every 15 s all the same.
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
// that applications sharing a database can use the same names apart. Locks
// and events made with different prefixes never exclude or wake each other.
func WithPrefix(prefix string) Option {
	return func(c *config) {
		if prefix != "" {
			c.prefix = prefix
		}
	}
}

// WithSchema puts the tables and sequences in schema (created by Setup or on
// first use when missing) instead of the first schema of the connection's
// search_path.
func WithSchema(schema string) Option {
	return func(c *config) {
		if schema != "" {
			c.schema = schema
		}
	}
}
