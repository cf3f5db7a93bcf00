package adapters_test

import (
	"testing"

	"github.com/gomixin/mixin/adapters"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The fault matrix makes foreign code fail where nobody waits, by the
	// thousand: the default handler would log each one. Tests that look at
	// faults set a handler of their own.
	adapters.SetFaultHandler(func(adapters.Fault) {})
	goleak.VerifyTestMain(m)
}
