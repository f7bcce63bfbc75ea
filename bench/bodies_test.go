package bench

import (
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/prometheus/client_golang/prometheus"
	gometrics "github.com/rcrowley/go-metrics"
)

// The same value for every library: a 42ms duration, as a time.Duration for
// timers, as float64 seconds for Prometheus, VictoriaMetrics and our
// Histogram, as int64 nanoseconds for a go-metrics Histogram.
const (
	dur     = 42 * time.Millisecond
	durSecs = 0.042
)

// unroll is the number of calls in one iteration of the loop of every
// operation body below. With one call per iteration, the loop (b.Loop costs
// about 3.5 ns more per iteration than a plain counted loop on some CPUs;
// see BenchmarkLoopOverhead) would be a large share of a 2–3 ns operation
// and would pull every ratio towards 1; with 16 calls it is a sixteenth.
const unroll = 16

// A body makes n calls of one operation on one metric (n a multiple of
// unroll), written out as direct calls in an unrolled loop, the way user
// code calls a metric: ours through a pointer, the peers' through what their
// constructors return (an interface for Prometheus and go-metrics). A
// factory makes the metric and returns its body, and a function that
// releases the metric (go-metrics meters and timers have a ticking
// goroutine) or nil.
type body func(n int)

type factory func() (body, func())

// apptuitCounterInc is metrics.Counter.Inc.
func apptuitCounterInc() (body, func()) {
	c := metrics.NewCounter()
	return func(n int) {
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
	}, nil
}

// promCounterInc is Prometheus Counter.Inc (through the prometheus.Counter interface).
func promCounterInc() (body, func()) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "c"})
	return func(n int) {
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
	}, nil
}

// gmCounterInc is go-metrics Counter.Inc(1).
func gmCounterInc() (body, func()) {
	c := gometrics.NewCounter()
	return func(n int) {
		for i := 0; i < n; i += unroll {
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
			c.Inc(1)
		}
	}, nil
}

// vmCounterInc is VictoriaMetrics Counter.Inc.
func vmCounterInc() (body, func()) {
	c := vm.NewSet().NewCounter("c")
	return func(n int) {
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
	}, nil
}

// apptuitGaugeSet is metrics.Gauge.Set.
func apptuitGaugeSet() (body, func()) {
	g := metrics.NewGauge()
	return func(n int) {
		for i := 0; i < n; i += unroll {
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
		}
	}, nil
}

// promGaugeSet is Prometheus Gauge.Set.
func promGaugeSet() (body, func()) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})
	return func(n int) {
		for i := 0; i < n; i += unroll {
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
		}
	}, nil
}

// gmGaugeSet is go-metrics GaugeFloat64.Update.
func gmGaugeSet() (body, func()) {
	g := gometrics.NewGaugeFloat64()
	return func(n int) {
		for i := 0; i < n; i += unroll {
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
			g.Update(durSecs)
		}
	}, nil
}

// vmGaugeSet is VictoriaMetrics Gauge.Set.
func vmGaugeSet() (body, func()) {
	g := vm.NewSet().NewGauge("g", nil)
	return func(n int) {
		for i := 0; i < n; i += unroll {
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
			g.Set(durSecs)
		}
	}, nil
}

// apptuitMeterMark is metrics.Meter.Mark(1).
func apptuitMeterMark() (body, func()) {
	m := metrics.NewMeter()
	return func(n int) {
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
	}, nil
}

// gmMeterMark is go-metrics Meter.Mark(1).
func gmMeterMark() (body, func()) {
	m := gometrics.NewMeter()
	return func(n int) {
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
	}, m.Stop
}

// apptuitHistogramUpdate is metrics.Histogram.Update.
func apptuitHistogramUpdate() (body, func()) {
	h := metrics.NewHistogram()
	return func(n int) {
		for i := 0; i < n; i += unroll {
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
		}
	}, nil
}

// promHistogramObserve is Prometheus Histogram.Observe, default buckets.
func promHistogramObserve() (body, func()) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Buckets: prometheus.DefBuckets})
	return func(n int) {
		for i := 0; i < n; i += unroll {
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
			h.Observe(durSecs)
		}
	}, nil
}

// gmHistogramUpdate is go-metrics Histogram.Update, exponentially decaying sample of 1028.
func gmHistogramUpdate() (body, func()) {
	h := gometrics.NewHistogram(gometrics.NewExpDecaySample(1028, 0.015))
	return func(n int) {
		for i := 0; i < n; i += unroll {
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
			h.Update(int64(dur))
		}
	}, nil
}

// vmHistogramUpdate is VictoriaMetrics Histogram.Update.
func vmHistogramUpdate() (body, func()) {
	h := vm.NewSet().NewHistogram("h")
	return func(n int) {
		for i := 0; i < n; i += unroll {
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
			h.Update(durSecs)
		}
	}, nil
}

// apptuitTimerUpdate is metrics.Timer.Update.
func apptuitTimerUpdate() (body, func()) {
	t := metrics.NewTimer()
	return func(n int) {
		for i := 0; i < n; i += unroll {
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
		}
	}, nil
}

// gmTimerUpdate is go-metrics Timer.Update.
func gmTimerUpdate() (body, func()) {
	t := gometrics.NewTimer()
	return func(n int) {
		for i := 0; i < n; i += unroll {
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
			t.Update(dur)
		}
	}, t.Stop
}
