package config_test

import (
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/gomixin/mixin/examples/plugins/config"
	"github.com/gomixin/mixin/validate/conform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The plugin's authors check that Config behaves as an event: every waiter
// woken by a reload, WaitForNext waiting for the next one, Get before any.
func TestConfigIsAnEvent(t *testing.T) {
	conform.Event[map[string]string](t, func() any { return config.New() },
		func(i int) map[string]string { return map[string]string{"version": strconv.Itoa(i)} })
}
