package otelbridge_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	otelbridge "github.com/apptuit-go/apptuit/bridge/otel"
	"github.com/apptuit-go/apptuit/internal/leakcheck"
	"github.com/apptuit-go/apptuit/reporter"
)

func pointStrings(ps []apptuit.DataPoint) []string {
	var out []string
	for _, p := range ps {
		if strings.Contains(p.Metric, "apptuit.reporter.") {
			continue
		}
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(p.Tags)) {
			kv = append(kv, k+"="+p.Tags[k])
		}
		out = append(out, fmt.Sprintf("%s{%s} %v @%d", p.Metric, strings.Join(kv, ","), p.Value, p.Timestamp.Unix()))
	}
	slices.Sort(out)
	return out
}

// TestThroughReporter: the reporter drives the SDK: nothing is collected
// between reports, a series with too many tags is a *reporter.MetricError,
// a failing callback a *reporter.SourceError, and Stop's final report
// collects what was recorded last.
func TestThroughReporter(t *testing.T) {
	for _, v := range []string{apptuit.EnvTags, apptuit.EnvTagsPy, apptuit.EnvDisableHostPy, apptuit.EnvToken, apptuit.EnvTokenPy} {
		t.Setenv(v, "")
	}
	leakcheck.AtCleanup(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("t"), apptuit.WithEndpoint(srv.URL()), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	bridge, err := otelbridge.New()
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(bridge.Reader()),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "api"))))
	defer mp.Shutdown(context.Background())
	m := mp.Meter("test")
	ctx := context.Background()
	reqs, _ := m.Int64Counter("http.server.requests")
	var wide []attribute.KeyValue
	for i := range 23 { // with service_name and the reporter's two tags: 26
		wide = append(wide, attribute.Int(fmt.Sprintf("k%02d", i), i))
	}
	g, _ := m.Int64Gauge("wide")
	g.Record(ctx, 1, metric.WithAttributes(wide...))
	boom := errors.New("sensor offline")
	_, _ = m.Int64ObservableGauge("sensor", metric.WithInt64Callback(func(context.Context, metric.Int64Observer) error { return boom }))

	sec := int64(1700000000)
	rep, err := reporter.New(client, nil, reporter.WithSource(bridge), reporter.WithTags(map[string]string{"env": "test"}),
		reporter.WithHostTag("web-1"), reporter.WithErrorHandler(func(error) {}),
		reporter.WithClock(func() time.Time { return time.Unix(sec, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	reqs.Add(ctx, 2, metric.WithAttributes(attribute.String("http.request.method", "GET")))
	err = rep.ReportNow(ctx)
	var me *reporter.MetricError
	var se *reporter.SourceError
	if !errors.As(err, &me) || me.Metric != "wide" {
		t.Errorf("ReportNow: %v; want a *reporter.MetricError for wide", err)
	}
	if !errors.As(err, &se) || !errors.Is(se, boom) || se.Source != reporter.Source(bridge) {
		t.Errorf("ReportNow: %v; want a *reporter.SourceError wrapping the callback's error", err)
	}
	reqs.Add(ctx, 3, metric.WithAttributes(attribute.String("http.request.method", "GET")))
	sec += 60
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = rep.Stop(sctx) // the final report (its error: the same MetricError and SourceError)
	got := pointStrings(srv.Points())
	want := []string{
		"http_server_requests_total{env=test,host=web-1,http_request_method=GET,service_name=api} 2 @1700000000",
		"http_server_requests_total{env=test,host=web-1,http_request_method=GET,service_name=api} 5 @1700000060",
	}
	if !slices.Equal(got, want) {
		t.Errorf("points\n got  %v\n want %v", got, want)
	}
}
