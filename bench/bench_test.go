// Package bench compares the hot paths of package metrics with
// prometheus/client_golang and rcrowley/go-metrics, in one run, each
// benchmark with a sub-benchmark per library: apptuit, prometheus,
// gometrics. See RESULTS.md.
package bench

import (
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/metrics"
	"github.com/prometheus/client_golang/prometheus"
	gometrics "github.com/rcrowley/go-metrics"
)

// The same value for every library: a 42ms duration, as a time.Duration for
// timers, as float64 seconds for Prometheus and our Histogram, as int64
// nanoseconds for a go-metrics Histogram.
const (
	dur     = 42 * time.Millisecond
	durSecs = 0.042
)

// both runs f as sub-benchmark name (one goroutine) and nameParallel
// (b.RunParallel, all goroutines on the same metric). Each f calls the
// metric directly in its loop, as user code would: ours through a pointer,
// Prometheus's and go-metrics's through the interfaces they return.
func both(b *testing.B, name string, f func(b *testing.B, parallel bool)) {
	b.Run(name, func(b *testing.B) { b.ReportAllocs(); f(b, false) })
	b.Run(name+"Parallel", func(b *testing.B) { b.ReportAllocs(); f(b, true) })
}

func BenchmarkCounterInc(b *testing.B) {
	both(b, "apptuit", func(b *testing.B, p bool) {
		c := metrics.NewCounter()
		if !p {
			for b.Loop() {
				c.Inc()
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
	both(b, "prometheus", func(b *testing.B, p bool) {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "c"})
		if !p {
			for b.Loop() {
				c.Inc()
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
	both(b, "gometrics", func(b *testing.B, p bool) {
		c := gometrics.NewCounter()
		if !p {
			for b.Loop() {
				c.Inc(1)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc(1)
			}
		})
	})
}

func BenchmarkGaugeSet(b *testing.B) {
	both(b, "apptuit", func(b *testing.B, p bool) {
		g := metrics.NewGauge()
		if !p {
			for b.Loop() {
				g.Set(durSecs)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				g.Set(durSecs)
			}
		})
	})
	both(b, "prometheus", func(b *testing.B, p bool) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})
		if !p {
			for b.Loop() {
				g.Set(durSecs)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				g.Set(durSecs)
			}
		})
	})
	both(b, "gometrics", func(b *testing.B, p bool) {
		g := gometrics.NewGaugeFloat64()
		if !p {
			for b.Loop() {
				g.Update(durSecs)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				g.Update(durSecs)
			}
		})
	})
}

// Prometheus has no meter; the target compares Meter.Mark with
// Prometheus Counter.Inc (BenchmarkCounterInc/prometheus).
func BenchmarkMeterMark(b *testing.B) {
	both(b, "apptuit", func(b *testing.B, p bool) {
		m := metrics.NewMeter()
		if !p {
			for b.Loop() {
				m.Mark(1)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Mark(1)
			}
		})
	})
	both(b, "gometrics", func(b *testing.B, p bool) {
		m := gometrics.NewMeter()
		defer m.Stop()
		if !p {
			for b.Loop() {
				m.Mark(1)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Mark(1)
			}
		})
	})
}

func BenchmarkHistogramUpdate(b *testing.B) {
	both(b, "apptuit", func(b *testing.B, p bool) {
		h := metrics.NewHistogram()
		if !p {
			for b.Loop() {
				h.Update(durSecs)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Update(durSecs)
			}
		})
	})
	both(b, "prometheus", func(b *testing.B, p bool) {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Buckets: prometheus.DefBuckets})
		if !p {
			for b.Loop() {
				h.Observe(durSecs)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Observe(durSecs)
			}
		})
	})
	both(b, "gometrics", func(b *testing.B, p bool) {
		h := gometrics.NewHistogram(gometrics.NewExpDecaySample(1028, 0.015))
		if !p {
			for b.Loop() {
				h.Update(int64(dur))
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Update(int64(dur))
			}
		})
	})
}

// Timer.Update with a precomputed duration, against go-metrics
// Timer.Update with the same duration and Prometheus Histogram.Observe
// (default buckets) with the same duration as float64 seconds, which is
// how Prometheus times things. None of them reads the clock.
func BenchmarkTimerUpdate(b *testing.B) {
	both(b, "apptuit", func(b *testing.B, p bool) {
		t := metrics.NewTimer()
		if !p {
			for b.Loop() {
				t.Update(dur)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				t.Update(dur)
			}
		})
	})
	both(b, "prometheus", func(b *testing.B, p bool) {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "t", Buckets: prometheus.DefBuckets})
		if !p {
			for b.Loop() {
				h.Observe(durSecs)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Observe(durSecs)
			}
		})
	})
	both(b, "gometrics", func(b *testing.B, p bool) {
		t := gometrics.NewTimer()
		defer t.Stop()
		if !p {
			for b.Loop() {
				t.Update(dur)
			}
			return
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				t.Update(dur)
			}
		})
	})
}
