package otelbridge_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/apptuit-go/apptuit"
	otelbridge "github.com/apptuit-go/apptuit/bridge/otel"
	"github.com/apptuit-go/apptuit/reporter"
)

// Environment variables that point the integration tests at a running
// VictoriaMetrics single-node server (.ci/run starts one on loopback and
// sets them; in CI, CI=true, their absence fails the test).
const (
	envVMHTTP     = "APPTUIT_TEST_VM_HTTP"
	envVMOpenTSDB = "APPTUIT_TEST_VM_OPENTSDB"
)

func vmAddrs(t *testing.T) (httpURL, putURL string) {
	t.Helper()
	httpURL, putURL = os.Getenv(envVMHTTP), os.Getenv(envVMOpenTSDB)
	if httpURL == "" || putURL == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s and %s are not: .ci/run should have started VictoriaMetrics", envVMHTTP, envVMOpenTSDB)
		}
		t.Skipf("no VictoriaMetrics backend: set %s and %s (bash .ci/run starts one)", envVMHTTP, envVMOpenTSDB)
	}
	return httpURL, putURL
}

// promInstant evaluates query at ts with VictoriaMetrics' PromQL API and
// returns the value of its single series.
func promInstant(t *testing.T, httpURL, query string, ts time.Time) float64 {
	t.Helper()
	q, err := apptuit.New(apptuit.WithEndpoint(httpURL), apptuit.WithToken("t"), apptuit.WithPromQLPath("/api/v1/query_range"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.QueryRange(context.Background(), query, ts, ts, 15*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	out := res.Output(0)
	if out == nil || len(out.Series) != 1 || out.Series[0].Len() != 1 {
		t.Fatalf("%s: result %+v, want one series with one point", query, out)
	}
	for pt, v := range out.Series[0].Points() {
		if !pt.Equal(ts) {
			t.Fatalf("%s: point at %v, want %v", query, pt, ts)
		}
		return v
	}
	panic("unreachable")
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) }

// TestVictoriaMetricsPromQL pushes an OpenTelemetry meter provider (an int
// counter with attributes, a float histogram) through the bridge and the
// reporter into a real VictoriaMetrics in nine reports 15 s apart, then
// evaluates PromQL over what arrived and checks the answers against what
// was recorded.
func TestVictoriaMetricsPromQL(t *testing.T) {
	httpURL, putURL := vmAddrs(t)
	t.Logf("VictoriaMetrics at %s (put at %s)", httpURL, putURL)
	run := fmt.Sprintf("otel%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)

	bridge, err := otelbridge.New()
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(bridge.Reader()),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "itest"), attribute.String("service.instance.id", run))))
	defer mp.Shutdown(context.Background())
	m := mp.Meter("itest")
	reqs, _ := m.Int64Counter("itest.http.server.requests", metric.WithUnit("{request}"))
	dur, _ := m.Float64Histogram("itest.http.server.request.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.1, 0.5, 1, 5))

	client, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithToken("t"), apptuit.WithRetries(0), apptuit.WithIgnoreEnvTags())
	if err != nil {
		t.Fatal(err)
	}
	var now time.Time
	rep, err := reporter.New(client, nil, reporter.WithSource(bridge), reporter.WithTags(map[string]string{"run": run}),
		reporter.WithHostTag(""), reporter.WithIgnoreEnvTags(),
		reporter.WithClock(func() time.Time { return now }),
		reporter.WithErrorHandler(func(err error) { t.Errorf("report: %v", err) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	get := metric.WithAttributes(attribute.String("http.request.method", "GET"), attribute.Int("http.response.status_code", 200))
	post := metric.WithAttributes(attribute.String("http.request.method", "POST"), attribute.Int("http.response.status_code", 201))
	const reports = 9
	for k := range reports {
		reqs.Add(ctx, 30, get) // 2/s
		reqs.Add(ctx, 3, post) // 0.2/s
		for _, v := range []float64{0.05, 0.05, 0.05, 0.05, 0.05, 0.3, 0.3, 0.3, 0.7, 0.7} {
			dur.Record(ctx, v)
		}
		now = base.Add(time.Duration(k) * 15 * time.Second)
		if err := rep.ReportNow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	end := now
	resp, err := http.Post(httpURL+"/internal/force_flush", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	sel := `{service_instance_id="` + run + `"}`
	for _, c := range []struct {
		query string
		want  float64
	}{
		{`rate(itest_http_server_requests_total{service_instance_id="` + run + `",http_request_method="GET",http_response_status_code="200"}[1m])`, 2},
		{`rate(itest_http_server_requests_total{service_instance_id="` + run + `",http_request_method="POST",service_name="itest"}[1m])`, 0.2},
		{`sum(itest_http_server_requests_total` + sel + `)`, 33 * reports},
		// 90 observations, 45 ≤ 0.1 < 27 ≤ 0.5 < 18 ≤ 1: the 81st is
		// halfway through (0.5, 1].
		{`histogram_quantile(0.9, sum by (le) (itest_http_server_request_duration_seconds_bucket` + sel + `))`, 0.75},
		{`histogram_quantile(0.9, sum by (le) (rate(itest_http_server_request_duration_seconds_bucket` + sel + `[1m])))`, 0.75},
		{`itest_http_server_request_duration_seconds_count` + sel, 10 * reports},
		{`rate(itest_http_server_request_duration_seconds_sum` + sel + `[1m]) / rate(itest_http_server_request_duration_seconds_count` + sel + `[1m])`, 0.255},
	} {
		if got := promInstant(t, httpURL, c.query, end); !near(got, c.want) {
			t.Errorf("%s = %v, want %v", c.query, got, c.want)
		}
	}
}
