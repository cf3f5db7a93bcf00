package validate

import (
	"fmt"
	"reflect"

	"github.com/stretchr/testify/assert"
)

// Implements asserts that v satisfies every spec. On failure it reports the
// whole *AbstractError, one problem a line, through t, and returns false.
// It is for tests of a user's own implementations:
//
//	validate.Implements(t, mylock.New(), adapters.LockSpec())
func Implements(t assert.TestingT, v any, specs ...Spec) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	if err := Check(v, specs...); err != nil {
		return assert.Fail(t, "value does not implement the spec", "%+v", err)
	}
	return true
}

// Refuse returns an *AbstractError for a problem beyond the method set (a
// value that is not of the type a typed proxy needs, say), in the same form as
// the ABC check's errors.
func Refuse(v any, kind, reason string, args ...any) *AbstractError {
	return &AbstractError{Type: reflect.TypeOf(v), Kinds: []string{kind}, Problems: []Problem{{Kind: kind, Reason: ReasonOther, Hint: fmt.Sprintf(reason, args...)}}}
}
