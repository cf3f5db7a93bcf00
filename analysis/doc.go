// Package analysis is the vet analyzer of github.com/gomixin/mixin: it tells,
// before the program runs, which values Compose, the typed constructors of
// adapters and validate.Check would refuse, with the run-time error's words.
// See [Analyzer] for what it checks; cmd/mixinvet runs it as a vet tool.
package analysis
