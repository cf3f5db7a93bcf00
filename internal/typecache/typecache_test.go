package typecache_test

import (
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/gomixin/mixin/internal/typecache"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCacheComputesOncePerKey(t *testing.T) {
	var c typecache.Cache[int]
	var computed atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := c.Get(typecache.KeyOf(&sync.Mutex{}, nil), func() int { computed.Add(1); return 7 })
			assert.Equal(t, 7, got)
		}()
	}
	wg.Wait()
	assert.GreaterOrEqual(t, computed.Load(), int32(1))
	assert.Equal(t, 1, c.Len())
	before := computed.Load()
	c.Get(typecache.KeyOf(&sync.Mutex{}, nil), func() int { computed.Add(1); return 8 })
	assert.Equal(t, before, computed.Load(), "a seen key is not recomputed")
}

func TestKeysTellTypesApart(t *testing.T) {
	assert.NotEqual(t, typecache.KeyOf(&sync.Mutex{}, nil), typecache.KeyOf(sync.Mutex{}, nil))
	assert.NotEqual(t, typecache.KeyOf(1, nil), typecache.KeyOf(1, reflect.TypeFor[int]()))
	assert.Equal(t, typecache.KeyOf(1, nil), typecache.KeyOf(2, nil))
}
