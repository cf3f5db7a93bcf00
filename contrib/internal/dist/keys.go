package dist

import (
	"fmt"
	"strings"
)

// DefaultPrefix is the application prefix of every key the engines make,
// unless a WithPrefix option sets another.
const DefaultPrefix = "mixin"

// Escape returns s with '%' and every byte of special written as %XX (the
// byte in hex), so that an escaped name holds none of the separators a key
// layout puts around it: two names escape to strings that differ, and
// neither is the other's prefix once a separator follows it.
func Escape(s, special string) string {
	if !strings.ContainsAny(s, "%"+special) {
		return s
	}
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if c == '%' || strings.IndexByte(special, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
