package adapters

// Waiters reports how many callers wait on the context-less Wait in flight.
func Waiters[T any](a *Awaitable[T]) int {
	if a.fl == nil {
		return 0
	}
	a.fl.mu.Lock()
	defer a.fl.mu.Unlock()
	c := a.fl.cur.Load()
	if c == nil {
		return 0
	}
	return c.waiters
}

// InFlight reports whether a context-less Wait is still running.
func InFlight[T any](a *Awaitable[T]) bool {
	if a.fl == nil {
		return false
	}
	a.fl.mu.Lock()
	defer a.fl.mu.Unlock()
	c := a.fl.cur.Load()
	return c != nil && !c.finished
}

// AttachObserver is the Composer's hook: it gives a proxy an observer after
// it was made.
var AttachObserver = observeProxy
