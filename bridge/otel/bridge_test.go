package otelbridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// format writes a point as name{k=v,...} value, tags sorted.
func format(name string, tags map[string]string, v float64) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(tags)) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%s", k, tags[k])
	}
	fmt.Fprintf(&b, "} %v", v)
	return b.String()
}

func collect(t *testing.T, b *Bridge) ([]string, error) {
	t.Helper()
	var out []string
	err := b.Collect(context.Background(), func(name string, tags map[string]string, v float64) {
		out = append(out, format(name, tags, v))
	})
	slices.Sort(out)
	return out, err
}

func diff(t *testing.T, got, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("points:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func mustBridge(t *testing.T, opts ...Option) *Bridge {
	t.Helper()
	b, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testResource is a resource with the three service attributes and two
// more, which are not sent by default.
func testResource() *resource.Resource {
	return resource.NewSchemaless(
		attribute.String("service.name", "checkout"),
		attribute.String("service.namespace", "shop"),
		attribute.String("service.instance.id", "i-1"),
		attribute.String("deployment.environment", "prod"),
		attribute.String("telemetry.sdk.language", "go"),
	)
}

func newProvider(t testing.TB, b *Bridge, opts ...sdkmetric.Option) *sdkmetric.MeterProvider {
	t.Helper()
	mp := sdkmetric.NewMeterProvider(append([]sdkmetric.Option{sdkmetric.WithReader(b.Reader()),
		sdkmetric.WithResource(testResource())}, opts...)...)
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

const svc = "service_instance_id=i-1,service_name=checkout,service_namespace=shop"

// TestEveryInstrument maps every synchronous and observable instrument,
// int and float, with exact names, tags and values.
func TestEveryInstrument(t *testing.T) {
	b := mustBridge(t)
	expView := sdkmetric.NewView(sdkmetric.Instrument{Name: "queue.wait"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}})
	mp := newProvider(t, b, sdkmetric.WithView(expView))
	m := mp.Meter("test")
	ctx := context.Background()

	reqs := must(m.Int64Counter("http.server.requests", metric.WithUnit("{request}")))
	reqs.Add(ctx, 3, metric.WithAttributes(attribute.String("http.request.method", "GET"),
		attribute.Int("http.response.status_code", 200), attribute.Bool("tls", true), attribute.String("empty", "")))
	reqs.Add(ctx, 1, metric.WithAttributes(attribute.String("http.request.method", "POST"),
		attribute.Int("http.response.status_code", 500), attribute.Bool("tls", false)))
	must(m.Float64Counter("payment.amount", metric.WithUnit("USD"))).Add(ctx, 12.5)
	must(m.Int64UpDownCounter("db.client.connections", metric.WithUnit("{connection}"))).Add(ctx, -2)
	must(m.Float64UpDownCounter("queue.depth")).Add(ctx, 1.5)
	must(m.Float64Gauge("system.cpu.utilization", metric.WithUnit("1"))).Record(ctx, 0.75)
	must(m.Int64Gauge("temperature", metric.WithUnit("Cel"))).Record(ctx, -4)
	must(m.Int64ObservableGauge("process.memory.usage", metric.WithUnit("By"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error { o.Observe(4096); return nil })))
	must(m.Float64ObservableCounter("process.cpu.time", metric.WithUnit("s"),
		metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error { o.Observe(1.25); return nil })))
	must(m.Int64ObservableUpDownCounter("goroutines",
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error { o.Observe(12); return nil })))
	dur := must(m.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.5, 1, 2.5)))
	for _, v := range []float64{0.25, 0.5, 0.5, 2, 4} {
		dur.Record(ctx, v, metric.WithAttributes(attribute.String("http.route", "/api")))
	}
	size := must(m.Int64Histogram("rpc.size", metric.WithUnit("By"), metric.WithExplicitBucketBoundaries(10, 100)))
	for _, v := range []int64{5, 50, 500} {
		size.Record(ctx, v)
	}
	wait := must(m.Float64Histogram("queue.wait", metric.WithUnit("ms")))
	for range 10 {
		wait.Record(ctx, 3)
	}
	must(m.Int64Counter("collide")).Add(ctx, 1, metric.WithAttributes(attribute.String("a.b", "y"), attribute.String("a_b", "x")))

	got, err := collect(t, b)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, got, []string{
		"http_server_requests_total{http_request_method=GET,http_response_status_code=200," + svc + ",tls=true} 3",
		"http_server_requests_total{http_request_method=POST,http_response_status_code=500," + svc + ",tls=false} 1",
		"payment_amount_USD_total{" + svc + "} 12.5",
		"db_client_connections{" + svc + "} -2",
		"queue_depth{" + svc + "} 1.5",
		"system_cpu_utilization_ratio{" + svc + "} 0.75",
		"temperature_celsius{" + svc + "} -4",
		"process_memory_usage_bytes{" + svc + "} 4096",
		"process_cpu_time_seconds_total{" + svc + "} 1.25",
		"goroutines{" + svc + "} 12",
		"http_server_request_duration_seconds_bucket{http_route=/api,le=0.005," + svc + "} 0",
		"http_server_request_duration_seconds_bucket{http_route=/api,le=0.5," + svc + "} 3",
		"http_server_request_duration_seconds_bucket{http_route=/api,le=1," + svc + "} 3",
		"http_server_request_duration_seconds_bucket{http_route=/api,le=2.5," + svc + "} 4",
		"http_server_request_duration_seconds_bucket{http_route=/api,le=+Inf," + svc + "} 5",
		"http_server_request_duration_seconds_sum{http_route=/api," + svc + "} 7.25",
		"http_server_request_duration_seconds_count{http_route=/api," + svc + "} 5",
		"rpc_size_bytes_bucket{le=10," + svc + "} 1",
		"rpc_size_bytes_bucket{le=100," + svc + "} 2",
		"rpc_size_bytes_bucket{le=+Inf," + svc + "} 3",
		"rpc_size_bytes_sum{" + svc + "} 555",
		"rpc_size_bytes_count{" + svc + "} 3",
		// one value recorded ten times: every quantile is clamped to min = max
		"queue_wait_milliseconds{quantile=0.5," + svc + "} 3",
		"queue_wait_milliseconds{quantile=0.9," + svc + "} 3",
		"queue_wait_milliseconds{quantile=0.99," + svc + "} 3",
		"queue_wait_milliseconds_sum{" + svc + "} 30",
		"queue_wait_milliseconds_count{" + svc + "} 10",
		"collide_total{a_b=x;y," + svc + "} 1",
	})
}

// TestTemporality: cumulative by default, delta on request (up-down
// counters stay cumulative).
func TestTemporality(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  []Option
		want2 []string
	}{
		{"cumulative", nil, []string{"c_total{" + svc + "} 8", "u{" + svc + "} 8",
			"h_bucket{le=1," + svc + "} 2", "h_bucket{le=+Inf," + svc + "} 2", "h_sum{" + svc + "} 1", "h_count{" + svc + "} 2"}},
		{"delta", []Option{WithDeltaTemporality()}, []string{"c_total{" + svc + "} 3", "u{" + svc + "} 8",
			"h_bucket{le=1," + svc + "} 1", "h_bucket{le=+Inf," + svc + "} 1", "h_sum{" + svc + "} 0.5", "h_count{" + svc + "} 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := mustBridge(t, c.opts...)
			m := newProvider(t, b).Meter("test")
			ctx := context.Background()
			cnt := must(m.Int64Counter("c"))
			ud := must(m.Int64UpDownCounter("u"))
			h := must(m.Float64Histogram("h", metric.WithExplicitBucketBoundaries(1)))
			cnt.Add(ctx, 5)
			ud.Add(ctx, 5)
			h.Record(ctx, 0.5)
			if _, err := collect(t, b); err != nil {
				t.Fatal(err)
			}
			cnt.Add(ctx, 3)
			ud.Add(ctx, 3)
			h.Record(ctx, 0.5)
			got, err := collect(t, b)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, got, c.want2)
		})
	}
}

func TestResourceAndScopeTags(t *testing.T) {
	b := mustBridge(t, WithResourceAttributes("deployment.environment", "no.such.key"), WithScopeTags())
	mp := newProvider(t, b)
	must(mp.Meter("github.com/acme/shop", metric.WithInstrumentationVersion("v1.2.0")).Int64Counter("c")).Add(context.Background(), 1)
	must(mp.Meter("unversioned").Int64Counter("c")).Add(context.Background(), 2)
	got, err := collect(t, b)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, got, []string{
		"c_total{deployment_environment=prod,otel_scope_name=github.com/acme/shop,otel_scope_version=v1.2.0," + svc + "} 1",
		"c_total{deployment_environment=prod,otel_scope_name=unversioned," + svc + "} 2",
	})
}

// TestManyAttributes: a series with more tags than Apptuit allows is
// emitted as it is; the reporter's validation leaves it out with a
// *reporter.MetricError.
func TestManyAttributes(t *testing.T) {
	b := mustBridge(t)
	var attrs []attribute.KeyValue
	for i := range 26 {
		attrs = append(attrs, attribute.Int(fmt.Sprintf("k%02d", i), i))
	}
	must(newProvider(t, b, sdkmetric.WithCardinalityLimit(0)).Meter("t").Int64Gauge("wide")).
		Record(context.Background(), 1, metric.WithAttributes(attrs...))
	var tags int
	err := b.Collect(context.Background(), func(_ string, tg map[string]string, _ float64) { tags = len(tg) })
	if err != nil || tags != 26+3 {
		t.Fatalf("Collect: %v, a point with %d tags; want 29", err, tags)
	}
}

// TestNaN: a non-finite observation is emitted as it is (the reporter
// leaves non-finite values out of its reports).
func TestNaN(t *testing.T) {
	b := mustBridge(t)
	must(newProvider(t, b).Meter("t").Float64ObservableGauge("ratio",
		metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error { o.Observe(math.NaN()); return nil })))
	var vals []float64
	if err := b.Collect(context.Background(), func(_ string, _ map[string]string, v float64) { vals = append(vals, v) }); err != nil {
		t.Fatal(err)
	}
	if len(vals) != 1 || !math.IsNaN(vals[0]) {
		t.Fatalf("values %v, want [NaN]", vals)
	}
}

func TestCollectErrors(t *testing.T) {
	t.Run("not registered", func(t *testing.T) {
		b := mustBridge(t)
		got, err := collect(t, b)
		if !errors.Is(err, sdkmetric.ErrReaderNotRegistered) || len(got) != 0 {
			t.Fatalf("Collect: %v, %v", got, err)
		}
	})
	t.Run("callback error keeps the data", func(t *testing.T) {
		b := mustBridge(t)
		m := newProvider(t, b).Meter("t")
		boom := errors.New("sensor offline")
		must(m.Int64ObservableGauge("bad", metric.WithInt64Callback(func(context.Context, metric.Int64Observer) error { return boom })))
		must(m.Int64ObservableGauge("good", metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(7)
			return nil
		})))
		got, err := collect(t, b)
		diff(t, got, []string{"good{" + svc + "} 7"})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the callback's", err)
		}
	})
	t.Run("shut down, then no stale data", func(t *testing.T) {
		b := mustBridge(t)
		mp := newProvider(t, b)
		must(mp.Meter("t").Int64Counter("c")).Add(context.Background(), 1)
		if got, err := collect(t, b); err != nil || len(got) != 1 {
			t.Fatalf("first Collect: %v, %v", got, err)
		}
		if err := mp.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, err := collect(t, b)
		if !errors.Is(err, sdkmetric.ErrReaderShutdown) || len(got) != 0 {
			t.Fatalf("Collect after Shutdown: %v, %v", got, err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		b := mustBridge(t)
		newProvider(t, b)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := b.Collect(ctx, func(string, map[string]string, float64) {}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Option{nil, WithQuantiles(1.5), WithQuantiles(-0.1), WithQuantiles(math.NaN()), WithQuantiles(0.5, 0.5),
		WithResourceAttributes(""), WithAggregationSelector(nil)} {
		if _, err := New(o); err == nil {
			t.Errorf("New with a bad option succeeded")
		}
		if _, err := NewExporter(nil); err == nil {
			t.Errorf("NewExporter(nil) succeeded")
		}
	}
}

// TestSteadyStateAllocs: once a provider has been collected, the bridge's
// mapping allocates nothing, however many points it emits; Collect
// allocates what the SDK's collection does (which grows with the series:
// it copies histogram buckets) plus a constant one or two.
func TestSteadyStateAllocs(t *testing.T) {
	b := mustBridge(t)
	m := newProvider(t, b).Meter("t")
	ctx := context.Background()
	c := must(m.Int64Counter("requests"))
	h := must(m.Float64Histogram("latency", metric.WithUnit("s")))
	for i := range 500 {
		a := metric.WithAttributes(attribute.String("route", fmt.Sprint("/r", i)), attribute.Int("code", 200))
		c.Add(ctx, 1, a)
		h.Record(ctx, 0.1, a)
	}
	emit := func(string, map[string]string, float64) {}
	_ = b.Collect(ctx, emit)
	var rm metricdata.ResourceMetrics
	_ = b.reader.Collect(ctx, &rm)
	sdk := testing.AllocsPerRun(10, func() { _ = b.reader.Collect(ctx, &rm) })
	bridge := testing.AllocsPerRun(10, func() { _ = b.Collect(ctx, emit) })
	mp := newMapper(b.m.cfg)
	fn := func(string, map[string]string, time.Time, float64) {}
	mp.walk(&rm, fn)
	walk := testing.AllocsPerRun(10, func() { mp.walk(&rm, fn) })
	if walk != 0 || (bridge > sdk+2 && !raceEnabled) {
		t.Fatalf("500 series: the mapping allocates %v times, Collect %v, the SDK's collection alone %v", walk, bridge, sdk)
	}
}
