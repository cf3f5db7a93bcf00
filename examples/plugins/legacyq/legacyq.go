// Package legacyq is a foreign type the host cannot change: a queue client
// whose Shutdown takes a flag, so it fits no kind as it is. The host adapts
// it with Registry.Adapt.
package legacyq

import "fmt"

// Queue is an old queue client.
type Queue struct {
	Name string
	open bool
}

// Connect opens a queue client.
func Connect(name string) *Queue { return &Queue{Name: name, open: true} }

// Publish sends a message.
func (q *Queue) Publish(msg string) error {
	if !q.open {
		return fmt.Errorf("legacyq: %s is shut down", q.Name)
	}
	fmt.Printf("  [%s] %s\n", q.Name, msg)
	return nil
}

// Shutdown closes the client, draining first unless force.
func (q *Queue) Shutdown(force bool) { q.open = false }

// Open reports whether the client is usable.
func (q *Queue) Open() bool { return q.open }
