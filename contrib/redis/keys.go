package redis

import "github.com/gomixin/mixin/contrib/internal/dist"

// baseKey is the key of a kind's name, the stem of its other keys:
// prefix:kind:{name}, with '%', ':', '{' and '}' escaped in the prefix and
// the name. The kinds have namespaces of their own, no name's key is
// another's or begins another's, and the braces are a Redis Cluster hash
// tag: all the keys of one lock or one event live in one slot.
func baseKey(prefix, kind, name string) string {
	const special = ":{}"
	return dist.Escape(prefix, special) + ":" + kind + ":{" + dist.Escape(name, special) + "}"
}
