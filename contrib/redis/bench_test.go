package redis_test

import (
	"testing"

	"github.com/gomixin/mixin/contrib/internal/disttest"
)

// BenchmarkDo: Do through the proxy (two round trips: the acquire script,
// which mints the fencing token, and the release script). The same beside
// redsync called by hand is examples/compare's BenchmarkDo, in a module of
// its own so that redsync is no dependency of this one.
func BenchmarkDo(b *testing.B) {
	srv.Need(b)
	disttest.BenchDo(b, engine(), nil)
}

// BenchmarkContended: 2, 8 and 32 handles on clients of their own.
func BenchmarkContended(b *testing.B) {
	srv.Need(b)
	disttest.BenchContended(b, engine())
}

// BenchmarkSemaphore: a semaphore of 4 permits taken by 8 and 32 handles on
// clients of their own.
func BenchmarkSemaphore(b *testing.B) {
	srv.Need(b)
	disttest.BenchSemaphore(b, engine(), 4)
}
