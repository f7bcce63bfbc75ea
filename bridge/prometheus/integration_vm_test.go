package prombridge_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apptuit-go/apptuit"
	prombridge "github.com/apptuit-go/apptuit/bridge/prometheus"
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

func forceFlush(t *testing.T, httpURL string) {
	t.Helper()
	resp, err := http.Post(httpURL+"/internal/force_flush", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) }

// TestVictoriaMetricsPromQL pushes a client_golang registry (a counter vec
// and a histogram) through the reporter into a real VictoriaMetrics in
// nine reports 15 s apart, then evaluates PromQL over what arrived and
// checks the answers against what was observed.
func TestVictoriaMetricsPromQL(t *testing.T) {
	httpURL, putURL := vmAddrs(t)
	t.Logf("VictoriaMetrics at %s (put at %s)", httpURL, putURL)
	run := fmt.Sprintf("prom%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)

	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "itest_http_requests_total", Help: "h"}, []string{"code", "method"})
	lat := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "itest_request_duration_seconds", Help: "h",
		Buckets: []float64{0.1, 0.5, 1, 5}})
	reg.MustRegister(reqs, lat)
	src, err := prombridge.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	client, err := apptuit.New(apptuit.WithEndpoint(putURL), apptuit.WithToken("t"), apptuit.WithRetries(0), apptuit.WithIgnoreEnvTags())
	if err != nil {
		t.Fatal(err)
	}
	var now time.Time
	rep, err := reporter.New(client, nil, reporter.WithSource(src), reporter.WithTags(map[string]string{"run": run}),
		reporter.WithHostTag(""), reporter.WithIgnoreEnvTags(), reporter.WithClock(func() time.Time { return now }),
		reporter.WithErrorHandler(func(err error) { t.Errorf("report: %v", err) }))
	if err != nil {
		t.Fatal(err)
	}
	const reports = 9
	for k := range reports {
		reqs.WithLabelValues("200", "GET").Add(30) // 2/s
		reqs.WithLabelValues("404", "").Add(3)     // 0.2/s, without a method tag
		for range 5 {
			lat.Observe(0.05)
		}
		for range 3 {
			lat.Observe(0.3)
		}
		for range 2 {
			lat.Observe(0.7)
		}
		now = base.Add(time.Duration(k) * 15 * time.Second)
		if err := rep.ReportNow(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	end := now
	forceFlush(t, httpURL)

	sel := `{run="` + run + `"}`
	for _, c := range []struct {
		query string
		want  float64
	}{
		{`rate(itest_http_requests_total{run="` + run + `",code="200",method="GET"}[1m])`, 2},
		{`rate(itest_http_requests_total{run="` + run + `",code="404",method=""}[1m])`, 0.2},
		{`itest_http_requests_total{run="` + run + `",code="404"}`, 3 * reports},
		// 90 observations, 45 ≤ 0.1 < 27 ≤ 0.5 < 18 ≤ 1: the 81st is
		// halfway through (0.5, 1].
		{`histogram_quantile(0.9, sum by (le) (itest_request_duration_seconds_bucket` + sel + `))`, 0.75},
		{`histogram_quantile(0.9, sum by (le) (rate(itest_request_duration_seconds_bucket` + sel + `[1m])))`, 0.75},
		{`histogram_quantile(0.5, sum by (le) (itest_request_duration_seconds_bucket` + sel + `))`, 0.1},
		{`itest_request_duration_seconds_bucket{run="` + run + `",le="+Inf"}`, 10 * reports},
		{`itest_request_duration_seconds_count` + sel, 10 * reports},
		{`itest_request_duration_seconds_sum` + sel, (5*0.05 + 3*0.3 + 2*0.7) * reports},
		{`rate(itest_request_duration_seconds_sum` + sel + `[1m]) / rate(itest_request_duration_seconds_count` + sel + `[1m])`, 0.255},
	} {
		if got := promInstant(t, httpURL, c.query, end); !near(got, c.want) {
			t.Errorf("%s = %v, want %v", c.query, got, c.want)
		}
	}
}
