package conform_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gomixin/mixin/validate/conform"
)

// conform.Awaitable over an implementation whose resolve panics: the suite
// calls resolve on a goroutine of its own ("resolves"), unguarded, so the
// panic ends the test binary instead of failing the property.
func TestReviewAwaitableSuiteResolvePanics(t *testing.T) {
	r := &recorder{TB: t}
	var passed bool
	returnsWithin(t, 20*time.Second, "the suite", func() {
		made := 0
		passed = conform.Awaitable(r, func() (any, func()) {
			made++
			n := made
			wg := &sync.WaitGroup{}
			wg.Add(1)
			var once sync.Once
			return wg, func() {
				once.Do(wg.Done)
				if n == 3 { // the awaitable of the "resolves" property
					panic("resolve broke")
				}
			}
		}, conform.WithTimeout(100*time.Millisecond))
	})
	if passed {
		t.Errorf("a broken awaitable passed the suite")
	}
}
