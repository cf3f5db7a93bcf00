package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const sample = `goos: linux
BenchmarkLockDo/mixin-2     13057406   27.00 ns/op   0 B/op   0 allocs/op
BenchmarkLockDo/mixin-2     13057406   29.00 ns/op   0 B/op   0 allocs/op
BenchmarkLockDo/direct-2    27735490   14.00 ns/op   0 B/op   0 allocs/op
BenchmarkEventWake/N=1/mixin-2   100   2000 ns/op   16 B/op   1 allocs/op
BenchmarkEventWake/N=1/chan-2    100   1000 ns/op    0 B/op   0 allocs/op
BenchmarkEventWake/N=100/mixin-2 100  20000 ns/op   16 B/op   1 allocs/op
BenchmarkEventWake/N=100/chan-2  100  20000 ns/op    0 B/op   0 allocs/op
PASS
`

func TestParseAveragesRuns(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, rs, 6)
	assert.Equal(t, "BenchmarkLockDo", rs[0].family)
	assert.Equal(t, "mixin", rs[0].impl)
	assert.InDelta(t, 28.0, rs[0].ns, 1e-9)
	assert.Equal(t, 100, rs[4].n)
}

func TestTableAndChart(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var tb strings.Builder
	table(&tb, rs)
	assert.Contains(t, tb.String(), "| LockDo | 28.0 | 0 | direct | 14.0 | 2.00x |")
	assert.Contains(t, tb.String(), "| EventWake/N=1 | 2000.0 | 1 | chan | 1000.0 | 2.00x |")
	var svg strings.Builder
	chart(&svg, rs)
	assert.Contains(t, svg.String(), "<svg")
	assert.Contains(t, svg.String(), "EventWake mixin")
	assert.Contains(t, svg.String(), "EventWake chan")
	assert.Equal(t, 2, strings.Count(svg.String(), "<polyline"), "one line per family and implementation over N")
}
