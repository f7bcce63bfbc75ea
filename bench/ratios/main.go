// Command ratios reads `go test -bench` output of package bench on standard
// input and prints, as Markdown, the median ns/op and allocs/op of every
// benchmark and the ratios with whether each target holds.
//
//	go test -run '^$' -bench . -benchmem -count 5 | tee /tmp/bench.txt
//	go run ./ratios < /tmp/bench.txt
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
)

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op(?:.*?\s(\d+) allocs/op)?`)

type target struct {
	name       string
	ours, base string
	max        float64
}

var targets = []target{
	{"Counter.Inc ≤ 1.1 × Prometheus Counter.Inc", "CounterInc/apptuit", "CounterInc/prometheus", 1.1},
	{"Meter.Mark ≤ 1.5 × Prometheus Counter.Inc", "MeterMark/apptuit", "CounterInc/prometheus", 1.5},
	{"Timer.Update ≤ 0.2 × go-metrics Timer.Update", "TimerUpdate/apptuit", "TimerUpdate/gometrics", 0.2},
	{"Timer.Update ≤ 1.5 × Prometheus Histogram.Observe", "TimerUpdate/apptuit", "TimerUpdate/prometheus", 1.5},
}

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
	var order []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
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

func modeName(m string) string {
	if m == "" {
		return "single goroutine"
	}
	return "RunParallel"
}
