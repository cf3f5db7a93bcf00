// Package observex lets package mixin give the proxies it composes an
// observer, through a hook package adapters sets, without widening the
// adapters API.
package observex

// Attach gives proxy (one of the adapters package's) the observer o (an
// adapters.Observer; nil: Stats only) and name, before the proxy is shared.
// It reports false for a proxy it does not know. Package adapters sets it.
var Attach func(proxy any, o any, name string) bool
