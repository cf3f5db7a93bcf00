// Command contract checks the performance contract on the machine it runs on:
// it runs the contract's benchmarks side by side in one go test run, takes
// the median of each, and prints every clause as a ratio against its limit,
// pass or fail, with the allocations of the proxy's hot path. Ratios only,
// never absolute times, so that a regression shows on any machine.
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
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// clause is one line of the contract: the proxy's benchmark against its
// reference, the ratio allowed, and whether the proxy's must not allocate.
type clause struct {
	what        string
	proxy, base string
	limit       float64
	noAllocs    bool
}

// contract is DESIGN.md's performance contract, with the bounds the
// benchmarks README states where a clause is known not to hold.
var contract = []clause{
	{"Context.Do / direct", "ContextDo/mixin", "ContextDo/direct", 1.3, true},
	{"Lock.Do canonical / direct", "LockDoCanonical/mixin", "LockDoCanonical/direct", 1.3, true},
	{"Await / direct", "Await/mixin", "Await/direct", 1.3, true},
	{"Await over *sync.WaitGroup / its Wait", "Await/waitgroup/mixin", "Await/waitgroup/direct", 1.3, true},
	{"Lock.Do over *sync.Mutex / direct", "LockDo/mixin", "LockDo/direct", 2.2, true},
	{"Lock.Do / reflect.Call proxy", "LockDo/mixin", "LockDo/reflect-call", 0.05, true},
	{"Lock Acquire+Release over *sync.Mutex / sync.Mutex", "LockAcquireRelease/mixin", "LockAcquireRelease/direct", 3.0, true},
	{"Lock Acquire+Release over *sync.Mutex / semaphore", "LockAcquireRelease/mixin", "LockAcquireRelease/semaphore", 1.0, true},
	{"OwnerMutex / semaphore", "OwnerMutex/uncontended/mixin", "OwnerMutex/uncontended/semaphore", 1.0, true},
	{"OwnerMutex / sync.Mutex", "OwnerMutex/uncontended/mixin", "OwnerMutex/uncontended/mutex", 3.0, true},
	{"owner-lock proxy / its OwnerMutex", "OwnerMutex/uncontended/mixin-proxy", "OwnerMutex/uncontended/mixin", 1.3, true},
	{"ValueEvent wake N=1 / channel close", "EventWake/N=1/mixin", "EventWake/N=1/chan", 2.0, false},
	{"ValueEvent wake N=100 / channel close", "EventWake/N=100/mixin", "EventWake/N=100/chan", 2.0, false},
	{"ValueEvent wake N=10000 / channel close", "EventWake/N=10000/mixin", "EventWake/N=10000/chan", 2.0, false},
	{"Group N=100 / errgroup", "Group/N=100/mixin", "Group/N=100/errgroup", 1.5, false},
	{"Group N=10000 / errgroup", "Group/N=10000/mixin", "Group/N=10000/errgroup", 1.5, false},
}

// sample is one benchmark's measurements over the runs.
type sample struct {
	ns     []float64
	allocs []float64
}

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:.*?\s([\d.]+) allocs/op)?`)

func main() {
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
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem",
		"-count", strconv.Itoa(*count), "-benchtime", *benchtime, "."}
	fmt.Printf("go %s\n", strings.Join(args, " "))
	cmd := exec.Command("go", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprint(os.Stderr, out.String())
		fmt.Fprintln(os.Stderr, "contract: the benchmarks failed:", err)
		os.Exit(2)
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
	fmt.Printf("%-52s %8s %7s %7s  %s\n", "clause", "ratio", "limit", "allocs", "")
	failed := 0
	for _, c := range contract {
		p, b := samples[c.proxy], samples[c.base]
		if p == nil || b == nil {
			fmt.Printf("%-52s %8s %7.2f %7s  FAIL (benchmark missing)\n", c.what, "-", c.limit, "-")
			failed++
			continue
		}
		ratio := median(p.ns) / median(b.ns)
		allocs := median(p.allocs)
		verdict := "pass"
		if ratio > c.limit || (c.noAllocs && allocs > 0) {
			verdict = "FAIL"
			failed++
		}
		fmt.Printf("%-52s %7.2fx %6.2fx %7.0f  %s\n", c.what, ratio, c.limit, allocs, verdict)
	}
	fmt.Printf("\n%d of %d clauses pass\n", len(contract)-failed, len(contract))
	if failed > 0 {
		os.Exit(1)
	}
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
