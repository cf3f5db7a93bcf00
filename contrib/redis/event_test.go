package redis_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gomixin/mixin"
	"github.com/gomixin/mixin/adapters"
	"github.com/gomixin/mixin/contrib/redis"
	"github.com/gomixin/mixin/validate/conform"
)

type reading struct {
	Sensor string
	Value  float64
}

func TestEventConformsAcrossClients(t *testing.T) {
	need(t)
	name := unique(t)
	conform.Event(t, func() any {
		e, err := redis.NewEvent[reading](newClient(t, addr), name)
		require.NoError(t, err)
		return e
	}, func(i int) reading { return reading{Sensor: "s" + strconv.Itoa(i), Value: float64(i) / 2} },
		conform.Handles(), conform.WithWaiters(8))
}

func TestEventSetOnOneClientWakesWaiterOnAnother(t *testing.T) {
	need(t)
	name := unique(t)
	setter, err := redis.NewEvent[string](newClient(t, addr), name)
	require.NoError(t, err)
	waiter, err := redis.NewEvent[string](newClient(t, addr), name)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	got := make(chan string, 1)
	go func() {
		v, err := waiter.WaitUntil(ctx, func(s string) bool { return s == "ready" })
		assert.NoError(t, err)
		got <- v
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, setter.Set("starting"))
	require.NoError(t, setter.Set("ready"))
	assert.Equal(t, "ready", <-got)

	v, err := waiter.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ready", v, "Wait returns the value held")
}

func TestEventWaitEndsWithItsCtx(t *testing.T) {
	need(t)
	e, err := redis.NewEvent[int](newClient(t, addr), unique(t))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = e.WaitForNext(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)

	cctx, ccancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, ccancel) // a cancel, not a deadline
	_, err = e.Wait(cctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// tagged is a codec of the user's: JSON behind a version tag, to show the
// codec given is the one used.
type tagged struct{}

func (tagged) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append([]byte("v1:"), b...), err
}

func (tagged) Unmarshal(data []byte, v any) error {
	if len(data) < 3 || string(data[:3]) != "v1:" {
		return assert.AnError
	}
	return json.Unmarshal(data[3:], v)
}

func TestEventUsesTheCodecGiven(t *testing.T) {
	need(t)
	c := newClient(t, addr)
	name := unique(t)
	e, err := redis.NewEvent[int](c, name, redis.WithCodec(tagged{}))
	require.NoError(t, err)
	require.NoError(t, e.Set(7))
	raw, err := c.Get(context.Background(), name).Result()
	require.NoError(t, err)
	assert.Equal(t, "v1:7", raw)
	got, err := e.Get()
	require.NoError(t, err)
	assert.Equal(t, 7, got)

	plain, err := redis.NewEvent[int](c, name) // JSON cannot read it
	require.NoError(t, err)
	_, err = plain.Get()
	assert.ErrorContains(t, err, "decode")
}

func TestEventComposesWithNoAdapter(t *testing.T) {
	need(t)
	name := unique(t)
	v, err := redis.NewEvent[string](newClient(t, addr), name)
	require.NoError(t, err)
	c, err := mixin.Compose(v)
	require.NoError(t, err)
	ev, ok := c.Event()
	require.True(t, ok, "kinds: %v", c.Kinds())
	require.NoError(t, ev.TrySet("x"))
	assert.ErrorIs(t, ev.TrySet(1), adapters.ErrType)
	got, err := ev.Get()
	require.NoError(t, err)
	assert.Equal(t, "x", got)
	ev.Clear()
	assert.False(t, ev.IsSet())
}
