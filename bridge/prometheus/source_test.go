package prombridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/apptuit-go/apptuit"
)

// point is one emitted point, its tags copied.
type point struct {
	name  string
	tags  map[string]string
	value float64
}

func (p point) String() string {
	keys := slices.Sorted(maps.Keys(p.tags))
	var b strings.Builder
	b.WriteString(p.name)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%s", k, p.tags[k])
	}
	fmt.Fprintf(&b, "} %v", p.value)
	return b.String()
}

// collect runs one Collect and returns the points, sorted.
func collect(t *testing.T, s *Source) ([]string, error) {
	t.Helper()
	var pts []point
	err := s.Collect(context.Background(), func(name string, tags map[string]string, v float64) {
		pts = append(pts, point{name, maps.Clone(tags), v})
	})
	out := make([]string, len(pts))
	for i, p := range pts {
		out[i] = p.String()
	}
	slices.Sort(out)
	return out, err
}

func mustNew(t *testing.T, g Gatherer) *Source {
	t.Helper()
	s, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func diff(t *testing.T, got, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("points:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// TestEveryType maps one registry holding every client_golang type, with
// exact names, tags and values.
func TestEveryType(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "h"}, []string{"code", "method"})
	reqs.WithLabelValues("200", "GET").Add(3)
	reqs.WithLabelValues("500", "").Inc() // an empty label is dropped
	temp := prometheus.NewGauge(prometheus.GaugeOpts{Name: "room_temperature_celsius", Help: "h",
		ConstLabels: prometheus.Labels{"room": "b-12"}})
	temp.Set(-3.5)
	up := prometheus.NewUntypedFunc(prometheus.UntypedOpts{Name: "up", Help: "h"}, func() float64 { return 1 })
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "request_duration_seconds", Help: "h",
		Buckets: []float64{0.005, 0.5, 1, 2.5}}, []string{"route"})
	for _, v := range []float64{0.25, 0.5, 0.5, 2, 4} {
		lat.WithLabelValues("/api").Observe(v)
	}
	sizes := prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: "response_size_bytes", Help: "h",
		Objectives: map[float64]float64{0.5: 0.05, 0.99: 0.001}}, []string{"route"})
	for range 10 {
		sizes.WithLabelValues("/api").Observe(7)
	}
	sizes.WithLabelValues("/idle") // no observations: NaN quantiles, skipped
	rule := prometheus.NewGauge(prometheus.GaugeOpts{Name: "job:requests:rate5m", Help: "h"})
	rule.Set(12)
	reg.MustRegister(reqs, temp, up, lat, sizes, rule)

	got, err := collect(t, mustNew(t, reg))
	if err != nil {
		t.Fatal(err)
	}
	diff(t, got, []string{
		"http_requests_total{code=200,method=GET} 3",
		"http_requests_total{code=500} 1",
		"room_temperature_celsius{room=b-12} -3.5",
		"up{} 1",
		"request_duration_seconds_bucket{le=0.005,route=/api} 0",
		"request_duration_seconds_bucket{le=0.5,route=/api} 3",
		"request_duration_seconds_bucket{le=1,route=/api} 3",
		"request_duration_seconds_bucket{le=2.5,route=/api} 4",
		"request_duration_seconds_bucket{le=+Inf,route=/api} 5",
		"request_duration_seconds_sum{route=/api} 7.25",
		"request_duration_seconds_count{route=/api} 5",
		"response_size_bytes{quantile=0.5,route=/api} 7",
		"response_size_bytes{quantile=0.99,route=/api} 7",
		"response_size_bytes_sum{route=/api} 70",
		"response_size_bytes_count{route=/api} 10",
		"response_size_bytes_sum{route=/idle} 0",
		"response_size_bytes_count{route=/idle} 0",
		"job_requests_rate5m{} 12",
	})
}

// TestManyLabels: a series with more tags than Apptuit allows is emitted as
// it is; the reporter's validation leaves it out with a *MetricError.
func TestManyLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	var names, values []string
	for i := range 26 {
		names = append(names, fmt.Sprintf("l%02d", i))
		values = append(values, fmt.Sprint(i))
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wide"}, names)
	g.WithLabelValues(values...).Set(1)
	reg.MustRegister(g)
	var n, tags int
	err := mustNew(t, reg).Collect(context.Background(), func(name string, tg map[string]string, v float64) {
		n++
		tags = len(tg)
	})
	if err != nil || n != 1 || tags != 26 {
		t.Fatalf("Collect: %v, %d points with %d tags; want 1 point with 26 tags", err, n, tags)
	}
}

// TestPartialGather: families gathered before an error are emitted and the
// error is returned.
func TestPartialGather(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "ok_total"})
	c.Add(2)
	reg.MustRegister(c)
	boom := errors.New("collector exploded")
	g := prometheus.Gatherers{reg, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, boom })}
	got, err := collect(t, mustNew(t, g))
	diff(t, got, []string{"ok_total{} 2"})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "prombridge: gather: ") {
		t.Fatalf("err = %v, want the gather error wrapped", err)
	}
}

func family(name string, typ dto.MetricType, ms ...*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Type: typ.Enum(), Metric: ms}
}

func labels(kv ...string) []*dto.LabelPair {
	var out []*dto.LabelPair
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &dto.LabelPair{Name: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return out
}

type staticGatherer []*dto.MetricFamily

func (g staticGatherer) Gather() ([]*dto.MetricFamily, error) { return g, nil }

// TestHandBuilt covers what client_golang does not produce by itself:
// gauge histograms, float histograms, histograms that list +Inf, names and
// label names with characters Apptuit refuses, and malformed metrics.
func TestHandBuilt(t *testing.T) {
	g := staticGatherer{
		family("queue_wait_seconds", dto.MetricType_GAUGE_HISTOGRAM, &dto.Metric{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(4), SampleSum: proto.Float64(2),
			Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(3)},
				{UpperBound: proto.Float64(math.Inf(+1)), CumulativeCount: proto.Uint64(4)}},
		}}),
		family("weights", dto.MetricType_HISTOGRAM, &dto.Metric{Histogram: &dto.Histogram{
			SampleCountFloat: proto.Float64(2.5), SampleSum: proto.Float64(10),
			Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1e-05), CumulativeCountFloat: proto.Float64(0.5)}},
		}}),
		family("a:b.c/d-é€", dto.MetricType_GAUGE, &dto.Metric{Label: labels("ok", "v", "bad:key", "x", "drop", ""),
			Gauge: &dto.Gauge{Value: proto.Float64(1)}}),
		family("broken_total", dto.MetricType_COUNTER, &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(1)}},
			&dto.Metric{Counter: &dto.Counter{Value: proto.Float64(9)}}),
		nil,
	}
	got, err := collect(t, mustNew(t, g))
	diff(t, got, []string{
		"queue_wait_seconds_bucket{le=1} 3",
		"queue_wait_seconds_bucket{le=+Inf} 4",
		"queue_wait_seconds_gsum{} 2",
		"queue_wait_seconds_gcount{} 4",
		"weights_bucket{le=1e-05} 0.5",
		"weights_bucket{le=+Inf} 2.5",
		"weights_sum{} 10",
		"weights_count{} 2.5",
		"a_b.c/d-é_{bad_key=x,ok=v} 1",
		"broken_total{} 9",
	})
	if err == nil || err.Error() != `prombridge: family "broken_total" of type COUNTER: 1 metrics without a COUNTER value left out` {
		t.Fatalf("err = %v", err)
	}
}

// TestNativeHistogram: a native-only histogram sends what the text format
// shows of it: the +Inf bucket, the sum and the count.
func TestNativeHistogram(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "native_seconds", NativeHistogramBucketFactor: 1.1})
	h.Observe(0.5)
	h.Observe(1.5)
	reg.MustRegister(h)
	got, err := collect(t, mustNew(t, reg))
	if err != nil {
		t.Fatal(err)
	}
	diff(t, got, []string{
		"native_seconds_bucket{le=+Inf} 2",
		"native_seconds_sum{} 2",
		"native_seconds_count{} 2",
	})
}

// TestCachesStayBounded: names of families that went away are forgotten,
// and label names and bounds that never repeat do not grow the caches
// past their caps.
func TestCachesStayBounded(t *testing.T) {
	round := 0
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		round++
		var fams []*dto.MetricFamily
		for i := range 100 {
			fams = append(fams, family(fmt.Sprintf("r%d_f%d", round, i), dto.MetricType_HISTOGRAM, &dto.Metric{
				Label: labels(fmt.Sprintf("bad:%d:%d", round, i), "v"),
				Histogram: &dto.Histogram{SampleCount: proto.Uint64(1), Bucket: []*dto.Bucket{
					{UpperBound: proto.Float64(float64(round*1000 + i)), CumulativeCount: proto.Uint64(1)}}}}))
		}
		return fams, nil
	})
	s := mustNew(t, g)
	for range 100 {
		if err := s.Collect(context.Background(), func(string, map[string]string, float64) {}); err != nil {
			t.Fatal(err)
		}
		if len(s.names) > 2*100+16 || len(s.keys) > maxKeys+100 || len(s.floats) > maxFloats+100 {
			t.Fatalf("caches: %d names, %d keys, %d floats", len(s.names), len(s.keys), len(s.floats))
		}
	}
}

func TestCollectHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	s := mustNew(t, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { called = true; return nil, nil }))
	if err := s.Collect(ctx, func(string, map[string]string, float64) {}); !errors.Is(err, context.Canceled) || called {
		t.Fatalf("Collect on a cancelled ctx: %v (gathered: %v)", err, called)
	}
}

func TestNewNil(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

func TestCleanName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http_requests_total", "http_requests_total"},
		{"a__b", "a__b"},
		{"job:rate:5m", "job_rate_5m"},
		{"http.server.duration", "http.server.duration"},
		{"日本語", "日本語"},
		{"a b\x00c", "a_b_c"},
		{"bad\xffutf8", "bad_utf8"},
		{"", ""},
	} {
		if got := apptuit.CleanName(c.in); got != c.want {
			t.Errorf("apptuit.CleanName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFormatFloat(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0.005, "0.005"}, {1, "1"}, {0, "0"}, {-1, "-1"}, {2.5, "2.5"}, {10, "10"}, {1e-05, "1e-05"},
		{0.999, "0.999"}, {1e21, "1e+21"}, {math.Inf(+1), "+Inf"}, {math.Inf(-1), "-Inf"}, {math.NaN(), "NaN"},
	} {
		if got := formatFloat(c.in); got != c.want {
			t.Errorf("formatFloat(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSteadyStateAllocs: once a registry has been collected, Collect itself
// allocates nothing per point: every allocation is Gather's.
func TestSteadyStateAllocs(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "h_seconds"}, []string{"route"})
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total"}, []string{"route"})
	for i := range 100 {
		h.WithLabelValues(fmt.Sprint(i)).Observe(0.1)
		c.WithLabelValues(fmt.Sprint(i)).Inc()
	}
	reg.MustRegister(h, c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	s := mustNew(t, staticGatherer(fams))
	ctx := context.Background()
	emit := func(string, map[string]string, float64) {}
	_ = s.Collect(ctx, emit)
	if n := testing.AllocsPerRun(20, func() { _ = s.Collect(ctx, emit) }); n != 0 {
		t.Fatalf("Collect of a gathered registry allocates %v times, want 0", n)
	}
}
