package adapters_test

import (
	"fmt"
	"sync/atomic"
)

func sprintfPlus(v any) string { return fmt.Sprintf("%+v", v) }

// raise32 raises m to n if n is higher: the peak of a running count.
func raise32(m *atomic.Int32, n int32) {
	for {
		cur := m.Load()
		if n <= cur || m.CompareAndSwap(cur, n) {
			return
		}
	}
}
