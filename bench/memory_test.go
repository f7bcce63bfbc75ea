package bench

import (
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/prometheus/client_golang/prometheus"
	gometrics "github.com/rcrowley/go-metrics"
)

// memoryMetrics is how many metrics each measurement makes.
const memoryMetrics = 10_000

// retainedPerMetric returns the heap bytes that n metrics made by mk
// retain, per metric: runtime.ReadMemStats after a GC before and after
// making them, with the metrics (and whatever mk keeps, such as a
// registry) kept alive.
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

// threeDecades are 100 durations spread evenly on a log scale from 1ms to
// 1s, so that every power of two between them has some.
func threeDecades() []time.Duration {
	ds := make([]time.Duration, 100)
	for j := range ds {
		ds[j] = time.Duration(1e9 * math.Exp(math.Log(1e-3)+math.Log(1e3)*float64(j)/float64(len(ds)-1)))
	}
	return ds
}

// A memCase makes one metric of a kind, registered the way each library
// registers it (our Registry, a Prometheus Registry, a VictoriaMetrics Set,
// a go-metrics Registry), named by i; a nil function means the library has
// no such kind. The registry is made by newReg once per measurement.
type memCase struct {
	kind string
	mk   map[string]func(reg any, i int) any // by library
}

// libraries, in the order of the table, with a registry maker each.
var libraries = []struct {
	name   string
	newReg func() any
}{
	{"apptuit", func() any { return metrics.NewRegistry(metrics.WithSeriesLimit(0)) }}, // 10,000 tagged series of one name
	{"prometheus", func() any { return prometheus.NewRegistry() }},
	{"victoriametrics", func() any { return vm.NewSet() }},
	{"gometrics", func() any { return gometrics.NewRegistry() }},
}

func memCases() []memCase {
	ds := threeDecades()
	fn := func() float64 { return 1 }
	name := func(kind string, i int) string { return fmt.Sprintf("%s_%05d", kind, i) }
	host := func(i int) string { return fmt.Sprintf("host-%05d", i) }
	ours := func(r any) *metrics.Registry { return r.(*metrics.Registry) }
	prom := func(r any, c prometheus.Collector) any { r.(*prometheus.Registry).MustRegister(c); return c }
	set := func(r any) *vm.Set { return r.(*vm.Set) }
	gm := func(r any) gometrics.Registry { return r.(gometrics.Registry) }
	must := func(m any, err error) any {
		if err != nil {
			panic(err)
		}
		return m
	}
	// Tagged metrics share one Prometheus vector (per registry) and name.
	vecs := map[any]*prometheus.CounterVec{}
	gvecs := map[any]*prometheus.GaugeVec{}
	counterVec := func(r any) *prometheus.CounterVec {
		v := vecs[r]
		if v == nil {
			v = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests"}, []string{"host"})
			r.(*prometheus.Registry).MustRegister(v)
			vecs[r] = v
		}
		return v
	}
	gaugeVec := func(r any) *prometheus.GaugeVec {
		v := gvecs[r]
		if v == nil {
			v = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "queue"}, []string{"host"})
			r.(*prometheus.Registry).MustRegister(v)
			gvecs[r] = v
		}
		return v
	}
	promHist := func(r any, n string) prometheus.Histogram {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: n, Buckets: prometheus.DefBuckets})
		r.(*prometheus.Registry).MustRegister(h)
		return h
	}
	return []memCase{
		{"Counter", map[string]func(any, int) any{
			"apptuit": func(r any, i int) any { return must(ours(r).Counter(name("counter", i))) },
			"prometheus": func(r any, i int) any {
				return prom(r, prometheus.NewCounter(prometheus.CounterOpts{Name: name("counter", i)}))
			},
			"victoriametrics": func(r any, i int) any { return set(r).NewCounter(name("counter", i)) },
			"gometrics":       func(r any, i int) any { return gometrics.GetOrRegisterCounter(name("counter", i), gm(r)) },
		}},
		{"Counter, 1 tag", map[string]func(any, int) any{
			"apptuit": func(r any, i int) any {
				return must(ours(r).CounterWith("requests", map[string]string{"host": host(i)}))
			},
			"prometheus":      func(r any, i int) any { return counterVec(r).WithLabelValues(host(i)) },
			"victoriametrics": func(r any, i int) any { return set(r).NewCounter(`requests{host="` + host(i) + `"}`) },
			"gometrics":       func(r any, i int) any { return gometrics.GetOrRegisterCounter("requests."+host(i), gm(r)) }, // no tags: in the name
		}},
		{"Gauge", map[string]func(any, int) any{
			"apptuit": func(r any, i int) any { return must(ours(r).Gauge(name("gauge", i))) },
			"prometheus": func(r any, i int) any {
				return prom(r, prometheus.NewGauge(prometheus.GaugeOpts{Name: name("gauge", i)}))
			},
			"victoriametrics": func(r any, i int) any { return set(r).NewGauge(name("gauge", i), nil) },
			"gometrics":       func(r any, i int) any { return gometrics.GetOrRegisterGaugeFloat64(name("gauge", i), gm(r)) },
		}},
		{"Gauge, 1 tag", map[string]func(any, int) any{
			"apptuit":         func(r any, i int) any { return must(ours(r).GaugeWith("queue", map[string]string{"host": host(i)})) },
			"prometheus":      func(r any, i int) any { return gaugeVec(r).WithLabelValues(host(i)) },
			"victoriametrics": func(r any, i int) any { return set(r).NewGauge(`queue{host="`+host(i)+`"}`, nil) },
			"gometrics":       func(r any, i int) any { return gometrics.GetOrRegisterGaugeFloat64("queue."+host(i), gm(r)) },
		}},
		{"GaugeFunc", map[string]func(any, int) any{
			"apptuit": func(r any, i int) any { return must(ours(r).GaugeFunc(name("gauge", i), fn)) },
			"prometheus": func(r any, i int) any {
				return prom(r, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name("gauge", i)}, fn))
			},
			"victoriametrics": func(r any, i int) any { return set(r).NewGauge(name("gauge", i), fn) },
			"gometrics": func(r any, i int) any {
				g := gometrics.NewFunctionalGaugeFloat64(fn)
				gm(r).Register(name("gauge", i), g)
				return g
			},
		}},
		{"Meter", map[string]func(any, int) any{
			"apptuit":   func(r any, i int) any { return must(ours(r).Meter(name("meter", i))) },
			"gometrics": func(r any, i int) any { return gometrics.GetOrRegisterMeter(name("meter", i), gm(r)) },
		}},
		{"Histogram, empty", map[string]func(any, int) any{
			"apptuit":         func(r any, i int) any { return must(ours(r).Histogram(name("histogram", i))) },
			"prometheus":      func(r any, i int) any { return promHist(r, name("histogram", i)) },
			"victoriametrics": func(r any, i int) any { return set(r).NewHistogram(name("histogram", i)) },
			"gometrics": func(r any, i int) any {
				return gometrics.GetOrRegisterHistogram(name("histogram", i), gm(r), gometrics.NewExpDecaySample(1028, 0.015))
			},
		}},
		{"Timer, empty", map[string]func(any, int) any{
			"apptuit":         func(r any, i int) any { return must(ours(r).Timer(name("timer", i))) },
			"prometheus":      func(r any, i int) any { return promHist(r, name("timer", i)) },
			"victoriametrics": func(r any, i int) any { return set(r).NewHistogram(name("timer", i)) },
			"gometrics":       func(r any, i int) any { return gometrics.GetOrRegisterTimer(name("timer", i), gm(r)) },
		}},
		{"Timer, 1ms to 1s", map[string]func(any, int) any{
			"apptuit": func(r any, i int) any {
				t := must(ours(r).Timer(name("timer", i))).(*metrics.Timer)
				for _, d := range ds {
					t.Update(d)
				}
				return t
			},
			"prometheus": func(r any, i int) any {
				h := promHist(r, name("timer", i))
				for _, d := range ds {
					h.Observe(d.Seconds())
				}
				return h
			},
			"victoriametrics": func(r any, i int) any {
				h := set(r).NewHistogram(name("timer", i))
				for _, d := range ds {
					h.Update(d.Seconds())
				}
				return h
			},
			"gometrics": func(r any, i int) any {
				t := gometrics.GetOrRegisterTimer(name("timer", i), gm(r))
				for _, d := range ds {
					t.Update(d)
				}
				return t
			},
		}},
	}
}

// stopAll stops the go-metrics meters and timers of a registry: each has
// been handed to a ticking goroutine that would otherwise keep it.
func stopAll(r any) {
	if g, ok := r.(gometrics.Registry); ok {
		g.Each(func(_ string, m any) {
			if s, ok := m.(interface{ Stop() }); ok {
				s.Stop()
			}
		})
	}
}

// BenchmarkMemoryPerMetric measures the heap retained per metric, over
// 10,000 metrics of each kind registered in each library's registry, and
// reports it as B/metric (ns/op is the time to make the 10,000). Every
// library's histogram or timer is given the same 100 durations spread over
// 1ms–1s (Prometheus and VictoriaMetrics as seconds in a histogram, the
// way they time things). Tagged metrics are named requests{host="host-NNNNN"}
// (a CounterVec child in Prometheus, the tag in the name for go-metrics,
// which has none).
func BenchmarkMemoryPerMetric(b *testing.B) {
	for _, c := range memCases() {
		for _, lib := range libraries {
			mk := c.mk[lib.name]
			if mk == nil {
				continue
			}
			b.Run(c.kind+"/"+lib.name, func(b *testing.B) {
				var total float64
				for b.Loop() {
					r := lib.newReg()
					total += retainedPerMetric(memoryMetrics, func(i int) any { return mk(r, i) })
					runtime.KeepAlive(r)
					stopAll(r)
				}
				b.ReportMetric(total/float64(b.N), "B/metric")
			})
		}
	}
}
