package benchmarks

// held is where values pass on their way to a direct loop, as a plugin host
// gets them: typed any, known only at run time.
var held any

// through returns v as I by way of a package-level any and a func the
// compiler may not inline, so that it cannot see v's concrete type and
// devirtualize the calls: what a caller that never compiled against the
// value's type pays. The direct references use it; the direct-static ones
// assign the concrete value to a local interface instead, which the compiler
// can see through: the floor.
func through[I any](v any) I {
	held = opaque(v)
	return held.(I)
}

//go:noinline
func opaque(v any) any { return v }
