package fixes

// Closer is meant to be a context manager and has nothing yet.
//
//mixin:kind context
type Closer struct{} // want `^mixin: can't compose fixes\.Closer as context: missing abstract method Exit$`
