package legacyq_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/examples/plugins/legacyq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestShutdownClosesTheClient(t *testing.T) {
	q := legacyq.Connect("jobs")
	assert.True(t, q.Open())
	assert.NoError(t, q.Publish("hello"))
	q.Shutdown(false)
	assert.False(t, q.Open())
	assert.EqualError(t, q.Publish("late"), "legacyq: jobs is shut down")
}
