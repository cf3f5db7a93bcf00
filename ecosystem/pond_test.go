package ecosystem_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
)

// pond's Pool has Stop() pond.Task: a context whose Exit stops the pool and
// awaits the task that completes when the queued work has drained, bounded
// by Exit's ctx (issue 24, item 2).
func TestPondPoolExitDrainsIt(t *testing.T) {
	pool := pond.NewPool(2)
	c, err := mixin.Compose(pool, mixin.Require(mixin.KindContext))
	require.NoError(t, err)
	cm, _ := c.Context()
	var ran atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, cm.Do(ctx, func(_ context.Context, v any) error {
		for range 10 {
			v.(pond.Pool).Submit(func() { time.Sleep(time.Millisecond); ran.Add(1) })
		}
		return nil
	}))
	assert.Equal(t, int32(10), ran.Load(), "Exit returned once every queued task ran")
	assert.True(t, pool.Stopped())
}
