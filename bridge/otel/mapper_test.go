package otelbridge

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func walkAll(t *testing.T, m *mapper, rm *metricdata.ResourceMetrics) ([]string, []error) {
	t.Helper()
	var out []string
	errs := m.walk(rm, func(name string, tags map[string]string, _ time.Time, v float64) {
		out = append(out, format(name, tags, v))
	})
	slices.Sort(out)
	return out, errs
}

func oneMetric(md metricdata.Metrics) *metricdata.ResourceMetrics {
	return &metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{
		Scope: instrumentation.Scope{Name: "s"}, Metrics: []metricdata.Metrics{md}}}}
}

func newTestMapper(t *testing.T, opts ...Option) *mapper {
	t.Helper()
	cfg, err := newConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	return newMapper(cfg)
}

// TestSummary: summaries (from bridged instrumentation) map like
// Prometheus summaries, NaN quantiles skipped.
func TestSummary(t *testing.T) {
	rm := oneMetric(metricdata.Metrics{Name: "rpc.latency", Unit: "ms", Data: metricdata.Summary{DataPoints: []metricdata.SummaryDataPoint{{
		Attributes: attribute.NewSet(attribute.String("rpc.method", "Get")),
		Count:      10, Sum: 42,
		QuantileValues: []metricdata.QuantileValue{{Quantile: 0.5, Value: 3}, {Quantile: 0.99, Value: math.NaN()}, {Quantile: 1, Value: 9}},
	}}}})
	got, errs := walkAll(t, newTestMapper(t), rm)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	diff(t, got, []string{
		"rpc_latency_milliseconds{quantile=0.5,rpc_method=Get} 3",
		"rpc_latency_milliseconds{quantile=1,rpc_method=Get} 9",
		"rpc_latency_milliseconds_sum{rpc_method=Get} 42",
		"rpc_latency_milliseconds_count{rpc_method=Get} 10",
	})
}

// TestExponentialHistogram maps an int exponential histogram with
// negative, zero and positive buckets; quantiles are checked by hand.
func TestExponentialHistogram(t *testing.T) {
	rm := oneMetric(metricdata.Metrics{Name: "delta", Data: metricdata.ExponentialHistogram[int64]{DataPoints: []metricdata.ExponentialHistogramDataPoint[int64]{{
		Count: 4, Sum: -3, Scale: 1, ZeroCount: 2, ZeroThreshold: 0.001,
		NegativeBucket: metricdata.ExponentialBucket{Offset: 0, Counts: []uint64{1}},
		PositiveBucket: metricdata.ExponentialBucket{Offset: 2, Counts: []uint64{1}},
	}, {Attributes: attribute.NewSet(attribute.String("k", "empty"))}}}})
	got, errs := walkAll(t, newTestMapper(t, WithQuantiles(0.25, 0.5, 1)), rm)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	diff(t, got, []string{
		"delta{quantile=0.25} -1",
		"delta{quantile=0.5} 0",
		"delta{quantile=1} " + format("", nil, math.Exp2(1.5))[3:],
		"delta_sum{} -3",
		"delta_count{} 4",
		"delta_sum{k=empty} 0", // no quantiles of no observations
		"delta_count{k=empty} 0",
	})
}

func TestQuantile(t *testing.T) {
	twoBuckets := expHistogram{count: 4, scale: 0, pos: metricdata.ExponentialBucket{Offset: 0, Counts: []uint64{2, 2}}}
	clamped := twoBuckets
	clamped.min, clamped.hasMin, clamped.max, clamped.hasMax = 1.5, true, 3, true
	mixed := expHistogram{count: 4, scale: 1, zeroCount: 2, zeroThreshold: 0.001,
		neg: metricdata.ExponentialBucket{Offset: 0, Counts: []uint64{1}},
		pos: metricdata.ExponentialBucket{Offset: 2, Counts: []uint64{1}}}
	coarse := expHistogram{count: 1, scale: -1, pos: metricdata.ExponentialBucket{Offset: 1, Counts: []uint64{1}}}
	zeroOnly := expHistogram{count: 4, zeroCount: 4, zeroThreshold: 0.5}
	for _, c := range []struct {
		name string
		h    expHistogram
		q    float64
		want float64
	}{
		{"lowest bound", twoBuckets, 0, 1},
		{"median at a bucket's top", twoBuckets, 0.5, 2},
		{"exponential interpolation", twoBuckets, 0.75, math.Exp2(1.5)},
		{"top", twoBuckets, 1, 4},
		{"clamped to min", clamped, 0, 1.5},
		{"clamped to max", clamped, 1, 3},
		{"inside min and max", clamped, 0.75, math.Exp2(1.5)},
		{"negative bucket", mixed, 0.125, -math.Exp2(0.25)},
		{"negative bucket top", mixed, 0.25, -1},
		{"zero bucket, linear", mixed, 0.5, 0},
		{"positive after zero", mixed, 1, math.Exp2(1.5)},
		{"negative scale (base 4)", coarse, 0.5, 8},
		{"zero bucket only: [0, threshold]", zeroOnly, 0.5, 0.25},
		{"empty", expHistogram{}, 0.5, math.NaN()},
		{"counts short of count", expHistogram{count: 10, pos: metricdata.ExponentialBucket{Counts: []uint64{1}}}, 0.9, 2},
	} {
		got := c.h.quantile(c.q)
		if got != c.want && !(math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("%s: quantile(%v) = %v, want %v", c.name, c.q, got, c.want)
		}
	}
}

// TestNames: names as OTel's Prometheus exporter writes them (with
// underscore escaping), ':' replaced.
func TestNames(t *testing.T) {
	m := newTestMapper(t)
	for _, c := range []struct {
		name, unit string
		typ        otlptranslator.MetricType
		want       string
	}{
		{"http.server.request.duration", "s", otlptranslator.MetricTypeHistogram, "http_server_request_duration_seconds"},
		{"http.server.requests", "{request}", otlptranslator.MetricTypeMonotonicCounter, "http_server_requests_total"},
		{"requests_total", "", otlptranslator.MetricTypeMonotonicCounter, "requests_total"},
		{"process.memory.usage", "By", otlptranslator.MetricTypeGauge, "process_memory_usage_bytes"},
		{"network.io", "By/s", otlptranslator.MetricTypeNonMonotonicCounter, "network_io_bytes_per_second"},
		{"cpu.utilization", "1", otlptranslator.MetricTypeGauge, "cpu_utilization_ratio"},
		{"ratio.counter", "1", otlptranslator.MetricTypeMonotonicCounter, "ratio_counter_total"},
		{"latency", "ms", otlptranslator.MetricTypeHistogram, "latency_milliseconds"},
		{"job:rate", "", otlptranslator.MetricTypeGauge, "job_rate"},
		{"5xx", "", otlptranslator.MetricTypeGauge, "_5xx"},
	} {
		n := m.namesOf(c.name, c.unit, c.typ)
		if n.err != nil || n.base != c.want {
			t.Errorf("%q (%q, %v) = %q, %v; want %q", c.name, c.unit, c.typ, n.base, n.err, c.want)
		}
	}
	if n := m.namesOf("___", "", otlptranslator.MetricTypeGauge); n.err == nil {
		t.Errorf("a name of underscores only was accepted as %q", n.base)
	}
}

// TestAttributeValues: every attribute type is formatted as Value.Emit
// does; empty strings are dropped.
func TestAttributeValues(t *testing.T) {
	m := newTestMapper(t)
	set := attribute.NewSet(attribute.String("s", "x"), attribute.String("empty", ""), attribute.Bool("b", false),
		attribute.Int64("i", -12345), attribute.Float64("f", 0.5), attribute.StringSlice("ss", []string{"a", "b"}),
		attribute.Int64Slice("is", []int64{1, 2}), attribute.Key("9lives").String("v"), attribute.Key("ünï.code").String("v"))
	m.setAttributes(&set)
	got := format("", m.tags, 0)
	want := `{_n_code=v,b=false,f=0.5,i=-12345,is=[1,2],key_9lives=v,s=x,ss=["a","b"]} 0`
	if got != want {
		t.Fatalf("tags %s, want %s", got, want)
	}
}

func TestUnsupportedAggregation(t *testing.T) {
	type odd struct{ metricdata.Aggregation }
	_, errs := walkAll(t, newTestMapper(t), oneMetric(metricdata.Metrics{Name: "odd", Data: odd{}}))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `"odd"`) {
		t.Fatalf("errors %v", errs)
	}
}
