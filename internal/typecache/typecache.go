// Package typecache is a concurrent cache keyed by a value's dynamic type identity.
//
// Reflection over a type is done once; later values of the same type find the
// result here with one map look-up and no method scan.
package typecache

import (
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/modern-go/reflect2"
)

// Key identifies a dynamic type, optionally refined by a second type (the T of a
// generic proxy). The zero Key stands for the untyped nil.
type Key struct {
	RType uintptr
	Extra reflect.Type
}

// KeyOf returns the Key of v's dynamic type, refined by extra (which may be nil).
func KeyOf(v any, extra reflect.Type) Key {
	return Key{RType: reflect2.RTypeOf(v), Extra: extra}
}

// Cache maps type keys to values computed once per key. The zero Cache is ready to use.
type Cache[V any] struct {
	m sync.Map // Key -> V
}

// Get returns the value cached for k, computing it with compute on first sight.
// Two goroutines racing on a new key may both compute; one result wins and is kept.
func (c *Cache[V]) Get(k Key, compute func() V) V {
	if v, ok := c.m.Load(k); ok {
		return v.(V)
	}
	v, _ := c.m.LoadOrStore(k, compute())
	return v.(V)
}

// Len reports how many keys are cached (for tests).
func (c *Cache[V]) Len() int {
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	return n
}

var scans atomic.Int64

// CountScan records one reflective scan of a type's method set.
func CountScan() { scans.Add(1) }

// Scans reports how many method-set scans have run in this process, so that
// tests can show a seen type is not scanned again.
func Scans() int64 { return scans.Load() }
