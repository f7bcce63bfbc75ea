package prombridge_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	prombridge "github.com/apptuit-go/apptuit/bridge/prometheus"
	"github.com/apptuit-go/apptuit/internal/leakcheck"
	"github.com/apptuit-go/apptuit/reporter"
)

func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{apptuit.EnvTags, apptuit.EnvTagsPy, apptuit.EnvDisableHostPy, apptuit.EnvToken, apptuit.EnvTokenPy} {
		t.Setenv(v, "")
	}
}

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

// TestThroughReporter: a registry pushed by the reporter, with its prefix,
// tags and timestamp; a series with too many tags is left out as a
// *reporter.MetricError and a partial Gather's error arrives as a
// *reporter.SourceError while what was gathered is sent.
func TestThroughReporter(t *testing.T) {
	clearEnv(t)
	leakcheck.AtCleanup(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("t"), apptuit.WithEndpoint(srv.URL()), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total"}, []string{"code", "host"})
	reqs.WithLabelValues("200", "").Add(5) // the empty host label leaves the reporter's host tag
	reqs.WithLabelValues("500", "lb-2").Add(1)
	var names, values []string
	for i := range 24 { // with the reporter's two tags: 26
		names, values = append(names, fmt.Sprintf("l%02d", i)), append(values, "v")
	}
	wide := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wide"}, names)
	wide.WithLabelValues(values...).Set(1)
	// A metric with its own timestamp is sent at the report's.
	stamped := prometheus.NewMetricWithTimestamp(time.Unix(1000, 0),
		prometheus.MustNewConstMetric(prometheus.NewDesc("stamped", "", nil, nil), prometheus.GaugeValue, 7))
	reg.MustRegister(reqs, wide, constCollector{stamped})
	boom := errors.New("scrape of a sidecar failed")
	src, err := prombridge.New(prometheus.Gatherers{reg,
		prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, boom })})
	if err != nil {
		t.Fatal(err)
	}
	var handled []error
	rep, err := reporter.New(client, nil, reporter.WithSource(src), reporter.WithPrefix("svc."),
		reporter.WithTags(map[string]string{"env": "test"}), reporter.WithHostTag("web-1"),
		reporter.WithClock(func() time.Time { return time.Unix(1700000000, 0) }),
		reporter.WithErrorHandler(func(err error) { handled = append(handled, err) }))
	if err != nil {
		t.Fatal(err)
	}
	err = rep.ReportNow(context.Background())
	var me *reporter.MetricError
	var se *reporter.SourceError
	if !errors.As(err, &me) || me.Metric != "svc.wide" {
		t.Errorf("ReportNow: %v; want a *reporter.MetricError for svc.wide", err)
	}
	if !errors.As(err, &se) || !errors.Is(se, boom) || se.Source != reporter.Source(src) {
		t.Errorf("ReportNow: %v; want a *reporter.SourceError wrapping the gather error", err)
	}
	if len(handled) != 1 {
		t.Errorf("error handler called %d times, want 1", len(handled))
	}
	got := pointStrings(srv.Points())
	want := []string{
		"svc.http_requests_total{code=200,env=test,host=web-1} 5 @1700000000",
		"svc.http_requests_total{code=500,env=test,host=lb-2} 1 @1700000000",
		"svc.stamped{env=test,host=web-1} 7 @1700000000",
	}
	if !slices.Equal(got, want) {
		t.Errorf("points\n got  %v\n want %v", got, want)
	}
}

// constCollector collects fixed metrics.
type constCollector struct{ m prometheus.Metric }

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.Desc() }
func (c constCollector) Collect(ch chan<- prometheus.Metric) { ch <- c.m }
