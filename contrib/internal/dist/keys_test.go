package dist_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gomixin/mixin/contrib/internal/dist"
)

func TestEscapeKeepsNamesApartAndSeparatorsOut(t *testing.T) {
	assert.Equal(t, "orders", dist.Escape("orders", "/"))
	assert.Equal(t, "jobs%2Feu", dist.Escape("jobs/eu", "/"))
	assert.Equal(t, "a%25b", dist.Escape("a%b", "/"), "the escape character itself")
	assert.Equal(t, "x%3Afence%7B%7D", dist.Escape("x:fence{}", ":{}"))
	names := []string{"a", "a/", "a%2F", "a/b", "a%", "%", "/"}
	seen := map[string]string{}
	for _, n := range names {
		e := dist.Escape(n, "/")
		assert.NotContains(t, e, "/")
		if prev, ok := seen[e]; ok {
			t.Errorf("%q and %q escape alike: %q", prev, n, e)
		}
		seen[e] = n
	}
}
