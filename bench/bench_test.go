// Package bench compares package metrics with prometheus/client_golang,
// VictoriaMetrics/metrics and rcrowley/go-metrics, in one run: the hot
// paths (each benchmark with a sub-benchmark per library: apptuit,
// prometheus, victoriametrics, gometrics), the memory each kind of metric
// holds (BenchmarkMemoryPerMetric), and, behind flags, paired ratio checks
// that fail when a target is broken (TestPairedRatios). See RESULTS.md.
package bench

import (
	"runtime"
	"sync"
	"testing"

	"github.com/apptuit-go/apptuit/metrics"
)

// both runs the body of f as sub-benchmark name (one goroutine) and
// nameParallel (GOMAXPROCS goroutines on the same metric, as b.RunParallel
// does, b.N calls in all). ns/op is per call either way.
func both(b *testing.B, name string, f factory) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		run, stop := f()
		if stop != nil {
			defer stop()
		}
		n := (b.N + unroll - 1) / unroll * unroll
		b.ResetTimer()
		run(n)
	})
	b.Run(name+"Parallel", func(b *testing.B) {
		b.ReportAllocs()
		run, stop := f()
		if stop != nil {
			defer stop()
		}
		parallel(b, run)
	})
}

// parallel runs run on GOMAXPROCS goroutines at once, b.N calls in all,
// and times them from the start of the first to the end of the last.
func parallel(b *testing.B, run body) {
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
			run(per)
		}()
	}
	ready.Wait()
	b.ResetTimer()
	close(start)
	done.Wait()
}

func BenchmarkCounterInc(b *testing.B) {
	both(b, "apptuit", apptuitCounterInc)
	both(b, "prometheus", promCounterInc)
	both(b, "victoriametrics", vmCounterInc)
	both(b, "gometrics", gmCounterInc)
}

func BenchmarkGaugeSet(b *testing.B) {
	both(b, "apptuit", apptuitGaugeSet)
	both(b, "prometheus", promGaugeSet)
	both(b, "victoriametrics", vmGaugeSet)
	both(b, "gometrics", gmGaugeSet)
}

// Prometheus and VictoriaMetrics have no meter; the target compares
// Meter.Mark with Prometheus Counter.Inc (BenchmarkCounterInc/prometheus).
func BenchmarkMeterMark(b *testing.B) {
	both(b, "apptuit", apptuitMeterMark)
	both(b, "gometrics", gmMeterMark)
}

func BenchmarkHistogramUpdate(b *testing.B) {
	both(b, "apptuit", apptuitHistogramUpdate)
	both(b, "prometheus", promHistogramObserve)
	both(b, "victoriametrics", vmHistogramUpdate)
	both(b, "gometrics", gmHistogramUpdate)
}

// Timer.Update with a precomputed duration, against go-metrics
// Timer.Update with the same duration and Prometheus Histogram.Observe
// (default buckets) with the same duration as float64 seconds, which is
// how Prometheus times things. None of them reads the clock.
func BenchmarkTimerUpdate(b *testing.B) {
	both(b, "apptuit", apptuitTimerUpdate)
	both(b, "prometheus", promHistogramObserve)
	both(b, "gometrics", gmTimerUpdate)
}

// BenchmarkLoopOverhead measures what the loop itself costs per iteration,
// empty and around one Counter.Inc, in the two forms: for b.Loop() and a
// plain for over b.N. It is why the benchmarks above unroll 16 calls per
// iteration: compare CounterInc/apptuit (unrolled) with the one-call
// forms here.
func BenchmarkLoopOverhead(b *testing.B) {
	b.Run("bLoop-empty", func(b *testing.B) {
		for b.Loop() {
		}
	})
	b.Run("bN-empty", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
		}
	})
	b.Run("bLoop-CounterInc", func(b *testing.B) {
		c := metrics.NewCounter()
		for b.Loop() {
			c.Inc()
		}
	})
	b.Run("bN-CounterInc", func(b *testing.B) {
		c := metrics.NewCounter()
		for i := 0; i < b.N; i++ {
			c.Inc()
		}
	})
}
