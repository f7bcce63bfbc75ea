package bench

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/metrics"
	"github.com/prometheus/client_golang/prometheus"
	gometrics "github.com/rcrowley/go-metrics"
)

var paired = flag.Bool("paired", false, "run TestPairedRatios")

// block runs n operations on a metric; each is a direct call in a loop.
type block func(n int)

type pair struct {
	name         string
	ours, theirs block
	target       float64 // the bound on ours/theirs
}

func pairs() []pair {
	c := metrics.NewCounter()
	m := metrics.NewMeter()
	t := metrics.NewTimer()
	pc := prometheus.NewCounter(prometheus.CounterOpts{Name: "c"})
	ph := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Buckets: prometheus.DefBuckets})
	gt := gometrics.NewTimer()
	counter := func(n int) {
		for range n {
			c.Inc()
		}
	}
	mark := func(n int) {
		for range n {
			m.Mark(1)
		}
	}
	timer := func(n int) {
		for range n {
			t.Update(dur)
		}
	}
	promInc := func(n int) {
		for range n {
			pc.Inc()
		}
	}
	promObserve := func(n int) {
		for range n {
			ph.Observe(durSecs)
		}
	}
	gmTimer := func(n int) {
		for range n {
			gt.Update(dur)
		}
	}
	return []pair{
		{"Counter.Inc / Prometheus Counter.Inc", counter, promInc, 1.1},
		{"Meter.Mark / Prometheus Counter.Inc", mark, promInc, 1.5},
		{"Timer.Update / go-metrics Timer.Update", timer, gmTimer, 0.2},
		{"Timer.Update / Prometheus Histogram.Observe", timer, promObserve, 1.5},
	}
}

// timeBlock runs f(n) in g goroutines at once and returns ns per operation.
func timeBlock(f block, n, g int) float64 {
	if g == 1 {
		start := time.Now()
		f(n)
		return float64(time.Since(start)) / float64(n)
	}
	var ready, done sync.WaitGroup
	ready.Add(g)
	done.Add(g)
	gate := make(chan struct{})
	for range g {
		go func() {
			ready.Done()
			<-gate
			f(n)
			done.Done()
		}()
	}
	ready.Wait()
	start := time.Now()
	close(gate)
	done.Wait()
	return float64(time.Since(start)) / float64(n*g)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// TestPairedRatios measures each of the ratios by alternating short
// blocks (about 100µs) of our operation and theirs, 2000 times, and taking
// the median of the per-pair ratios. On a shared, noisy machine this is
// steadier than comparing medians of separate benchmark runs, since both
// halves of a pair see the same background load. Run with
//
//	go test -run TestPairedRatios -paired -v
func TestPairedRatios(t *testing.T) {
	if !*paired {
		t.Skip("run with -paired")
	}
	const rounds = 2000
	procs := runtime.GOMAXPROCS(0)
	for _, g := range []int{1, procs} {
		for _, p := range pairs() {
			// Size blocks to about 100µs of the slower operation.
			p.theirs(1000)
			n := max(100, int(100e3/timeBlock(p.theirs, 10000, 1)))
			var ours, theirs, ratios []float64
			for r := range rounds {
				var a, b float64
				if r%2 == 0 {
					a = timeBlock(p.ours, n, g)
					b = timeBlock(p.theirs, n, g)
				} else {
					b = timeBlock(p.theirs, n, g)
					a = timeBlock(p.ours, n, g)
				}
				ours, theirs, ratios = append(ours, a), append(theirs, b), append(ratios, a/b)
			}
			ratio := median(ratios)
			verdict := "holds"
			if ratio > p.target {
				verdict = "DOES NOT HOLD"
			}
			mode := "single goroutine"
			if g > 1 {
				mode = fmt.Sprintf("%d goroutines", g)
			}
			t.Logf("| %s | %s | %.2f | %.2f | %.3f | ≤ %.1f | %s |",
				p.name, mode, median(ours), median(theirs), ratio, p.target, verdict)
		}
	}
}
