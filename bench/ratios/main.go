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

func main() {
	ns := map[string][]float64{}
	allocs := map[string][]float64{}
	mem := map[string][]float64{} // kind + "/" + library
	var order, kinds []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if m := perMetric.FindStringSubmatch(sc.Text()); m != nil {
			kind := strings.ReplaceAll(m[1], "_", " ")
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				continue
			}
			if !slices.Contains(kinds, kind) {
				kinds = append(kinds, kind)
			}
			mem[kind+"/"+m[2]] = append(mem[kind+"/"+m[2]], v)
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
		if _, ok := ns[m[1]]; !ok {
			order = append(order, m[1])
		}
		ns[m[1]] = append(ns[m[1]], v)
		if m[3] != "" {
			a, _ := strconv.ParseFloat(m[3], 64)
			allocs[m[1]] = append(allocs[m[1]], a)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(order) > 0 {
		fmt.Println("| benchmark | runs | median ns/op | min | max | allocs/op |")
		fmt.Println("|---|---:|---:|---:|---:|---:|")
		for _, k := range order {
			a := "?"
			if len(allocs[k]) > 0 {
				a = strconv.FormatFloat(median(allocs[k]), 'f', -1, 64)
			}
			fmt.Printf("| %s | %d | %.2f | %.2f | %.2f | %s |\n", k, len(ns[k]), median(ns[k]), slices.Min(ns[k]), slices.Max(ns[k]), a)
		}
		fmt.Println()
		fmt.Println("| target | mode | ours ns/op | theirs ns/op | ratio | holds |")
		fmt.Println("|---|---|---:|---:|---:|---|")
		for _, t := range targets {
			for _, mode := range []string{"", "Parallel"} {
				o, b := ns[t.ours+mode], ns[t.base+mode]
				if len(o) == 0 || len(b) == 0 {
					fmt.Printf("| %s | %s | missing | | | |\n", t.name, modeName(mode))
					continue
				}
				r := median(o) / median(b)
				holds := "yes"
				if r > t.max {
					holds = "**no**"
				}
				fmt.Printf("| %s | %s | %.2f | %.2f | %.3f | %s |\n", t.name, modeName(mode), median(o), median(b), r, holds)
			}
		}
	}
	if len(kinds) > 0 {
		if len(order) > 0 {
			fmt.Println()
		}
		fmt.Print("| kind (B/metric, median) |")
		for _, l := range libraries {
			fmt.Printf(" %s |", l)
		}
		fmt.Print(" apptuit / prometheus | apptuit / victoriametrics | apptuit / gometrics |\n|---|")
		for range libraries {
			fmt.Print("---:|")
		}
		fmt.Println("---:|---:|---:|")
		for _, k := range kinds {
			fmt.Printf("| %s |", k)
			for _, l := range libraries {
				if v := mem[k+"/"+l]; len(v) > 0 {
					fmt.Printf(" %.0f |", median(v))
				} else {
					fmt.Print(" — |")
				}
			}
			ours := mem[k+"/apptuit"]
			for _, l := range libraries[1:] {
				if v := mem[k+"/"+l]; len(v) > 0 && len(ours) > 0 {
					fmt.Printf(" %.2f |", median(ours)/median(v))
				} else {
					fmt.Print(" — |")
				}
			}
			fmt.Println()
		}
	}
}

func modeName(m string) string {
	if m == "" {
		return "single goroutine"
	}
	return "RunParallel"
}
