//go:build !race

package mixin_test

// raceEnabled: the race detector adds allocations of its own.
const raceEnabled = false
