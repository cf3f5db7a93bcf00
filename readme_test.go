package mixin_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeWords is the most words the main README may hold: about ten
// minutes of reading. What is longer belongs in docs/ or a module's README.
const readmeWords = 2500

// TestREADMEIsShortAndLeads: the main README stays short enough to read in
// ten minutes, opens with its contents, and shows a lock, an awaitable and
// a context before anything else; the links of it and of docs/ lead to
// files that exist, and its contents to its own headings.
func TestREADMEIsShortAndLeads(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	readme := string(raw)
	assert.LessOrEqual(t, len(strings.Fields(readme)), readmeWords, "the README grew past ten minutes of reading: move the deep parts to docs/")
	contents := strings.Index(readme, "**Contents:**")
	first := strings.Index(readme, "\n## ")
	require.Positive(t, contents, "the README opens with its contents")
	assert.Less(t, contents, first, "the contents come before the first section")
	glance := readme[first:]
	glance = glance[:strings.Index(glance[1:], "\n## ")+1]
	for _, want := range []string{"c.Lock()", "c.Awaitable()", "c.Context()"} {
		assert.Contains(t, glance, want, "the first section shows a lock, an awaitable and a context")
	}

	headings := map[string]bool{}
	for _, h := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(readme, -1) {
		headings[anchor(h[1])] = true
	}
	pages, err := filepath.Glob("docs/*.md")
	require.NoError(t, err)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	code := regexp.MustCompile("(?s)```.*?```|`[^`\n]*`") // links are not read inside code
	for _, page := range append([]string{"README.md"}, pages...) {
		text, err := os.ReadFile(page)
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(code.ReplaceAllString(string(text), ""), -1) {
			target := m[1]
			switch {
			case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
				continue
			case strings.HasPrefix(target, "#"):
				if page == "README.md" {
					assert.True(t, headings[target[1:]], "%s: link %s names no heading", page, target)
				}
				continue
			}
			file, _, _ := strings.Cut(target, "#")
			_, err := os.Stat(filepath.Join(filepath.Dir(page), file))
			assert.NoError(t, err, "%s: link %s leads nowhere", page, target)
		}
	}
}

// anchor is the anchor a heading gets on GitHub: lower case, spaces as
// hyphens, punctuation dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
