package metrics

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// retainedPerMetric returns the heap bytes that n metrics made by mk retain,
// per metric: runtime.ReadMemStats after a GC before and after making them,
// with the metrics (and whatever mk keeps, such as a registry) kept alive.
func retainedPerMetric(n int, mk func(i int) any) float64 {
	keep := make([]any, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = mk(i)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// threeDecades are 100 values spread evenly on a log scale over [1e-3, 1],
// so that every power of two between them has some: seconds for a
// Histogram, or 1ms to 1s for a Timer.
func threeDecades() []float64 {
	vs := make([]float64, 100)
	for j := range vs {
		vs[j] = math.Exp(math.Log(1e-3) + math.Log(1e3)*float64(j)/float64(len(vs)-1))
	}
	return vs
}

// wholeRange are values over the whole float64 range, one in every power of
// two from the smallest subnormal to the largest finite value, so that a
// Histogram uses every page of its range and both out-of-range buckets.
func wholeRange() []float64 {
	var vs []float64
	for e := -1074; e <= 1023; e++ {
		vs = append(vs, math.Ldexp(1.37, e))
	}
	return append(vs, 0, -1, math.MaxFloat64)
}

// Memory bounds, in bytes per metric (see issue #8, item 1, and the
// figures in the doc comments of Registry, Histogram and Timer).
const (
	maxTaggedCounter = 200     // a Counter or Gauge with one tag, registered
	maxEmptySketch   = 512     // an empty Histogram or Timer
	maxThreeDecades  = 2 << 10 // a Histogram or Timer that has seen 1ms to 1s
	maxWholeRange    = 10_000  // a Histogram or Timer that has seen the whole range: every page
)

// TestMemoryPerMetric measures the heap each kind of metric retains, over
// 10,000 of them (1,000 under the race detector, which is slow to allocate;
// the registry's map then costs a few bytes more per metric), and fails
// past the bounds of issue #8.
func TestMemoryPerMetric(t *testing.T) {
	n := 10_000
	if raceEnabled {
		n = 1_000
	}
	fn := func() float64 { return 1 }
	secs := threeDecades()
	wide := wholeRange()
	var durs, wideDurs []time.Duration
	for _, v := range secs {
		durs = append(durs, time.Duration(v*1e9))
	}
	for e := range 63 {
		wideDurs = append(wideDurs, time.Duration(1)<<e)
	}
	wideDurs = append(wideDurs, 0, -1, math.MaxInt64)
	host := func(i int) map[string]string { return map[string]string{"host": fmt.Sprintf("host-%05d", i)} }
	name := func(kind string, i int) string { return fmt.Sprintf("%s.%05d", kind, i) }
	must := func(m any, err error) any {
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name string
		mk   func(r *Registry, i int) any
		max  float64 // 0: no bound, measured for the table
	}{
		{"Counter", func(r *Registry, i int) any { return must(r.Counter(name("counter", i))) }, maxTaggedCounter},
		{"Counter, 1 tag", func(r *Registry, i int) any { return must(r.CounterWith("requests", host(i))) }, maxTaggedCounter},
		{"Gauge", func(r *Registry, i int) any { return must(r.Gauge(name("gauge", i))) }, maxTaggedCounter},
		{"Gauge, 1 tag", func(r *Registry, i int) any { return must(r.GaugeWith("queue", host(i))) }, maxTaggedCounter},
		{"GaugeFunc", func(r *Registry, i int) any { return must(r.GaugeFunc(name("gauge", i), fn)) }, 0},
		{"Meter", func(r *Registry, i int) any { return must(r.Meter(name("meter", i))) }, 0},
		{"Histogram, empty", func(r *Registry, i int) any { return NewHistogram() }, maxEmptySketch},
		{"Histogram, empty, registered", func(r *Registry, i int) any { return must(r.Histogram(name("histogram", i))) }, maxEmptySketch},
		{"Histogram, 3 decades", func(r *Registry, i int) any {
			h := NewHistogram()
			for _, v := range secs {
				h.Update(v)
			}
			return h
		}, maxThreeDecades},
		{"Histogram, whole float64 range", func(r *Registry, i int) any {
			h := NewHistogram()
			for _, v := range wide {
				h.Update(v)
			}
			return h
		}, maxWholeRange},
		{"Timer, empty", func(r *Registry, i int) any { return NewTimer() }, maxEmptySketch},
		{"Timer, empty, registered", func(r *Registry, i int) any { return must(r.Timer(name("timer", i))) }, maxEmptySketch},
		{"Timer, 1ms to 1s", func(r *Registry, i int) any {
			tm := NewTimer()
			for _, d := range durs {
				tm.Update(d)
			}
			return tm
		}, maxThreeDecades},
		{"Timer, 1ms to 1s, registered", func(r *Registry, i int) any {
			tm := must(r.Timer(name("timer", i))).(*Timer)
			for _, d := range durs {
				tm.Update(d)
			}
			return tm
		}, maxThreeDecades},
		{"Timer, 0 to MaxInt64 ns", func(r *Registry, i int) any {
			tm := NewTimer()
			for _, d := range wideDurs {
				tm.Update(d)
			}
			return tm
		}, maxWholeRange},
	} {
		r := NewRegistry(WithSeriesLimit(0)) // 10,000 series of one name
		var size uintptr                     // the metric's own struct: a floor that shows the measurement works
		got := retainedPerMetric(n, func(i int) any {
			m := tc.mk(r, i)
			size = reflect.TypeOf(m).Elem().Size()
			return m
		})
		runtime.KeepAlive(r)
		switch {
		case got < float64(size):
			t.Errorf("%s: %.0f B retained, less than the metric's own %d B: the measurement is broken", tc.name, got, size)
		case tc.max == 0:
			t.Logf("%-32s %7.0f B", tc.name, got)
		case got > tc.max:
			t.Errorf("%-32s %7.0f B, more than %v B", tc.name, got, tc.max)
		default:
			t.Logf("%-32s %7.0f B (bound %v B)", tc.name, got, tc.max)
		}
	}
}
