package validate

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"github.com/stretchr/testify/assert"
)

// Implements asserts that v satisfies every spec. On failure it reports the
// whole *AbstractError, one problem a line, through t, and returns false.
// It is for tests of a user's own implementations:
//
//	validate.Implements(t, mylock.New(), adapters.LockSpec())
//
// The failure is reported at the caller's line: Implements is a test helper
// (t.Helper), and its error trace, in testify's layout, leaves out the
// frames of this package.
func Implements(t assert.TestingT, v any, specs ...Spec) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	if err := Check(v, specs...); err != nil {
		t.Errorf("\n%s", failure(callers(), "value does not implement the spec", fmt.Sprintf("%+v", err)))
		return false
	}
	return true
}

// callers is testify's CallerInfo without the frames of this file's
// helpers: the trace starts at the caller's line.
func callers() []string {
	_, self, _, _ := runtime.Caller(0)
	var out []string
	for _, c := range assert.CallerInfo() {
		if !strings.HasPrefix(c, self+":") {
			out = append(out, c)
		}
	}
	return out
}

// failure lays a failure out as testify's assertions do.
func failure(trace []string, what, msg string) string {
	indent := func(s string) string { return strings.ReplaceAll(s, "\n", "\n\t            \t") }
	return "\tError Trace:\t" + indent(strings.Join(trace, "\n")) +
		"\n\tError:      \t" + what +
		"\n\tMessages:   \t" + indent(msg)
}

// Refuse returns an *AbstractError for a problem beyond the method set (a
// value that is not of the type a typed proxy needs, say), in the same form as
// the ABC check's errors.
func Refuse(v any, kind, reason string, args ...any) *AbstractError {
	return &AbstractError{Type: reflect.TypeOf(v), Kinds: []string{kind}, Problems: []Problem{{Kind: kind, Reason: ReasonOther, Hint: fmt.Sprintf(reason, args...)}}}
}
