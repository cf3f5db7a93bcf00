// Package config is a plugin: a configuration holder whose reloads waiters
// can wait for. It has the event methods, written by its authors without
// knowing the host.
package config

import (
	"context"
	"sync"
)

// Config holds the current settings and wakes waiters on every reload. The
// directive below has mixinvet check, in this package, that *Config
// composes as an event (and so as an awaitable).
//
//mixin:kind event awaitable
type Config struct {
	mu      sync.Mutex
	cur     map[string]string
	set     bool
	waiters []chan map[string]string
}

// New returns an empty Config.
func New() *Config { return &Config{} }

// Set installs new settings and wakes every waiter.
func (c *Config) Set(v map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur, c.set = v, true
	for _, w := range c.waiters {
		w <- v
	}
	c.waiters = nil
}

// Get returns the settings, and false before the first Set.
func (c *Config) Get() (map[string]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur, c.set
}

// IsSet reports whether settings were loaded.
func (c *Config) IsSet() bool { _, ok := c.Get(); return ok }

// Clear forgets the settings.
func (c *Config) Clear() { c.mu.Lock(); c.cur, c.set = nil, false; c.mu.Unlock() }

// WaitForNext waits for the next reload.
func (c *Config) WaitForNext(ctx context.Context) (map[string]string, error) {
	ch := make(chan map[string]string, 1)
	c.mu.Lock()
	c.waiters = append(c.waiters, ch)
	c.mu.Unlock()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
