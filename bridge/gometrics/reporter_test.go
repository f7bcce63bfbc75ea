package gometricsbridge_test

import (
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	gometrics "github.com/rcrowley/go-metrics"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	gometricsbridge "github.com/apptuit-go/apptuit/bridge/gometrics"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/apptuit-go/apptuit/reporter"
)

func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{apptuit.EnvTags, apptuit.EnvTagsPy, apptuit.EnvDisableHostPy, apptuit.EnvToken, apptuit.EnvTokenPy} {
		t.Setenv(v, "")
	}
}

// fieldsByMetric reports once through a reporter with opts and returns,
// for every metric the reporter sent (meta metrics aside), the fields it
// got.
func fieldsByMetric(t *testing.T, registry *metrics.Registry, opts ...reporter.Option) map[string][]string {
	t.Helper()
	srv := apptuittest.NewServer()
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("t"), apptuit.WithEndpoint(srv.URL()), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reporter.New(client, registry, append(opts, reporter.WithHostTag("h"),
		reporter.WithClock(func() time.Time { return time.Unix(1700000000, 0) }))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.ReportNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string)
	for _, p := range srv.Points() {
		if strings.HasPrefix(p.Metric, "apptuit.reporter.") {
			continue
		}
		name, field, _ := strings.Cut(p.Metric, ".")
		out[name] = append(out[name], field)
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// TestSameFieldsAsReporter: for every kind, the bridge sends the fields the
// reporter sends for its own metrics of that kind (less sum, see the
// package documentation), read from what both put on the wire.
func TestSameFieldsAsReporter(t *testing.T) {
	clearEnv(t)
	own := metrics.NewRegistry()
	c, _ := own.Counter("counter")
	c.Inc()
	g, _ := own.Gauge("gauge")
	g.Set(1)
	m, _ := own.Meter("meter")
	m.Mark(1)
	h, _ := own.Histogram("histogram")
	h.Update(1)
	tm, _ := own.Timer("timer")
	tm.Update(time.Second)
	ours := fieldsByMetric(t, own)

	gm := gometrics.NewRegistry()
	gometrics.GetOrRegisterCounter("counter", gm).Inc(1)
	gometrics.GetOrRegisterGauge("gauge", gm).Update(1)
	gometrics.GetOrRegisterGaugeFloat64("gaugefloat", gm).Update(1)
	meter := gometrics.NewMeter()
	defer meter.Stop()
	gm.Register("meter", meter)
	gometrics.GetOrRegisterHistogram("histogram", gm, gometrics.NewUniformSample(10)).Update(1)
	timer := gometrics.NewTimer()
	defer timer.Stop()
	timer.Update(time.Second)
	gm.Register("timer", timer)
	src, err := gometricsbridge.New(gm)
	if err != nil {
		t.Fatal(err)
	}
	theirs := fieldsByMetric(t, nil, reporter.WithSource(src))

	noSum := func(fs []string) []string {
		return slices.DeleteFunc(slices.Clone(fs), func(f string) bool { return f == "sum" })
	}
	for bridged, kind := range map[string]string{"counter": "counter", "gauge": "gauge", "gaugefloat": "gauge",
		"meter": "meter", "histogram": "histogram", "timer": "timer"} {
		if len(ours[kind]) == 0 || !slices.Equal(theirs[bridged], noSum(ours[kind])) {
			t.Errorf("%s: bridge sends %v, the reporter's %s %v", bridged, theirs[bridged], kind, ours[kind])
		}
	}
	if len(theirs) != 6 {
		t.Errorf("bridge sent %v", slices.Sorted(maps.Keys(theirs)))
	}
}

// TestEmptySendsNoStatistics: a histogram or timer that recorded nothing
// sends count (and a timer its rates) but no min, max, avg, std_dev or
// percentile, as the reporter's own do (less sum).
func TestEmptySendsNoStatistics(t *testing.T) {
	clearEnv(t)
	own := metrics.NewRegistry()
	own.Histogram("histogram")
	own.Timer("timer")
	ours := fieldsByMetric(t, own)
	gm := gometrics.NewRegistry()
	gometrics.GetOrRegisterHistogram("histogram", gm, gometrics.NewUniformSample(10))
	timer := gometrics.NewTimer()
	defer timer.Stop()
	gm.Register("timer", timer)
	src, err := gometricsbridge.New(gm)
	if err != nil {
		t.Fatal(err)
	}
	theirs := fieldsByMetric(t, nil, reporter.WithSource(src))
	noSum := func(fs []string) []string {
		return slices.DeleteFunc(slices.Clone(fs), func(f string) bool { return f == "sum" })
	}
	want := map[string][]string{"histogram": {"count"}, "timer": {"15m_rate", "1m_rate", "5m_rate", "count", "mean_rate"}}
	for kind, w := range want {
		if !slices.Equal(theirs[kind], w) || !slices.Equal(noSum(ours[kind]), w) {
			t.Errorf("%s: bridge sends %v, the reporter %v; want %v (and sum from the reporter)", kind, theirs[kind], ours[kind], w)
		}
	}
}

// TestNaNNotSent: a float gauge whose value is NaN or ±Inf is not sent (the
// reporter drops values the API rejects); the others are.
func TestNaNNotSent(t *testing.T) {
	clearEnv(t)
	r := gometrics.NewRegistry()
	gometrics.GetOrRegisterGaugeFloat64("nan", r).Update(math.NaN())
	gometrics.GetOrRegisterGaugeFloat64("inf", r).Update(math.Inf(1))
	gometrics.GetOrRegisterGaugeFloat64("ok", r).Update(1.5)
	src, err := gometricsbridge.New(r)
	if err != nil {
		t.Fatal(err)
	}
	got := fieldsByMetric(t, nil, reporter.WithSource(src))
	if want := map[string][]string{"ok": {"value"}}; !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("sent %v, want %v", got, want)
	}
}
