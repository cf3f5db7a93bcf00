package memlock_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/examples/plugins/memlock"
	"github.com/gomixin/mixin/validate/conform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The plugin's authors check that their mutex behaves as a lock, as the host
// will use it: mutual exclusion, cancellation, Locked telling the truth.
func TestMutexIsALock(t *testing.T) {
	conform.Lock(t, func() any { return memlock.New("orders") })
}

func TestUnlockOfAFreeMutexIsAnError(t *testing.T) {
	m := memlock.New("orders")
	assert.EqualError(t, m.Unlock(context.Background()), "memlock: orders is not locked")
}
