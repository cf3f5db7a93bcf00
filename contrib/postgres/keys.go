package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

// key is the row key of a name: prefix/name, with '%' and '/' escaped in
// the prefix and the name, so that no two (prefix, name) pairs share a key.
// Each kind has a table of its own: a lock and an event of one name never
// meet. A key is text, which PostgreSQL refuses with a NUL or with bytes
// that are not UTF-8: those are escaped too, so that any Go string names a
// lock, as it does on the other engines.
func key(prefix, name string) string {
	return escape(prefix) + "/" + escape(name)
}

// escape is dist.Escape(s, "/"), with NUL and every byte of s that is not
// part of a UTF-8 sequence written as %XX as well (each '%' of the result
// still begins an escape, so two strings never escape alike).
func escape(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return dist.Escape(s, "/")
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == 0 || r == '%' || r == '/' || r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, "%%%02X", s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
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
