package postgres

import "time"

// SweepSoon makes released rows sweepable after kept, and every release
// sweep, until the returned func restores the defaults.
func SweepSoon(kept time.Duration) (restore func()) {
	sweptMu.Lock()
	defer sweptMu.Unlock()
	k, e := rowsKept, sweepEvery
	rowsKept, sweepEvery = kept, 0
	return func() {
		sweptMu.Lock()
		defer sweptMu.Unlock()
		rowsKept, sweepEvery = k, e
	}
}
