package etcd

import "github.com/gomixin/mixin/contrib/internal/dist"

// baseKey is the key of a kind's name: prefix/kind/name, with '%' and '/'
// escaped in the prefix and the name, so that the kinds have namespaces of
// their own and no name's key is another's or begins another's (a lock's
// holds are the keys under baseKey + "/").
func baseKey(prefix, kind, name string) string {
	return dist.Escape(prefix, "/") + "/" + kind + "/" + dist.Escape(name, "/")
}
