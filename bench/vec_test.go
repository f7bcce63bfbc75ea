package bench

import (
	"context"
	"strconv"
	"testing"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	otelmetric "go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The series every vector benchmark updates: a request counter told apart
// by 2 tags (method, code) or by 5 (route, method, code, region, host),
// looked up on every call the way instrumented code does.
var (
	keys2 = []string{"method", "code"}
	keys5 = []string{"route", "method", "code", "region", "host"}
	vals5 = []string{"/api/v1/users", "GET", "200", "eu-west-1", "web-0001"}
)

// Each library's idiom for "the counter of these tag values, plus one":
// ours With(values...).Inc(), client_golang WithLabelValues(values...).Inc(),
// VictoriaMetrics GetOrCreateCounter(name{labels}).Inc() with the name built
// once (its documented idiom formats the name per call, which costs more),
// OpenTelemetry Add(ctx, 1, WithAttributes(...)) on an SDK counter with a
// ManualReader. Bodies make unroll calls per iteration of an inner loop;
// one call costs tens of nanoseconds, so loop overhead is negligible.

func apptuitVec2() (body, func()) {
	v, err := metrics.NewRegistry().CounterVec("http.requests", keys2...)
	if err != nil {
		panic(err)
	}
	return func(n int) {
		for i := 0; i < n; i++ {
			v.With("GET", "200").Inc()
		}
	}, nil
}

func apptuitVec5() (body, func()) {
	v, err := metrics.NewRegistry().CounterVec("http.requests", keys5...)
	if err != nil {
		panic(err)
	}
	return func(n int) {
		for i := 0; i < n; i++ {
			v.With("/api/v1/users", "GET", "200", "eu-west-1", "web-0001").Inc()
		}
	}, nil
}

// apptuitMap2 and apptuitMap5 are the ad-hoc path the vectors replace on
// hot paths: CounterWith with a map literal made at every call, as issue
// #17 measured it.
func apptuitMap2() (body, func()) {
	r := metrics.NewRegistry()
	return func(n int) {
		for i := 0; i < n; i++ {
			c, _ := r.CounterWith("http.requests", map[string]string{"method": "GET", "code": "200"})
			c.Inc()
		}
	}, nil
}

func apptuitMap5() (body, func()) {
	r := metrics.NewRegistry()
	return func(n int) {
		for i := 0; i < n; i++ {
			c, _ := r.CounterWith("http.requests", map[string]string{"route": "/api/v1/users", "method": "GET",
				"code": "200", "region": "eu-west-1", "host": "web-0001"})
			c.Inc()
		}
	}, nil
}

func promVec2() (body, func()) {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total"}, keys2)
	return func(n int) {
		for i := 0; i < n; i++ {
			v.WithLabelValues("GET", "200").Inc()
		}
	}, nil
}

func promVec5() (body, func()) {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total"}, keys5)
	return func(n int) {
		for i := 0; i < n; i++ {
			v.WithLabelValues("/api/v1/users", "GET", "200", "eu-west-1", "web-0001").Inc()
		}
	}, nil
}

func vmVec2() (body, func()) {
	s := vm.NewSet()
	name := `http_requests_total{method="GET",code="200"}`
	return func(n int) {
		for i := 0; i < n; i++ {
			s.GetOrCreateCounter(name).Inc()
		}
	}, nil
}

func vmVec5() (body, func()) {
	s := vm.NewSet()
	name := `http_requests_total{route="/api/v1/users",method="GET",code="200",region="eu-west-1",host="web-0001"}`
	return func(n int) {
		for i := 0; i < n; i++ {
			s.GetOrCreateCounter(name).Inc()
		}
	}, nil
}

func otelCounter() (otelmetric.Int64Counter, func()) {
	p := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	c, err := p.Meter("bench").Int64Counter("http.requests")
	if err != nil {
		panic(err)
	}
	return c, func() { p.Shutdown(context.Background()) }
}

func otelVec2() (body, func()) {
	c, stop := otelCounter()
	ctx := context.Background()
	return func(n int) {
		for i := 0; i < n; i++ {
			c.Add(ctx, 1, otelmetric.WithAttributes(attribute.String("method", "GET"), attribute.String("code", "200")))
		}
	}, stop
}

func otelVec5() (body, func()) {
	c, stop := otelCounter()
	ctx := context.Background()
	return func(n int) {
		for i := 0; i < n; i++ {
			c.Add(ctx, 1, otelmetric.WithAttributes(attribute.String("route", "/api/v1/users"), attribute.String("method", "GET"),
				attribute.String("code", "200"), attribute.String("region", "eu-west-1"), attribute.String("host", "web-0001")))
		}
	}, stop
}

// BenchmarkVecHit is the hot path of issue #17.1: the counter of an
// existing series, looked up by its tag values and incremented.
func BenchmarkVecHit(b *testing.B) {
	for _, c := range []struct {
		name string
		f    factory
	}{
		{"2tags/apptuit", apptuitVec2}, {"2tags/apptuit-map", apptuitMap2}, {"2tags/prometheus", promVec2}, {"2tags/victoriametrics", vmVec2}, {"2tags/otel", otelVec2},
		{"5tags/apptuit", apptuitVec5}, {"5tags/apptuit-map", apptuitMap5}, {"5tags/prometheus", promVec5}, {"5tags/victoriametrics", vmVec5}, {"5tags/otel", otelVec5},
	} {
		both(b, c.name, c.f)
	}
}

// BenchmarkVecMiss makes a new series on every call (the last tag value
// counts up; the strings are made before the timer starts), so it measures
// what a new series costs each library, allocations included. Our registry
// is made without a series limit.
func BenchmarkVecMiss(b *testing.B) {
	ctx := context.Background()
	for _, tags := range []int{2, 5} {
		prefix := vals5[:tags-1]
		if tags == 2 {
			prefix = []string{"GET"}
		}
		keys := keys2
		if tags == 5 {
			keys = keys5
		}
		run := func(name string, mk func() func(vals []string)) {
			b.Run(strconv.Itoa(tags)+"tags/"+name, func(b *testing.B) {
				vals := make([][]string, b.N)
				for i := range vals {
					vals[i] = append(append([]string(nil), prefix...), "v"+strconv.Itoa(i))
				}
				inc := mk()
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					inc(vals[i])
				}
			})
		}
		run("apptuit", func() func([]string) {
			v, _ := metrics.NewRegistry(metrics.WithSeriesLimit(0)).CounterVec("http.requests", keys...)
			return func(vals []string) { v.With(vals...).Inc() }
		})
		run("prometheus", func() func([]string) {
			v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total"}, keys)
			return func(vals []string) { v.WithLabelValues(vals...).Inc() }
		})
		run("victoriametrics", func() func([]string) {
			s := vm.NewSet()
			return func(vals []string) {
				name := "http_requests_total{"
				for i, k := range keys {
					if i > 0 {
						name += ","
					}
					name += k + `="` + vals[i] + `"`
				}
				s.GetOrCreateCounter(name + "}").Inc()
			}
		})
		run("otel", func() func([]string) {
			c, _ := otelCounter()
			return func(vals []string) {
				kv := make([]attribute.KeyValue, len(keys))
				for i, k := range keys {
					kv[i] = attribute.String(k, vals[i])
				}
				c.Add(ctx, 1, otelmetric.WithAttributes(kv...))
			}
		})
	}
}
