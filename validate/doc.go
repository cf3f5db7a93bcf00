// Package validate is the ABC engine: Python's abstract-method check at
// instantiation, for Go values checked at run time.
//
// A [Spec] names a kind and lists its [Method]s; each method accepts one or
// more shapes (function types without receiver, in which the placeholder [T]
// stands for the value type). [Check] refuses a value with one
// [*AbstractError] that lists every problem of every spec: missing methods
// (with "but does have method Unlock" and "did you mean" hints), signatures
// that fit no shape, methods only the pointer type has, nil values. [Missing]
// is Python's __abstractmethods__, [Satisfies] a yes or no, [Bind] says how a
// value satisfies a spec, and [Implements] is for tests, on testify.
//
// The method scan of a type is done once and cached by the type's identity.
package validate
