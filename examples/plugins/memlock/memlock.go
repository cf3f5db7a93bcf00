// Package memlock is a plugin: an in-process named lock in the shape of
// etcd's concurrency.Mutex (Lock(ctx) error, Unlock(ctx) error). It is not a
// distributed lock: it excludes goroutines of one process only.
package memlock

import (
	"context"
	"errors"
)

// Mutex is a named in-process lock. The directive below has mixinvet check,
// in this package, that *Mutex composes as a lock.
//
//mixin:kind lock
type Mutex struct {
	name string
	slot chan struct{}
}

// New returns a Mutex named name.
func New(name string) *Mutex { return &Mutex{name: name, slot: make(chan struct{}, 1)} }

// Lock waits for the lock until ctx ends.
func (m *Mutex) Lock(ctx context.Context) error {
	select {
	case m.slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Unlock gives the lock back.
func (m *Mutex) Unlock(context.Context) error {
	select {
	case <-m.slot:
		return nil
	default:
		return errors.New("memlock: " + m.name + " is not locked")
	}
}
