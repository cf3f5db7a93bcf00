//go:build race

package doccheck

// raceBuild is true when the test binary was built with -race: the export
// data is then asked for with -race too, so that go list finds the packages
// the test build compiled in the build cache instead of compiling every
// dependency again without the race detector.
const raceBuild = true
