package redis

import (
	"runtime"
	"testing"
	"time"
	"weak"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// registered reports whether the registry holds a state for key.
func registered(key any) bool {
	registry.Lock()
	defer registry.Unlock()
	_, ok := registry.states[key]
	return ok
}

// TestTheRegistryForgetsACollectedClient: the per-client state (its shared
// pub/sub connection, its dial hook) is keyed by a weak pointer: handing a
// client to NewLock does not keep it alive, and its entry goes once it is
// collected. One client is seen once, however many handles are made on it.
func TestTheRegistryForgetsACollectedClient(t *testing.T) {
	var key weak.Pointer[goredis.Client]
	func() {
		c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
		key = weak.Make(c)
		for range 3 {
			_, err := NewLock(c, "x")
			require.NoError(t, err)
		}
		_, err := NewEvent[int](c, "x")
		require.NoError(t, err)
		assert.True(t, registered(key), "the client has an entry")
		assert.Same(t, stateOf(c), stateOf(c), "one entry per client")
		require.NoError(t, c.Close())
	}()
	assert.Eventually(t, func() bool {
		runtime.GC()
		return !registered(key)
	}, 10*time.Second, 10*time.Millisecond, "the collected client's entry is gone")
}
