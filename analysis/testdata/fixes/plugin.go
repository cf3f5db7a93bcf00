package fixes

import "github.com/gomixin/mixin/adapters"

// Closer is meant to be a context manager and has nothing yet.
//
//mixin:kind context
type Closer struct{} // want `^mixin: can't compose fixes\.Closer as context: missing abstract method Exit, or instead Shutdown \(a graceful server\), GracefulStop and Stop \(a graceful stopper\), Close \(io\.Closer\) or Stop \(a stopper\)$`

// Flag has an event's Clear only; NewEvent[bool] fixes T.
type Flag struct{}

func (*Flag) Clear() {}

func newFlag() {
	adapters.NewEvent[bool](&Flag{}) // want `^mixin: can't compose \*fixes\.Flag as event: missing abstract methods Get, IsSet, Set, WaitForNext$`
}
