package otelbridge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	"github.com/apptuit-go/apptuit/internal/leakcheck"
)

func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{apptuit.EnvTags, apptuit.EnvTagsPy, apptuit.EnvDisableHostPy, apptuit.EnvToken, apptuit.EnvTokenPy} {
		t.Setenv(v, "")
	}
}

func newClient(t *testing.T, url string) *apptuit.Client {
	t.Helper()
	c, err := apptuit.New(apptuit.WithToken("secret"), apptuit.WithEndpoint(url), apptuit.WithRetries(0),
		apptuit.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exporterProvider returns a provider whose PeriodicReader exports to exp
// only when flushed.
func exporterProvider(t *testing.T, exp *Exporter) *sdkmetric.MeterProvider {
	t.Helper()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(testResource()),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

func storedPoints(srv *apptuittest.Server) []string {
	var out []string
	for _, p := range srv.Points() {
		out = append(out, format(p.Metric, p.Tags, p.Value))
	}
	slices.Sort(out)
	return out
}

// TestExporter: a PeriodicReader's export arrives with the Bridge's
// mapping and the data points' time.
func TestExporter(t *testing.T) {
	clearEnv(t)
	leakcheck.AtCleanup(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	exp, err := NewExporter(newClient(t, srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	mp := exporterProvider(t, exp)
	m := mp.Meter("t")
	ctx := context.Background()
	must(m.Int64Counter("jobs", metric.WithUnit("{job}"))).Add(ctx, 4, metric.WithAttributes(attribute.String("queue", "q1")))
	h := must(m.Float64Histogram("job.duration", metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(1)))
	h.Record(ctx, 0.5)
	h.Record(ctx, 2)
	must(m.Float64ObservableGauge("nan", metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error {
		o.Observe(math.NaN()) // skipped, not an error
		return nil
	})))
	before := time.Now().Truncate(time.Millisecond)
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	diff(t, storedPoints(srv), []string{
		"jobs_total{queue=q1," + svc + "} 4",
		"job_duration_seconds_bucket{le=1," + svc + "} 1",
		"job_duration_seconds_bucket{le=+Inf," + svc + "} 2",
		"job_duration_seconds_sum{" + svc + "} 2.5",
		"job_duration_seconds_count{" + svc + "} 2",
	})
	for _, p := range srv.Points() {
		if p.Timestamp.Before(before) || p.Timestamp.After(after) || !p.Timestamp.Equal(p.Timestamp.Truncate(time.Millisecond)) {
			t.Errorf("%s stamped %v, want the collection time to the ms, in [%v, %v]", p.Metric, p.Timestamp, before, after)
		}
	}
	if got := exp.Temporality(sdkmetric.InstrumentKindCounter); got.String() != "CumulativeTemporality" {
		t.Errorf("Temporality = %v", got)
	}
	if _, ok := exp.Aggregation(sdkmetric.InstrumentKindHistogram).(sdkmetric.AggregationExplicitBucketHistogram); !ok {
		t.Errorf("Aggregation(histogram) = %T", exp.Aggregation(sdkmetric.InstrumentKindHistogram))
	}
}

// TestExporterErrors: series the client would refuse are left out and
// reported, the rest is sent; a failed send is returned; after Shutdown,
// Export fails with ErrExporterShutdown.
func TestExporterErrors(t *testing.T) {
	clearEnv(t)
	leakcheck.AtCleanup(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	exp, err := NewExporter(newClient(t, srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	mp := exporterProvider(t, exp)
	m := mp.Meter("t")
	ctx := context.Background()
	var attrs []attribute.KeyValue
	for i := range 26 {
		attrs = append(attrs, attribute.Int(fmt.Sprintf("k%02d", i), i))
	}
	g := must(m.Int64Gauge("wide"))
	for i := range 12 { // more invalid series than errors kept
		g.Record(ctx, 1, metric.WithAttributes(append(attrs, attribute.Int("i", i))...))
	}
	must(m.Int64Gauge("ok")).Record(ctx, 1)

	err = mp.ForceFlush(ctx)
	var ve *apptuit.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("ForceFlush: %v, want a *apptuit.ValidationError", err)
	}
	const one = `otelbridge: point of "wide" not sent: apptuit: metric "wide": 30 tags after merging global tags, at most 25 are allowed`
	if strings.Count(err.Error(), one) != maxExportErrors || !strings.HasSuffix(err.Error(), "\notelbridge: 2 more points not sent for the same reasons") {
		t.Fatalf("ForceFlush: %v", err)
	}
	diff(t, storedPoints(srv), []string{"ok{" + svc + "} 1"})

	srv.FailNext(1, 503)
	var he *apptuit.HTTPError
	var se *apptuit.SendError
	if err := mp.ForceFlush(ctx); err == nil || !(errors.As(err, &he) || errors.As(err, &se)) {
		t.Fatalf("ForceFlush against a 503: %v", err)
	}

	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exp.Export(ctx, oneMetric(okMetric())); !errors.Is(err, sdkmetric.ErrExporterShutdown) {
		t.Fatalf("Export after Shutdown: %v", err)
	}
	if err := exp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
}

func okMetric() metricdata.Metrics {
	return metricdata.Metrics{Name: "ok", Data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{{Value: 1}}}}
}
