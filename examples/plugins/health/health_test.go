package health_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/examples/plugins/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCheck(t *testing.T) {
	assert.NoError(t, health.Database{Up: true}.Check(context.Background()))
	assert.EqualError(t, health.Database{}.Check(context.Background()), "database: no answer")
}
