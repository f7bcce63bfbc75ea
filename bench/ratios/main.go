// Command ratios reads `go test -bench` output of package bench on standard
// input and prints, as Markdown, the median ns/op and allocs/op of every
// hot-path benchmark, the ratios with whether each target holds,
// and the table of BenchmarkMemoryPerMetric (median B/metric per kind and
// library, with our ratio to each peer).
//
//	go test -run '^$' -bench . -benchmem -count 6 | tee /tmp/bench.txt
//	go run ./ratios < /tmp/bench.txt
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	line      = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op(?:.*?\s(\d+) allocs/op)?`)
	perMetric = regexp.MustCompile(`^BenchmarkMemoryPerMetric/(\S+?)/(\S+?)(?:-\d+)?\s.*?\s([0-9.]+) B/metric`)
)

type target struct {
	name       string
	ours, base string
	max        float64
}

var targets = []target{
	{"Counter.Inc ≤ 1.1 × Prometheus Counter.Inc", "CounterInc/apptuit", "CounterInc/prometheus", 1.1},
	{"Meter.Mark ≤ 1.5 × Prometheus Counter.Inc", "MeterMark/apptuit", "CounterInc/prometheus", 1.5},
	{"Timer.Update ≤ 1.0 × Prometheus Histogram.Observe", "TimerUpdate/apptuit", "TimerUpdate/prometheus", 1.0},
	{"Timer.Update ≤ 0.2 × go-metrics Timer.Update", "TimerUpdate/apptuit", "TimerUpdate/gometrics", 0.2},
}

var libraries = []string{"apptuit", "prometheus", "victoriametrics", "gometrics"}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// results are the medians' inputs read from the benchmark output.
type results struct {
	ns, allocs map[string][]float64 // by benchmark
	order      []string             // benchmarks, as first seen
	mem        map[string][]float64 // B/metric by kind + "/" + library
	kinds      []string             // as first seen
}

func main() {
	r, err := read(bufio.NewScanner(os.Stdin))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(r.order) > 0 {
		r.printBenchmarks()
		fmt.Println()
		r.printTargets()
	}
	if len(r.kinds) > 0 {
		if len(r.order) > 0 {
			fmt.Println()
		}
		r.printMemory()
	}
}

// read reads the lines of the benchmarks and of BenchmarkMemoryPerMetric.
func read(sc *bufio.Scanner) (*results, error) {
	r := &results{ns: map[string][]float64{}, allocs: map[string][]float64{}, mem: map[string][]float64{}}
	for sc.Scan() {
		if m := perMetric.FindStringSubmatch(sc.Text()); m != nil {
			kind := strings.ReplaceAll(m[1], "_", " ")
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				continue
			}
			if !slices.Contains(r.kinds, kind) {
				r.kinds = append(r.kinds, kind)
			}
			r.mem[kind+"/"+m[2]] = append(r.mem[kind+"/"+m[2]], v)
			continue
		}
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		if _, ok := r.ns[m[1]]; !ok {
			r.order = append(r.order, m[1])
		}
		r.ns[m[1]] = append(r.ns[m[1]], v)
		if m[3] != "" {
			a, _ := strconv.ParseFloat(m[3], 64)
			r.allocs[m[1]] = append(r.allocs[m[1]], a)
		}
	}
	return r, sc.Err()
}

// printBenchmarks prints the table of every benchmark's ns/op and allocs/op.
func (r *results) printBenchmarks() {
	fmt.Println("| benchmark | runs | median ns/op | min | max | allocs/op |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, k := range r.order {
		a := "?"
		if len(r.allocs[k]) > 0 {
			a = strconv.FormatFloat(median(r.allocs[k]), 'f', -1, 64)
		}
		fmt.Printf("| %s | %d | %.2f | %.2f | %.2f | %s |\n", k, len(r.ns[k]), median(r.ns[k]), slices.Min(r.ns[k]), slices.Max(r.ns[k]), a)
	}
}

// printTargets prints the table of the targets, in both modes, and
// whether each holds.
func (r *results) printTargets() {
	fmt.Println("| target | mode | ours ns/op | theirs ns/op | ratio | holds |")
	fmt.Println("|---|---|---:|---:|---:|---|")
	for _, t := range targets {
		for _, mode := range []string{"", "Parallel"} {
			o, b := r.ns[t.ours+mode], r.ns[t.base+mode]
			if len(o) == 0 || len(b) == 0 {
				fmt.Printf("| %s | %s | missing | | | |\n", t.name, modeName(mode))
				continue
			}
			ratio := median(o) / median(b)
			holds := "yes"
			if ratio > t.max {
				holds = "**no**"
			}
			fmt.Printf("| %s | %s | %.2f | %.2f | %.3f | %s |\n", t.name, modeName(mode), median(o), median(b), ratio, holds)
		}
	}
}

// printMemory prints the table of BenchmarkMemoryPerMetric: the median
// B/metric per kind and library, and our ratio to each peer.
func (r *results) printMemory() {
	fmt.Print("| kind (B/metric, median) |")
	for _, l := range libraries {
		fmt.Printf(" %s |", l)
	}
	fmt.Print(" apptuit / prometheus | apptuit / victoriametrics | apptuit / gometrics |\n|---|")
	for range libraries {
		fmt.Print("---:|")
	}
	fmt.Println("---:|---:|---:|")
	for _, k := range r.kinds {
		fmt.Printf("| %s |", k)
		for _, l := range libraries {
			if v := r.mem[k+"/"+l]; len(v) > 0 {
				fmt.Printf(" %.0f |", median(v))
			} else {
				fmt.Print(" — |")
			}
		}
		ours := r.mem[k+"/apptuit"]
		for _, l := range libraries[1:] {
			if v := r.mem[k+"/"+l]; len(v) > 0 && len(ours) > 0 {
				fmt.Printf(" %.2f |", median(ours)/median(v))
			} else {
				fmt.Print(" — |")
			}
		}
		fmt.Println()
	}
}

func modeName(m string) string {
	if m == "" {
		return "single goroutine"
	}
	return "RunParallel"
}
