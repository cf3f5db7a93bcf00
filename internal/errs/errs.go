// Package errs writes the library's error messages so that each names the
// package once, as the standard library's do ("mixin: *main.Account: release
// of an unlocked lock", not "mixin: *main.Account: mixin: release of ...").
//
// Every error the library makes begins with Prefix: a sentinel returned on
// its own reads "mixin: release of an unlocked lock". An error that wraps
// another is made by Errorf, which writes Prefix once, at the front, and
// drops the leading Prefix of each error it formats: so however deep the
// wrapping, the message says it once, and errors.Is and errors.As still find
// every error wrapped.
package errs

import (
	"fmt"
	"strings"
)

// Prefix begins every message of the library.
const Prefix = "mixin: "

// Errorf formats as fmt.Errorf does, with Prefix before format, and with
// each error operand (of %w or %v) written without its own leading Prefix.
// format is written without the prefix.
func Errorf(format string, args ...any) error {
	for i, a := range args {
		if err, ok := a.(error); ok && err != nil {
			args[i] = bare{err}
		}
	}
	return fmt.Errorf(Prefix+format, args...)
}

// Trim returns msg without its leading Prefix.
func Trim(msg string) string { return strings.TrimPrefix(msg, Prefix) }

// bare is an error written without its leading Prefix; it unwraps to the
// error, so that errors.Is and errors.As look through it.
type bare struct{ err error }

func (b bare) Error() string { return Trim(b.err.Error()) }
func (b bare) Unwrap() error { return b.err }
