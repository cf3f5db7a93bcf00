// Package faulty is a plugin that claims to be a lock but gets it wrong:
// Acquire returns a ticket, Relase is misspelt, Locked is missing, and its
// Check has a pointer receiver.
package faulty

import "context"

// Plugin is the faulty plugin.
type Plugin struct{ tickets int }

// Acquire returns a ticket instead of reporting success.
func (p Plugin) Acquire(context.Context) int { return p.tickets + 1 }

// Relase is Release misspelt.
func (Plugin) Relase(context.Context) error { return nil }

// Check is on the pointer type only.
func (*Plugin) Check(context.Context) error { return nil }
