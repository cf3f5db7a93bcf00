package validate

import (
	"reflect"
	"sort"

	"github.com/gomixin/mixin/internal/typecache"
)

// methodInfo is one exported method of a type: its index in the type's method
// set and its signature without the receiver.
type methodInfo struct {
	index int
	sig   reflect.Type
}

// typeInfo is what one scan of a type's method set finds.
type typeInfo struct {
	t       reflect.Type
	methods map[string]methodInfo
	// ptrOnly holds methods that only *t has (t is not a pointer or interface).
	ptrOnly map[string]reflect.Type
	names   []string // sorted names of methods, for near-miss hints
	name    string   // the type's name in messages when t is nil (synthetic types)
}

var infos typecache.Cache[*typeInfo]

// infoOf returns the cached method information of t, scanning it on first sight.
func infoOf(key typecache.Key, t reflect.Type) *typeInfo {
	return infos.Get(key, func() *typeInfo { return scan(t) })
}

// scan reads t's method set once. It is the only place that walks methods.
func scan(t reflect.Type) *typeInfo {
	typecache.CountScan()
	info := &typeInfo{t: t, methods: map[string]methodInfo{}}
	if t == nil {
		return info
	}
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		info.methods[m.Name] = methodInfo{index: i, sig: stripReceiver(t, m.Type)}
		info.names = append(info.names, m.Name)
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		pt := reflect.PointerTo(t)
		for i := 0; i < pt.NumMethod(); i++ {
			m := pt.Method(i)
			if _, ok := info.methods[m.Name]; ok {
				continue
			}
			if info.ptrOnly == nil {
				info.ptrOnly = map[string]reflect.Type{}
			}
			info.ptrOnly[m.Name] = stripReceiver(pt, m.Type)
		}
	}
	sort.Strings(info.names)
	return info
}

// stripReceiver returns the method type without its receiver parameter.
func stripReceiver(t, mt reflect.Type) reflect.Type {
	if t.Kind() == reflect.Interface {
		return mt
	}
	in := make([]reflect.Type, 0, mt.NumIn()-1)
	for i := 1; i < mt.NumIn(); i++ {
		in = append(in, mt.In(i))
	}
	out := make([]reflect.Type, 0, mt.NumOut())
	for i := 0; i < mt.NumOut(); i++ {
		out = append(out, mt.Out(i))
	}
	return reflect.FuncOf(in, out, mt.IsVariadic())
}

// syntheticInfo builds a typeInfo from a method table, for tests and fuzzing
// of the matcher without a real type.
func syntheticInfo(name string, methods map[string]reflect.Type) *typeInfo {
	info := &typeInfo{methods: map[string]methodInfo{}, name: name}
	i := 0
	for n, sig := range methods {
		info.methods[n] = methodInfo{index: i, sig: sig}
		info.names = append(info.names, n)
		i++
	}
	sort.Strings(info.names)
	return info
}
