package ticketlock_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
	ticketlock "github.com/gomixin/mixin/examples/testing"
	"github.com/gomixin/mixin/validate"
	"github.com/gomixin/mixin/validate/conform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The method set: the ABC check, with every problem listed on failure.
func TestTicketLockHasTheLockMethods(t *testing.T) {
	validate.Implements(t, ticketlock.New(), adapters.LockSpec())
}

// The behaviour: mutual exclusion, Locked, wake-ups, cancellation.
func TestTicketLockBehavesAsALock(t *testing.T) {
	conform.Lock(t, func() any { return ticketlock.New() })
}
