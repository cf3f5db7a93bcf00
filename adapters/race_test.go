//go:build race

package adapters_test

// raceEnabled: the race detector adds allocations of its own.
const raceEnabled = true
