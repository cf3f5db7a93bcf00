//go:build !race

package main

// raceEnabled says the host was built with -race: its plugins must be too.
const raceEnabled = false
