// Command benchchart turns the output of go test -bench into a Markdown
// table (each mixin result beside its references, with the ratio) and an SVG
// chart of how cost grows with N for the families whose names have N=.
//
//	go test -bench . -benchmem -count 3 | tee results/bench.txt
//	go run ./cmd/benchchart -table results/table.md -svg results/growth.svg < results/bench.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// result is the mean of one benchmark's runs.
type result struct {
	name   string // full name without the -P suffix
	family string // the name up to the last path element
	impl   string // the last path element: mixin, direct, chan, ...
	n      int    // the N= value in the name, 0 if none
	ns     float64
	bytes  float64
	allocs float64
	runs   int
}

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op)?(?:\s+([\d.]+) allocs/op)?`)
var nRE = regexp.MustCompile(`N=(\d+)`)

// parse reads benchmark lines and averages repeated runs.
func parse(r io.Reader) ([]*result, error) {
	byName := map[string]*result{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		name := m[1]
		res, ok := byName[name]
		if !ok {
			i := strings.LastIndex(name, "/")
			if i < 0 {
				continue // a benchmark without sub-benchmarks compares nothing
			}
			res = &result{name: name, family: name[:i], impl: name[i+1:]}
			if nm := nRE.FindStringSubmatch(name); nm != nil {
				res.n, _ = strconv.Atoi(nm[1])
			}
			byName[name] = res
			order = append(order, name)
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		b, _ := strconv.ParseFloat(m[3], 64)
		a, _ := strconv.ParseFloat(m[4], 64)
		res.ns += ns
		res.bytes += b
		res.allocs += a
		res.runs++
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := make([]*result, 0, len(order))
	for _, name := range order {
		r := byName[name]
		k := float64(r.runs)
		r.ns, r.bytes, r.allocs = r.ns/k, r.bytes/k, r.allocs/k
		out = append(out, r)
	}
	return out, nil
}

// table writes one row per family: mixin's time, then each reference's time
// and mixin's ratio to it.
func table(w io.Writer, results []*result) {
	families := map[string][]*result{}
	var order []string
	for _, r := range results {
		if _, ok := families[r.family]; !ok {
			order = append(order, r.family)
		}
		families[r.family] = append(families[r.family], r)
	}
	fmt.Fprintln(w, "| benchmark | mixin ns/op | allocs/op | reference | ref ns/op | ratio |")
	fmt.Fprintln(w, "|---|---:|---:|---|---:|---:|")
	for _, f := range order {
		var mix *result
		for _, r := range families[f] {
			if r.impl == "mixin" {
				mix = r
			}
		}
		for _, r := range families[f] {
			if r.impl == "mixin" || mix == nil {
				continue
			}
			fmt.Fprintf(w, "| %s | %.1f | %.0f | %s | %.1f | %.2fx |\n",
				strings.TrimPrefix(f, "Benchmark"), mix.ns, mix.allocs, r.impl, r.ns, mix.ns/r.ns)
		}
		if mix == nil {
			for _, r := range families[f] {
				fmt.Fprintf(w, "| %s | %.1f | %.0f | (%s) | | |\n", strings.TrimPrefix(f, "Benchmark"), r.ns, r.allocs, r.impl)
			}
		}
	}
}

// series is one line of the chart: an implementation of a family over N.
type series struct {
	label  string
	points [][2]float64 // N, ns/op
}

// chart draws ns/op per N on log-log axes, one line per family and
// implementation, for the families whose names have N=.
func chart(w io.Writer, results []*result) {
	lines := map[string]*series{}
	var order []string
	for _, r := range results {
		if r.n == 0 {
			continue
		}
		label := strings.TrimPrefix(nRE.ReplaceAllString(r.family, ""), "Benchmark")
		label = strings.TrimSuffix(strings.ReplaceAll(label, "//", "/"), "/") + " " + r.impl
		s, ok := lines[label]
		if !ok {
			s = &series{label: label}
			lines[label] = s
			order = append(order, label)
		}
		s.points = append(s.points, [2]float64{float64(r.n), r.ns})
	}
	const width, height, left, bottom, top, right = 900, 520, 70, 50, 20, 330
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range lines {
		sort.Slice(s.points, func(i, j int) bool { return s.points[i][0] < s.points[j][0] })
		for _, p := range s.points {
			minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
			minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
		}
	}
	if len(lines) == 0 {
		minX, maxX, minY, maxY = 1, 10, 1, 10
	}
	lx := func(x float64) float64 {
		return left + (math.Log10(x)-math.Log10(minX))/(math.Log10(maxX)-math.Log10(minX)+1e-9)*(width-left-right)
	}
	ly := func(y float64) float64 {
		return height - bottom - (math.Log10(y)-math.Log10(minY))/(math.Log10(maxY)-math.Log10(minY)+1e-9)*(height-bottom-top)
	}
	colors := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(w, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, height-bottom, width-right, height-bottom)
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, height-bottom)
	for e := math.Floor(math.Log10(minY)); e <= math.Ceil(math.Log10(maxY)); e++ {
		y := math.Pow(10, e)
		if y < minY/1.01 || y > maxY*1.01 {
			continue
		}
		fmt.Fprintf(w, `<text x="%d" y="%.0f" text-anchor="end">%s</text>`+"\n", left-5, ly(y)+4, human(y))
		fmt.Fprintf(w, `<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="#ddd"/>`+"\n", left, ly(y), width-right, ly(y))
	}
	xs := map[float64]bool{}
	for _, s := range lines {
		for _, p := range s.points {
			xs[p[0]] = true
		}
	}
	for x := range xs {
		fmt.Fprintf(w, `<text x="%.0f" y="%d" text-anchor="middle">%g</text>`+"\n", lx(x), height-bottom+15, x)
	}
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">N (log)</text>`+"\n", (width-right+left)/2, height-10)
	fmt.Fprintf(w, `<text x="15" y="%d" transform="rotate(-90 15 %d)" text-anchor="middle">ns/op (log)</text>`+"\n", height/2, height/2)
	for i, label := range order {
		s := lines[label]
		c := colors[i%len(colors)]
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", lx(p[0]), ly(p[1])))
			fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", lx(p[0]), ly(p[1]), c)
		}
		dash := ""
		if !strings.HasSuffix(label, " mixin") {
			dash = ` stroke-dasharray="5,3"`
		}
		fmt.Fprintf(w, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), c, dash)
		fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", width-right+15, top+10+i*16, width-right+40, top+10+i*16, c, dash)
		fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", width-right+45, top+14+i*16, label)
	}
	fmt.Fprintln(w, "</svg>")
}

func human(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%gms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%gµs", ns/1e3)
	}
	return fmt.Sprintf("%gns", ns)
}

func main() {
	tablePath := flag.String("table", "", "write the Markdown table here (default: stdout)")
	svgPath := flag.String("svg", "", "write the SVG chart here (default: none)")
	flag.Parse()
	results, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchchart:", err)
		os.Exit(1)
	}
	if err := write(*tablePath, func(w io.Writer) { table(w, results) }); err != nil {
		fmt.Fprintln(os.Stderr, "benchchart:", err)
		os.Exit(1)
	}
	if *svgPath != "" {
		if err := write(*svgPath, func(w io.Writer) { chart(w, results) }); err != nil {
			fmt.Fprintln(os.Stderr, "benchchart:", err)
			os.Exit(1)
		}
	}
}

func write(path string, fn func(io.Writer)) error {
	if path == "" {
		fn(os.Stdout)
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fn(f)
	return f.Close()
}
