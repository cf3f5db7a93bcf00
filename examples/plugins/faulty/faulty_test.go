package faulty_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/examples/plugins/faulty"
	"github.com/gomixin/mixin/validate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// What the ABC check tells this plugin's authors: every problem at once.
func TestPluginIsNotALock(t *testing.T) {
	err := validate.Check(faulty.Plugin{}, adapters.LockSpec()) //mixin:ignore the refusal is what this test checks
	var ae *validate.AbstractError
	require.True(t, errors.As(err, &ae), "want *validate.AbstractError, got %v", err)
	assert.ErrorIs(t, err, validate.ErrAbstract)
	assert.Equal(t, []string{"Release", "Locked"}, ae.Missing)
	assert.Contains(t, err.Error(), "Acquire has signature func(context.Context) int")
	assert.Contains(t, err.Error(), "Relase")
}
