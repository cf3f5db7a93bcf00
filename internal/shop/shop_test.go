package shop_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/internal/shop"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The fixtures behave as their doc comments say, so that tests built on them
// test the library and not the fixtures.
func TestFixtures(t *testing.T) {
	s := &shop.Store{}
	ok, err := s.Acquire(context.Background())
	assert.True(t, ok)
	assert.NoError(t, err)
	assert.True(t, s.Locked())
	assert.NoError(t, s.Release(context.Background()))
	assert.False(t, s.Locked())

	j := shop.NewJob(3)
	close(j.Release)
	v, err := j.Wait()
	assert.Equal(t, 3, v)
	assert.NoError(t, err)
	assert.Equal(t, 1, j.CallCount())
}
