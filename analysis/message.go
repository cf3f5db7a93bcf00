package analysis

import (
	"go/types"
	"strings"

	"github.com/gomixin/mixin/validate"
)

// refusal is what the run-time check would return, as the analyzer found
// it: the value's type and every problem, in the run-time error's order. Its
// Error is the one-line text of the *validate.AbstractError the run time
// would return (validate/error.go's Error, mirrored).
type refusal struct {
	typ      types.Type
	problems []problem
}

func (e *refusal) Error() string {
	var b strings.Builder
	b.WriteString("mixin: can't compose ")
	b.WriteString(rstring(e.typ))
	for i, kind := range e.kinds() {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" as ")
		b.WriteString(kindLabel(kind, e.formOf(kind)))
		b.WriteString(": ")
		b.WriteString(strings.Join(e.kindSummary(kind), "; "))
	}
	return b.String()
}

func (e *refusal) kinds() []string {
	var ks []string
	for _, p := range e.problems {
		ks = appendOnce(ks, p.kind)
	}
	return ks
}

func (e *refusal) formOf(kind string) string {
	for _, p := range e.problems {
		if p.kind == kind {
			return p.form
		}
	}
	return ""
}

func kindLabel(kind, form string) string {
	if kind == "" {
		kind = "any kind"
	}
	if form == "" {
		return kind
	}
	return kind + " (as " + form + ")"
}

func (e *refusal) kindSummary(kind string) []string {
	var missing, ptr, alts, out []string
	for _, p := range e.problems {
		if p.kind != kind {
			continue
		}
		switch p.reason {
		case validate.ReasonMissing:
			s := p.method
			if p.hint != "" {
				s += " (" + p.hint + ")"
			}
			missing = append(missing, s)
			alts = append(alts, p.alternatives...)
		case validate.ReasonPointerReceiver:
			ptr = append(ptr, p.method)
		}
	}
	if len(missing) == 1 {
		out = append(out, "missing abstract method "+missing[0]+orAlternatives(alts))
	} else if len(missing) > 1 {
		out = append(out, "missing abstract methods "+strings.Join(missing, ", ")+orAlternatives(alts))
	}
	for _, p := range e.problems {
		if p.kind == kind && (p.reason == validate.ReasonSignature || p.reason == validate.ReasonOther) {
			out = append(out, e.problemText(p))
		}
	}
	if len(ptr) == 1 {
		out = append(out, "method "+ptr[0]+" has pointer receiver"+e.addrHint())
	} else if len(ptr) > 1 {
		out = append(out, "methods "+strings.Join(ptr, ", ")+" have pointer receivers"+e.addrHint())
	}
	return out
}

func (e *refusal) addrHint() string {
	return " (compose &v, a *" + rstring(e.typ) + ")"
}

func (e *refusal) problemText(p problem) string {
	switch p.reason {
	case validate.ReasonSignature:
		s := p.method + " has signature " + haveString(p.have) + ", want " + p.want[0]
		switch n := len(p.want) - 1; n {
		case 0:
		case 1:
			s += " or " + p.want[1]
		default: // every accepted shape, as the run-time check lists them
			s += " or one of " + strings.Join(p.want[1:], " | ")
		}
		if p.hint != "" {
			s += " (" + p.hint + ")"
		}
		return s
	case validate.ReasonPointerReceiver:
		return "method " + p.method + " has pointer receiver" + e.addrHint()
	}
	return p.hint
}

// hasPointerReceiver reports whether some problem is a method that only the
// pointer type has: composing &v may do.
func (e *refusal) hasPointerReceiver() bool {
	for _, p := range e.problems {
		if p.reason == validate.ReasonPointerReceiver {
			return true
		}
	}
	return false
}

// orAlternatives mirrors validate's note after missing methods: what the
// kind's other forms would have needed instead.
func orAlternatives(alts []string) string {
	if len(alts) == 0 {
		return ""
	}
	if len(alts) == 1 {
		return ", or instead " + alts[0]
	}
	return ", or instead " + strings.Join(alts[:len(alts)-1], ", ") + " or " + alts[len(alts)-1]
}
