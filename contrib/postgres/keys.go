package postgres

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// key is the row key of a name: prefix/name, with '%' and '/' escaped in
// the prefix and the name, so that no two (prefix, name) pairs share a key.
// Each kind has a table of its own: a lock and an event of one name never
// meet.
func key(prefix, name string) string {
	return dist.Escape(prefix, "/") + "/" + dist.Escape(name, "/")
}

// channel is the LISTEN/NOTIFY channel of a kind's key in a schema:
// mixin_<kind>_ and 32 hex digits of a SHA-256 of the three, within
// PostgreSQL's 63 bytes whatever the name's length. Two keys sharing a
// channel (a 128-bit collision) would only wake each other's waiters,
// which then look and wait again.
func channel(schema, kind, key string) string {
	sum := sha256.Sum256([]byte(schema + "\x00" + kind + "\x00" + key))
	return "mixin_" + kind + "_" + hex.EncodeToString(sum[:16])
}
