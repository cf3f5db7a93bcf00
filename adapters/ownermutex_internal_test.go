package adapters

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A waiter woken only to lose to a newly arriving task goes back to its place
// in the queue, not to its end, so that a starvation hand-over reaches the
// longest-waiting task (issue 20, item 15).
func TestOwnerMutexRequeuedWaiterKeepsItsPlace(t *testing.T) {
	m := NewOwnerMutex()
	t0 := time.Now()
	first := &ownerWaiter{task: 1, since: t0}
	second := &ownerWaiter{task: 2, since: t0.Add(time.Millisecond)}
	third := &ownerWaiter{task: 3, since: t0.Add(2 * time.Millisecond)}
	m.enqueueLocked(first)
	m.enqueueLocked(second)
	m.enqueueLocked(third)
	w := m.popLocked() // woken, and it lost the mutex to a newcomer
	assert.Same(t, first, w)
	m.enqueueLocked(w)
	assert.Equal(t, []*ownerWaiter{first, second, third}, m.waiters)
	assert.Equal(t, int32(3), m.nwait.Load())
}
