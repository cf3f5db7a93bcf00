// Package ticketlock shows how a user tests an implementation of their own
// against this library: ticketlock_test.go checks TicketLock's method set
// with validate.Implements and its behaviour with the conform suites.
package ticketlock

import (
	"context"
	"sync"
)

// TicketLock is a fair lock: waiters are served in the order they came.
// Its zero value is not usable; use New.
type TicketLock struct {
	mu      sync.Mutex
	next    uint64 // the next ticket to hand out
	serving uint64 // the ticket being served
	wake    chan struct{}
	gaveUp  map[uint64]bool
}

// New returns a free TicketLock.
func New() *TicketLock { return &TicketLock{wake: make(chan struct{}), gaveUp: map[uint64]bool{}} }

// Acquire takes a ticket and waits for its turn until ctx ends.
func (l *TicketLock) Acquire(ctx context.Context) (bool, error) {
	l.mu.Lock()
	ticket := l.next
	l.next++
	for ticket != l.serving {
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			l.mu.Lock()
			if ticket == l.serving { // our turn came as we left: pass it on
				l.advanceLocked()
			} else {
				l.gaveUp[ticket] = true
			}
			l.mu.Unlock()
			return false, ctx.Err()
		}
		l.mu.Lock()
	}
	l.mu.Unlock()
	return true, nil
}

// Release serves the next ticket.
func (l *TicketLock) Release(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked()
	return nil
}

func (l *TicketLock) advanceLocked() {
	l.serving++
	for l.gaveUp[l.serving] {
		delete(l.gaveUp, l.serving)
		l.serving++
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// Locked reports whether a ticket is being served by a holder.
func (l *TicketLock) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.serving != l.next
}
