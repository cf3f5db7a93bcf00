// Command contract checks the performance contract on the machine it runs on:
// it runs the contract's benchmarks side by side in one go test run and
// prints every clause as a ratio (the median, over the runs, of the ratio
// within each run) against its limit, with the allocations of the proxy's
// hot path. Ratios only, never absolute times, so that a regression shows
// on any machine.
//
// A clause is "pass" within DESIGN.md's limit; "bound" above it but within
// the bound the benchmarks README states for it, with the profile that sets
// it (a cost the proxy cannot shed, such as a call frame the compiler will
// not inline); "FAIL" otherwise, or when the proxy allocates on a path
// that must not.
//
//	cd benchmarks && go run ./cmd/contract            # -count 5
//	go run ./cmd/contract -count 10 -benchtime 200ms
//
// It exits 1 when a clause fails, 2 when the benchmarks cannot run.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// clause is one line of the contract: the proxy's benchmark against its
// reference, DESIGN.md's limit, the bound the benchmarks README states
// where the limit is known not to hold (0: none), and whether the proxy
// must not allocate.
type clause struct {
	what        string
	proxy, base string
	limit       float64
	bound       float64
	noAllocs    bool
}

// contract is DESIGN.md's performance contract. The bounds, and the
// profiles that set them, are in the benchmarks README ("What bounds the
// misses").
var contract = []clause{
	{"Context.Do / direct", "ContextDo/mixin", "ContextDo/direct", 1.3, 0, true},
	{"Lock.Do canonical / direct", "LockDoCanonical/mixin", "LockDoCanonical/direct", 1.3, 0, true},
	{"Await / direct", "Await/mixin", "Await/direct", 1.3, 1.7, true},
	{"Await over *sync.WaitGroup / its Wait", "Await/waitgroup/mixin", "Await/waitgroup/direct", 1.3, 4.0, true},
	{"Composer's Await over Wait(ctx) (int, error)", "ComposedAwait/mixin", "ComposedAwait/direct", 1.3, 4.5, true},
	{"Lock.Do over *sync.Mutex / direct", "LockDo/mixin", "LockDo/direct", 1.3, 2.2, true},
	{"Lock.Do over *sync.Mutex / reflect.Call proxy", "LockDo/mixin", "LockDo/reflect-call", 0.05, 0.1, true},
	{"Lock Acquire+Release over *sync.Mutex / sync.Mutex", "LockAcquireRelease/mixin", "LockAcquireRelease/direct", 3.0, 0, true},
	{"Lock Acquire+Release over *sync.Mutex / semaphore", "LockAcquireRelease/mixin", "LockAcquireRelease/semaphore", 1.0, 0, true},
	{"OwnerMutex / semaphore", "OwnerMutex/uncontended/mixin", "OwnerMutex/uncontended/semaphore", 1.0, 0, true},
	{"OwnerMutex / sync.Mutex", "OwnerMutex/uncontended/mixin", "OwnerMutex/uncontended/mutex", 3.0, 0, true},
	{"owner-lock proxy / its OwnerMutex", "OwnerMutex/uncontended/mixin-proxy", "OwnerMutex/uncontended/mixin", 1.3, 0, true},
	{"ValueEvent wake N=1 / channel close", "EventWake/N=1/mixin", "EventWake/N=1/chan", 2.0, 0, false},
	{"ValueEvent wake N=100 / channel close", "EventWake/N=100/mixin", "EventWake/N=100/chan", 2.0, 0, false},
	{"ValueEvent wake N=10000 / channel close", "EventWake/N=10000/mixin", "EventWake/N=10000/chan", 2.0, 0, false},
	{"Group N=100 / errgroup", "Group/N=100/mixin", "Group/N=100/errgroup", 1.5, 0, false},
	{"Group N=10000 / errgroup", "Group/N=10000/mixin", "Group/N=10000/errgroup", 1.5, 0, false},
}

// sample is one benchmark's measurements over the runs.
type sample struct {
	ns     []float64
	allocs []float64
}

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:.*?\s([\d.]+) allocs/op)?`)

func main() { os.Exit(run()) }

// run checks the contract and returns the exit code.
func run() int {
	count := flag.Int("count", 5, "runs of each benchmark (the median is taken)")
	benchtime := flag.String("benchtime", "100ms", "go test -benchtime for each run")
	flag.Parse()

	names := map[string]bool{}
	for _, c := range contract {
		names[top(c.proxy)] = true
		names[top(c.base)] = true
	}
	var tops []string
	for n := range names {
		tops = append(tops, regexp.QuoteMeta(n))
	}
	sort.Strings(tops)
	pattern := "^Benchmark(" + strings.Join(tops, "|") + ")$"

	// The test binary is built once and run -count times, each run taking
	// every benchmark once, so that the i-th samples of a proxy and its
	// reference were taken minutes apart at most, not a whole run apart.
	dir, err := os.MkdirTemp("", "contract")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "benchmarks.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fail(err)
	}
	args := []string{"-test.run", "^$", "-test.bench", pattern, "-test.benchmem", "-test.count", "1", "-test.benchtime", *benchtime}
	fmt.Printf("go test -c, then %d runs of: benchmarks.test %s\n", *count, strings.Join(args, " "))
	var out bytes.Buffer
	for range *count {
		cmd := exec.Command(bin, args...)
		var one bytes.Buffer
		cmd.Stdout, cmd.Stderr = &one, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprint(os.Stderr, one.String())
			return fail(err)
		}
		out.Write(one.Bytes())
	}

	samples := map[string]*sample{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		s := samples[m[1]]
		if s == nil {
			s = &sample{}
			samples[m[1]] = s
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		s.ns = append(s.ns, ns)
		if m[3] != "" {
			a, _ := strconv.ParseFloat(m[3], 64)
			s.allocs = append(s.allocs, a)
		}
	}

	fmt.Printf("\n%s, %d CPUs, %s/%s; medians of %d runs\n\n", cpuName(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, *count)
	fmt.Printf("%-52s %8s %7s %7s %7s  %s\n", "clause", "ratio", "limit", "bound", "allocs", "")
	var met, bounded, failed int
	for _, c := range contract {
		p, b := samples[c.proxy], samples[c.base]
		if p == nil || b == nil {
			fmt.Printf("%-52s %8s %6.2fx %7s %7s  FAIL (benchmark missing)\n", c.what, "-", c.limit, "-", "-")
			failed++
			continue
		}
		ratio := medianRatio(p.ns, b.ns)
		allocs := median(p.allocs)
		bound := "-"
		if c.bound > 0 {
			bound = fmt.Sprintf("%6.2fx", c.bound)
		}
		verdict := "pass"
		switch {
		case c.noAllocs && allocs > 0:
			verdict = "FAIL (allocates)"
			failed++
		case ratio <= c.limit:
			met++
		case c.bound > 0 && ratio <= c.bound:
			verdict = "bound"
			bounded++
		default:
			verdict = "FAIL"
			failed++
		}
		fmt.Printf("%-52s %7.2fx %6.2fx %7s %7.0f  %s\n", c.what, ratio, c.limit, bound, allocs, verdict)
	}
	fmt.Printf("\n%d of %d clauses within DESIGN.md's limit, %d within the bound the README states, %d failing\n",
		met, len(contract), bounded, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// medianRatio is the median over the runs of the ratio of the proxy's time
// to the reference's in the same run, so that a machine that speeds up or
// slows down between runs moves both sides of a ratio. With unequal
// counts, it is the ratio of the medians.
func medianRatio(p, b []float64) float64 {
	if len(p) != len(b) {
		return median(p) / median(b)
	}
	rs := make([]float64, len(p))
	for i := range p {
		rs[i] = p[i] / b[i]
	}
	return median(rs)
}

// fail reports that the benchmarks could not run: exit code 2.
func fail(err error) int {
	fmt.Fprintln(os.Stderr, "contract: the benchmarks failed:", err)
	return 2
}

// top is a benchmark's top-level name.
func top(name string) string {
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return name
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cpuName reads the processor's model name, where the system says it.
func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
