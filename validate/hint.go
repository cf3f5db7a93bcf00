package validate

import "strings"

// hintFor returns the near-miss note for a missing method, as the Go compiler
// gives one: a method the value has under a name people often use instead
// ("but does have method Unlock"), or one a typo away ("Relase: did you mean
// Release?"). It is empty when nothing is close.
func hintFor(info *typeInfo, form *Spec, m Method) string {
	// A typo first: a method one edit away (two for names of six letters or
	// more: close enough to be a typo, not so loose that Wait would suggest
	// Exit) is what the author meant, more surely than a hinted name
	// (Relase beside Unlock: Release was meant).
	limit := 1
	if len(m.Name) >= 6 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, name := range info.names {
		if formHas(form, name) {
			continue // serving another abstract method, not a typo
		}
		d := distance(strings.ToLower(name), strings.ToLower(m.Name))
		if d < bestD {
			best, bestD = name, d
		}
	}
	if best != "" {
		return best + typoSuffix(m.Name)
	}
	for _, h := range m.Hints {
		if _, ok := info.methods[h]; ok && !formHas(form, h) {
			// (a hint that serves another abstract method, Set for IsSet,
			// is no near miss)
			return "but does have method " + h
		}
	}
	return ""
}

func typoSuffix(name string) string { return ": did you mean " + name + "?" }

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func formHas(form *Spec, name string) bool {
	for _, m := range form.Methods {
		if m.Name == name {
			return true
		}
	}
	return false
}
