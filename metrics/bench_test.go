package metrics

import (
	"math"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Each hot path, single goroutine and on GOMAXPROCS goroutines at once (all
// on one metric, the worst case for contention; b.N calls in all, like
// b.RunParallel). The loops are unrolled, 16 calls per iteration, so that
// the loop's own cost (b.Loop adds about 3.5 ns per iteration on some CPUs)
// is not a large part of a 2–3 ns operation; ns/op is per call. The bench
// module compares the same bodies with other libraries.

const unroll = 16

// calls returns b.N rounded up to a multiple of unroll.
func calls(b *testing.B) int { return (b.N + unroll - 1) / unroll * unroll }

// parallel runs body on GOMAXPROCS goroutines at once, b.N calls in all.
func parallel(b *testing.B, body func(n int)) {
	g := runtime.GOMAXPROCS(0)
	per := (b.N/g + unroll - 1) / unroll * unroll
	var ready, done sync.WaitGroup
	ready.Add(g)
	done.Add(g)
	start := make(chan struct{})
	for range g {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			body(per)
		}()
	}
	ready.Wait()
	b.ResetTimer()
	close(start)
	done.Wait()
}

func BenchmarkCounterInc(b *testing.B) {
	c := NewCounter()
	body := func(n int) {
		for i := 0; i < n; i += unroll {
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
			c.Inc()
		}
	}
	b.ReportAllocs()
	b.Run("1", func(b *testing.B) { body(calls(b)) })
	b.Run("parallel", func(b *testing.B) { parallel(b, body) })
}

func BenchmarkGaugeSet(b *testing.B) {
	g := NewGauge()
	body := func(n int) {
		for i := 0; i < n; i += unroll {
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
			g.Set(0.042)
		}
	}
	b.ReportAllocs()
	b.Run("1", func(b *testing.B) { body(calls(b)) })
	b.Run("parallel", func(b *testing.B) { parallel(b, body) })
}

func BenchmarkMeterMark(b *testing.B) {
	m := NewMeter()
	body := func(n int) {
		for i := 0; i < n; i += unroll {
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
			m.Mark(1)
		}
	}
	b.ReportAllocs()
	b.Run("1", func(b *testing.B) { body(calls(b)) })
	b.Run("parallel", func(b *testing.B) { parallel(b, body) })
}

func BenchmarkHistogramUpdate(b *testing.B) {
	h := NewHistogram()
	body := func(n int) {
		for i := 0; i < n; i += unroll {
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
			h.Update(0.042)
		}
	}
	b.ReportAllocs()
	b.Run("1", func(b *testing.B) { body(calls(b)) })
	b.Run("parallel", func(b *testing.B) { parallel(b, body) })
}

func BenchmarkTimerUpdate(b *testing.B) {
	t := NewTimer()
	body := func(n int) {
		for i := 0; i < n; i += unroll {
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
			t.Update(42 * time.Millisecond)
		}
	}
	b.ReportAllocs()
	b.Run("1", func(b *testing.B) { body(calls(b)) })
	b.Run("parallel", func(b *testing.B) { parallel(b, body) })
}

// Not hot paths, for reference.

func BenchmarkRegistryCounterExisting(b *testing.B) {
	r := NewRegistry()
	r.Counter("requests")
	b.ReportAllocs()
	for b.Loop() {
		r.Counter("requests")
	}
}

func BenchmarkRegistryCounterWithTagsExisting(b *testing.B) {
	r := NewRegistry()
	tags := map[string]string{"host": "web-01", "zone": "eu-1"}
	r.CounterWith("requests", tags)
	b.ReportAllocs()
	for b.Loop() {
		r.CounterWith("requests", tags)
	}
}

// sketchLoads are the shapes a snapshot's cost depends on: the powers of two
// the sketch has pages for (sparse: one; three decades: 11; dense: all 62
// of a Histogram's range, plus the out-of-range buckets).
var sketchLoads = []struct {
	name   string
	values []float64
}{
	{"sparse-1-octave", []float64{1, 1.2, 1.5, 1.9}},
	{"3-decades", func() []float64 {
		vs := make([]float64, 100)
		for j := range vs {
			vs[j] = math.Exp(math.Log(1e-3) + math.Log(1e3)*float64(j)/99)
		}
		return vs
	}()},
	{"dense-62-octaves", func() []float64 {
		var vs []float64
		for e := -30; e < 45; e++ {
			vs = append(vs, math.Ldexp(1.3, e))
		}
		return vs
	}()},
}

// BenchmarkHistogramSnapshot measures a snapshot, which costs in
// proportion to the pages a histogram uses: Snapshot alone, and
// SnapshotAndReset after recording 20 values (as between two reports),
// with the histogram's pages already allocated.
func BenchmarkHistogramSnapshot(b *testing.B) {
	for _, l := range sketchLoads {
		h := NewHistogram()
		for _, v := range l.values {
			h.Update(v)
		}
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.Snapshot()
			}
		})
		b.Run(l.name+"-reset", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for j := range 20 {
					h.Update(l.values[j%len(l.values)])
				}
				h.SnapshotAndReset()
			}
		})
	}
}

func BenchmarkTimerSnapshotAndReset(b *testing.B) {
	t := NewTimer()
	b.ReportAllocs()
	for b.Loop() {
		for j := range 20 {
			t.Update(time.Duration(j+1) * time.Millisecond)
		}
		t.SnapshotAndReset()
	}
}

func BenchmarkMeterSnapshot(b *testing.B) {
	m := NewMeter()
	b.ReportAllocs()
	for b.Loop() {
		m.Mark(1)
		m.Snapshot()
	}
}

// BenchmarkVecWith is a vector's hit: With(values...).Inc() on an existing
// series, with 2 and 5 tags (the bench module compares it with
// client_golang's WithLabelValues).
func BenchmarkVecWith(b *testing.B) {
	r := NewRegistry()
	v2, _ := r.CounterVec("http.requests", "method", "code")
	v5, _ := r.CounterVec("http.requests.5", "route", "method", "code", "region", "host")
	b.Run("2tags", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v2.With("GET", "200").Inc()
		}
	})
	b.Run("5tags", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v5.With("/api/v1/users", "GET", "200", "eu-west-1", "web-0001").Inc()
		}
	})
}
