//go:build !race

package doccheck

// raceBuild is false when the test binary was built without -race.
const raceBuild = false
