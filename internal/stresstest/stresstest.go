// Package stresstest holds what the stress suites of several packages share.
package stresstest

import (
	"os"
	"testing"
	"time"
)

// Duration returns how long each stress set-up runs: MIXIN_STRESS (a
// duration, e.g. 10m) when set, 200ms under -short, else 2s.
func Duration(t testing.TB) time.Duration {
	t.Helper()
	if s := os.Getenv("MIXIN_STRESS"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("MIXIN_STRESS must be a duration, e.g. 10m: %v", err)
		}
		return d
	}
	if testing.Short() {
		return 200 * time.Millisecond
	}
	return 2 * time.Second
}
