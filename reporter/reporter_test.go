package reporter

import (
	"context"
	"errors"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	"github.com/apptuit-go/apptuit/metrics"
)

// firstMeta is how many meta points a reporter's first report has: no
// send was made before it, so the send timer has count, sum and the rates,
// and none of the statistics of values (see appendHistogram).
const firstMeta = 10

var metaNames = []string{
	"apptuit.reporter.send.dropped.count",
	"apptuit.reporter.send.failed.count",
	"apptuit.reporter.send.successful.count",
	"apptuit.reporter.send.time.15m_rate",
	"apptuit.reporter.send.time.1m_rate",
	"apptuit.reporter.send.time.50_percentile",
	"apptuit.reporter.send.time.5m_rate",
	"apptuit.reporter.send.time.75_percentile",
	"apptuit.reporter.send.time.95_percentile",
	"apptuit.reporter.send.time.999_percentile",
	"apptuit.reporter.send.time.99_percentile",
	"apptuit.reporter.send.time.avg",
	"apptuit.reporter.send.time.count",
	"apptuit.reporter.send.time.max",
	"apptuit.reporter.send.time.mean_rate",
	"apptuit.reporter.send.time.min",
	"apptuit.reporter.send.time.std_dev",
	"apptuit.reporter.send.time.sum",
	"apptuit.reporter.send.total.count",
}

// Every kind of metric, end to end: names, tags, timestamps and values as
// the server stored them.
func TestEveryKind(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	var mu sync.Mutex
	now := time.Unix(1699999990, 0)
	reg := metrics.NewRegistry(metrics.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	c, _ := reg.CounterWith("orders", map[string]string{"city": "NYC"})
	c.Add(3)
	g, _ := reg.Gauge("temp")
	g.Set(21.5)
	reg.GaugeFunc("queue.size", func() float64 { return 7 })
	reg.GaugeFunc("nan.gauge", func() float64 { return math.NaN() })
	m, _ := reg.Meter("requests")
	m.Mark(20)
	h, _ := reg.Histogram("size")
	for _, v := range []float64{1, 2, 3, 4} {
		h.Update(v)
	}
	tm, _ := reg.Timer("latency")
	tm.Update(100 * time.Millisecond)
	tm.Update(300 * time.Millisecond)
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()

	r := newReporter(t, newClient(t, srv.URL()), reg, WithTags(map[string]string{"env": "test"}))
	mustReport(t, r)
	pts := withoutMeta(srv.Points(), "")
	var want []string
	add := func(name string, fields []string) {
		for _, f := range fields {
			want = append(want, name+"."+f)
		}
	}
	add("orders", counterFields)
	add("temp", gaugeFields)
	add("queue.size", gaugeFields)
	add("requests", meterFields)
	add("size", histogramFields)
	add("latency", timerFields)
	slices.Sort(want)
	if got := names(pts); !slices.Equal(got, want) {
		t.Fatalf("names\n got %q\nwant %q", got, want)
	}
	for _, p := range pts {
		wantTags := map[string]string{"env": "test", "host": "testhost"}
		if p.Metric == "orders.count" {
			wantTags["city"] = "NYC"
		}
		if !maps.Equal(p.Tags, wantTags) {
			t.Errorf("%s tags %v, want %v", p.Metric, p.Tags, wantTags)
		}
		if !p.Timestamp.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s at %v, want 1700000000", p.Metric, p.Timestamp.Unix())
		}
	}
	ts := int64(1700000000)
	exact := map[string]float64{
		"orders.count": 3, "temp.value": 21.5, "queue.size.value": 7,
		"requests.count": 20, "requests.mean_rate": 2,
		"size.count": 4, "size.sum": 10, "size.min": 1, "size.max": 4, "size.avg": 2.5,
		"latency.count": 2, "latency.sum": 0.4, "latency.min": 0.1, "latency.max": 0.3, "latency.avg": 0.2,
		"latency.mean_rate": 0.2,
	}
	for name, w := range exact {
		if v := value(t, pts, name, ts); math.Abs(v-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, v, w)
		}
	}
	approx := map[string]float64{
		"size.50_percentile": 2, "size.75_percentile": 3, "size.95_percentile": 4, "size.99_percentile": 4, "size.999_percentile": 4,
		"size.std_dev": 1.2909944, "latency.50_percentile": 0.1, "latency.99_percentile": 0.3,
	}
	for name, w := range approx {
		if v := value(t, pts, name, ts); math.Abs(v-w) > 0.01*w {
			t.Errorf("%s = %v, want %v ± 1%%", name, v, w)
		}
	}
	// Histograms are reset by a report: the next one covers new values only.
	// It is stamped a second later although the clock stands still: two
	// reports never share a timestamp.
	h.Update(10)
	mustReport(t, r)
	if v := value(t, srv.Points()[len(pts)+firstMeta:], "size.min", ts+1); v != 10 {
		t.Errorf("size.min after reset = %v, want 10", v)
	}
}

// Tag precedence: environment < reporter tags < host rule < metric tags,
// including the cases of apptuit-py's test_token_and_tags and reporter tests.
func TestTags(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	tests := []struct {
		name       string
		env        map[string]string
		opts       []Option
		metricTags map[string]string
		want       map[string]string // of the metric's point; nil: New fails
		wantErr    string
	}{
		{name: "nothing", want: map[string]string{"host": host}},
		{name: "env blank", env: map[string]string{"APPTUIT_PY_TAGS": " "}, want: map[string]string{"host": host}},
		{name: "py env", env: map[string]string{"APPTUIT_PY_TAGS": "tagk1: 22, tagk2: tagv2"},
			want: map[string]string{"tagk1": "22", "tagk2": "tagv2", "host": host}},
		{name: "py env empty items", env: map[string]string{"APPTUIT_PY_TAGS": ",tagk1: 22, , tagk2: tagv2,"},
			want: map[string]string{"tagk1": "22", "tagk2": "tagv2", "host": host}},
		{name: "py env spaces", env: map[string]string{"APPTUIT_PY_TAGS": "  tagk1 : 22,,tagk2  : tagv2  "},
			want: map[string]string{"tagk1": "22", "tagk2": "tagv2", "host": host}},
		{name: "env host kept", env: map[string]string{"APPTUIT_PY_TAGS": "tagk1: tagv1, tagk2: tagv2, host: myhost"},
			want: map[string]string{"tagk1": "tagv1", "tagk2": "tagv2", "host": "myhost"}},
		{name: "APPTUIT_TAGS before py", env: map[string]string{"APPTUIT_TAGS": "a: 1", "APPTUIT_PY_TAGS": "b: 2"},
			want: map[string]string{"a": "1", "host": host}},
		{name: "reporter over env", env: map[string]string{"APPTUIT_PY_TAGS": "host: environ, ip: 1.1.1.1"},
			opts: []Option{WithTags(map[string]string{"host": "reporter", "ip": "2.2.2.2"})},
			want: map[string]string{"host": "reporter", "ip": "2.2.2.2"}},
		{name: "env only", env: map[string]string{"APPTUIT_PY_TAGS": "host: environ, ip: 1.1.1.1"},
			want: map[string]string{"host": "environ", "ip": "1.1.1.1"}},
		{name: "env and reporter", env: map[string]string{"APPTUIT_PY_TAGS": "host: environ, ip: 1.1.1.1"},
			opts: []Option{WithTags(map[string]string{"test": "val"})},
			want: map[string]string{"host": "environ", "ip": "1.1.1.1", "test": "val"}},
		{name: "metric over reporter", opts: []Option{WithTags(map[string]string{"region": "us-east-1"})},
			metricTags: map[string]string{"region": "us-west-2", "id": "1"},
			want:       map[string]string{"region": "us-west-2", "id": "1", "host": host}},
		{name: "metric over env", env: map[string]string{"APPTUIT_TAGS": "region: eu, dc: x"},
			metricTags: map[string]string{"region": "us"},
			want:       map[string]string{"region": "us", "dc": "x", "host": host}},
		{name: "metric host wins", metricTags: map[string]string{"host": "node-foo"},
			want: map[string]string{"host": "node-foo"}},
		{name: "disable env true", env: map[string]string{"APPTUIT_DISABLE_HOST_TAG": "True", "APPTUIT_PY_TAGS": "a: b"},
			want: map[string]string{"a": "b"}},
		{name: "disable env 1", env: map[string]string{"APPTUIT_DISABLE_HOST_TAG": "1", "APPTUIT_PY_TAGS": "a: b"},
			want: map[string]string{"a": "b"}},
		{name: "disable env yes keeps env host", env: map[string]string{"APPTUIT_DISABLE_HOST_TAG": "yes", "APPTUIT_PY_TAGS": "host: myhost"},
			want: map[string]string{"host": "myhost"}},
		{name: "disable env false", env: map[string]string{"APPTUIT_DISABLE_HOST_TAG": "false", "APPTUIT_PY_TAGS": "a: b"},
			want: map[string]string{"a": "b", "host": host}},
		{name: "disable env off", env: map[string]string{"APPTUIT_DISABLE_HOST_TAG": "off"},
			want: map[string]string{"host": host}},
		{name: "disable env garbage", env: map[string]string{"APPTUIT_DISABLE_HOST_TAG": "truee"},
			wantErr: `APPTUIT_DISABLE_HOST_TAG: invalid truth value "truee"`},
		{name: "option over env", env: map[string]string{"APPTUIT_DISABLE_HOST_TAG": "truee", "APPTUIT_PY_TAGS": "a: b"},
			opts: []Option{WithHostTag(host)}, want: map[string]string{"a": "b", "host": host}},
		{name: "option off", env: map[string]string{"APPTUIT_PY_TAGS": "a: b"},
			opts: []Option{WithHostTag("")}, want: map[string]string{"a": "b"}},
		{name: "hostname option", opts: []Option{WithHostTag("h1")}, want: map[string]string{"host": "h1"}},
		{name: "bad env tags", env: map[string]string{"APPTUIT_TAGS": "{InvalidTags"},
			wantErr: `APPTUIT_TAGS: cannot parse tag "{InvalidTags"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			srv := newServer(t)
			client := newClient(t, srv.URL(), apptuit.WithIgnoreEnvTags())
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			reg := metrics.NewRegistry()
			c, _ := reg.CounterWith("counter1", tt.metricTags)
			c.Inc()
			r, err := New(client, reg, append([]Option{WithClock(func() time.Time { return t0 })}, tt.opts...)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mustReport(t, r)
			p := byName(srv.Points())["counter1.count"]
			if len(p) != 1 || !maps.Equal(p[0].Tags, tt.want) {
				t.Fatalf("points %v, want tags %v", p, tt.want)
			}
		})
	}
}

// The client's global tags only fill keys nothing else set.
func TestClientGlobalTags(t *testing.T) {
	clearEnv(t)
	t.Setenv("APPTUIT_TAGS", "region: env, a: 1")
	srv := newServer(t)
	client := newClient(t, srv.URL(), apptuit.WithGlobalTags(map[string]string{"region": "client", "z": "9"}))
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("c")
	c.Inc()
	r := newReporter(t, client, reg, WithTags(map[string]string{"a": "2"}))
	mustReport(t, r)
	want := map[string]string{"region": "env", "a": "2", "z": "9", "host": "testhost"}
	if p := byName(srv.Points())["c.count"]; len(p) != 1 || !maps.Equal(p[0].Tags, want) {
		t.Fatalf("got %v, want tags %v", p, want)
	}
}

// apptuit-py's test_valid_prefix, test_none_prefix and the sanitizer tests.
func TestNamesPrefixSanitizer(t *testing.T) {
	tests := []struct {
		name     string
		san      apptuit.Sanitizer
		prefix   string
		metric   string
		tags     map[string]string
		wantName string
		wantTags map[string]string
		wantMeta string
	}{
		{"prefix", nil, "pre-", "counter1", nil, "pre-counter1.count", map[string]string{"region": "us-east-1"}, "pre-apptuit.reporter.send.total.count"},
		{"no prefix", nil, "", "counter1", nil, "counter1.count", map[string]string{"region": "us-east-1"}, "apptuit.reporter.send.total.count"},
		{"unicode kept", nil, "", "abc.日本語", nil, "abc.日本語.count", map[string]string{"region": "us-east-1"}, "apptuit.reporter.send.total.count"},
		{"prometheus unicode", apptuit.SanitizePrometheus, "", "abc.日本語", nil, "abc_count", map[string]string{"region": "us-east-1"}, "apptuit_reporter_send_total_count"},
		{"prometheus", apptuit.SanitizePrometheus, "", "7&&cpu-time/seconds", map[string]string{"total-%": "100", "region-loc-本語": "us-east-1-本語", "service.type/name": "web-server"},
			"_7_cpu_time_seconds_count", map[string]string{"region": "us-east-1", "region_loc_": "us-east-1-本語", "service_type_name": "web-server", "total_": "100"}, "apptuit_reporter_send_total_count"},
		{"apptuit", apptuit.SanitizeApptuit, "my app:", "a b", nil, "my_app_a_b.count", map[string]string{"region": "us-east-1"}, "my_app_apptuit.reporter.send.total.count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			srv := newServer(t)
			var copts []apptuit.Option
			if tt.san != nil {
				copts = append(copts, apptuit.WithSanitizer(tt.san))
			}
			reg := metrics.NewRegistry()
			c, err := reg.CounterWith(tt.metric, tt.tags)
			if err != nil {
				t.Fatal(err)
			}
			c.Inc()
			r := newReporter(t, newClient(t, srv.URL(), copts...), reg, WithPrefix(tt.prefix), WithHostTag(""),
				WithTags(map[string]string{"region": "us-east-1"}))
			mustReport(t, r)
			mustReport(t, r)
			pts := byName(srv.Points())
			if p := pts[tt.wantName]; len(p) != 2 || !maps.Equal(p[0].Tags, tt.wantTags) || p[0].Value != 1 {
				t.Fatalf("%s: %v; want tags %v; all names %q", tt.wantName, p, tt.wantTags, names(srv.Points()))
			}
			if p := pts[tt.wantMeta]; len(p) != 2 || p[0].Value != 0 || p[1].Value != 11 {
				t.Fatalf("%s: %v, want 0 then 11 (1 metric + the first report's 10 meta points)", tt.wantMeta, p)
			}
		})
	}
}

// apptuit-py's test_meta_metrics_of_reporter: the meta metrics of a report
// describe the sends before it.
func TestMetaMetrics(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	c, _ := reg.Counter("cpu.time")
	c.Inc()
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(steppingClock(t0)))
	mustReport(t, r)
	mustReport(t, r)
	mustReport(t, r)
	pts := srv.Points()
	if got, want := names(withoutMeta(pts, "")), []string{"cpu.time.count"}; !slices.Equal(got, want) {
		t.Fatalf("names %q, want %q", got, want)
	}
	var meta []string
	for _, n := range names(pts) {
		if n != "cpu.time.count" {
			meta = append(meta, n)
		}
	}
	if !slices.Equal(meta, metaNames) {
		t.Fatalf("meta names\n got %q\nwant %q", meta, metaNames)
	}
	base := t0.Unix()
	// The first report has 11 points (10 meta: no send before it, so the
	// send timer has count, sum and rates only), the next ones 20.
	for i, w := range []struct{ total, ok, timeCount float64 }{{0, 0, 0}, {11, 11, 1}, {31, 31, 2}} {
		ts := base + int64(i)
		if v := value(t, pts, "apptuit.reporter.send.total.count", ts); v != w.total {
			t.Errorf("report %d: total %v, want %v", i, v, w.total)
		}
		if v := value(t, pts, "apptuit.reporter.send.successful.count", ts); v != w.ok {
			t.Errorf("report %d: successful %v, want %v", i, v, w.ok)
		}
		if v := value(t, pts, "apptuit.reporter.send.time.count", ts); v != w.timeCount {
			t.Errorf("report %d: time.count %v, want %v", i, v, w.timeCount)
		}
		for _, n := range []string{"apptuit.reporter.send.failed.count", "apptuit.reporter.send.dropped.count"} {
			if v := value(t, pts, n, ts); v != 0 {
				t.Errorf("report %d: %s = %v, want 0", i, n, v)
			}
		}
	}
}

// apptuit-py's test_batch_send: more points than a batch are all sent, in
// batches.
func TestBatchSend(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	const n = 2*100 + 10
	for i := range n {
		c, _ := reg.Counter("counter" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
		c.Inc()
	}
	r := newReporter(t, newClient(t, srv.URL(), apptuit.WithBatchSize(100)), reg, WithClock(steppingClock(t0)))
	mustReport(t, r)
	if got := len(srv.Requests()); got != 3 {
		t.Errorf("%d requests, want 3 (220 points in batches of 100)", got)
	}
	mustReport(t, r)
	if v := value(t, srv.Points(), "apptuit.reporter.send.total.count", t0.Unix()+1); v != n+firstMeta {
		t.Errorf("total %v, want %d", v, n+firstMeta)
	}
}

// The reporter's batches are the client's (apptuit.WithBatchSize), so that
// each Send is one request and the retry buffer never resends accepted
// points.
func TestBatchSizeIsClients(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	for i := range 39 {
		c, _ := reg.Counter("counter" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
		c.Inc()
	}
	r := newReporter(t, newClient(t, srv.URL(), apptuit.WithBatchSize(20)), reg, WithClock(steppingClock(t0)))
	mustReport(t, r)
	// 39 counters + the first report's 10 meta points = 49 points: 20 + 20 + 9.
	if got := len(srv.Requests()); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
	if got := len(srv.Points()); got != 49 {
		t.Errorf("%d points, want 49", got)
	}
}

// apptuit-py's test_partially_successful_send: a 400 refusing some points
// reaches the handler as a *apptuit.SendError, is counted, and is not retried.
func TestPartialFailure(t *testing.T) {
	clearEnv(t)
	var fail atomic.Bool
	fail.Store(true)
	var mu sync.Mutex
	var bodies [][]apptuit.DataPoint
	srv := newFakePut(t, func(pts []apptuit.DataPoint) (int, string) {
		mu.Lock()
		bodies = append(bodies, pts)
		mu.Unlock()
		if fail.Swap(false) {
			return 400, `{"success":98,"failed":2,"errors":[{"datapoint":{"metric":"counter1.count","timestamp":1700000000,"value":1,"tags":{"host":"testhost"}},"error":"Unauthorized metric"},{"datapoint":{"metric":"counter2.count","timestamp":1700000000,"value":1,"tags":{"host":"testhost"}},"error":"Unauthorized metric"}]}`
		}
		return 204, ""
	})
	reg := metrics.NewRegistry()
	for i := range 90 { // 100 points with the first report's 10 meta points
		c, _ := reg.Counter("counter" + string(rune('A'+i/26)) + string(rune('a'+i%26)))
		c.Inc()
	}
	var got []error
	r := newReporter(t, newClient(t, srv), reg, WithClock(steppingClock(t0)), WithErrorHandler(func(err error) { got = append(got, err) }))
	err := r.ReportNow(context.Background())
	var se *apptuit.SendError
	if !errors.As(err, &se) || se.StatusCode != 400 || se.Success != 98 || se.Failed != 2 || len(se.Errors) != 2 {
		t.Fatalf("ReportNow err = %#v", err)
	}
	if len(got) != 1 || got[0] != err {
		t.Fatalf("handler got %v, want the report's error once", got)
	}
	if _, ok := got[0].(*apptuit.SendError); !ok {
		t.Fatalf("handler got %T, want *apptuit.SendError", got[0])
	}
	mustReport(t, r)
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || len(bodies[1]) != 90+len(metaNames) {
		t.Fatalf("requests %d, second with %d points: refused points must not be resent", len(bodies), len(bodies[len(bodies)-1]))
	}
	for name, want := range map[string]float64{"apptuit.reporter.send.successful.count": 98, "apptuit.reporter.send.failed.count": 2, "apptuit.reporter.send.total.count": 100} {
		if v := value(t, bodies[1], name, t0.Unix()+1); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
}

// The default handler writes one line per failed report.
func TestDefaultHandlerLine(t *testing.T) {
	clearEnv(t)
	srv := newFakePut(t, func(pts []apptuit.DataPoint) (int, string) {
		return 400, `{"success":6,"failed":4,"errors":[` + // of the first report's 10 meta points
			`{"datapoint":{"metric":"a.count","timestamp":1700000000,"value":1,"tags":{"host":"h"}},"error":"e1"},` +
			`{"datapoint":{"metric":"b.count","timestamp":1700000000,"value":1,"tags":{"host":"h"}},"error":"e2"},` +
			`{"datapoint":{"metric":"c.count","timestamp":1700000000,"value":1,"tags":{"host":"h"}},"error":"e3"},` +
			`{"datapoint":{"metric":"d.count","timestamp":1700000000,"value":1,"tags":{"host":"h"}},"error":"e4\nsecond line"}]}`
	})
	reg := metrics.NewRegistry()
	var buf strings.Builder
	r, err := New(newClient(t, srv), reg, WithClock(func() time.Time { return t0 }), WithHostTag("h"), WithErrorWriter(&buf))
	if err != nil {
		t.Fatal(err)
	}
	r.ReportNow(context.Background())
	want := "apptuit reporter: 4 points out of 10 had errors: HTTP status 400, 6 successful, 4 failed, 0 kept for retry, 0 dropped: " +
		"{metric: a.count, timestamp: 1700000000, value: 1, tags: map[host:h]}: e1; {metric: b.count, timestamp: 1700000000, value: 1, tags: map[host:h]}: e2; " +
		"{metric: c.count, timestamp: 1700000000, value: 1, tags: map[host:h]}: e3 (and 1 more)\n"
	if got := buf.String(); got != want {
		t.Fatalf("line\n got %q\nwant %q", got, want)
	}

	// A network failure: no status, the points kept for retry.
	srv2 := newServer(t)
	url := srv2.URL()
	srv2.Close()
	buf.Reset()
	r2, _ := New(newClient(t, url), reg, WithClock(func() time.Time { return t0 }), WithHostTag("h"), WithErrorWriter(&buf))
	r2.ReportNow(context.Background())
	line := buf.String()
	if !strings.HasPrefix(line, "apptuit reporter: 10 points out of 10 had errors: HTTP status none, 0 successful, 10 failed, 10 kept for retry, 0 dropped: apptuit: send: ") ||
		strings.Count(line, "\n") != 1 || strings.Contains(line, "secret-token") {
		t.Fatalf("line %q", line)
	}
	// nil disables the handler.
	buf.Reset()
	r3, _ := New(newClient(t, url), reg, WithHostTag("h"), WithErrorWriter(&buf), WithErrorHandler(nil))
	if err := r3.ReportNow(context.Background()); err == nil || buf.Len() != 0 {
		t.Fatalf("err %v, output %q", err, buf.String())
	}
}

// apptuit-py's test_invalid_metric_name, test_invalid_tag and
// test_zero_tags_with_host_disabled: the client would refuse the points;
// the metric is left out and reported, the rest is sent.
func TestInvalidMetrics(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry()
	h, _ := reg.Histogram("cpu time")
	h.Update(1)
	g, _ := reg.GaugeWith("good", map[string]string{"k": "v"})
	g.Set(1)
	r := newReporter(t, newClient(t, srv.URL()), reg)
	err := r.ReportNow(context.Background())
	var ve *apptuit.ValidationError
	var me *MetricError
	if want := `reporter: metric "cpu time.count" not sent: metric name "cpu time.count"`; !errors.As(err, &ve) || !errors.As(err, &me) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want a MetricError wrapping a ValidationError with %q", err, want)
	}
	if got := names(withoutMeta(srv.Points(), "")); !slices.Equal(got, []string{"good.value"}) {
		t.Fatalf("sent %q, want the valid metric", got)
	}
}

// apptuit-py's test_zero_tags_with_host_disabled, and a prefix or reporter
// tag the client refuses: no report could ever be sent whole (the meta
// metrics carry the prefix and the reporter's tags alone), so New fails,
// naming the cause. So does a Client that apptuit.New did not make.
func TestNewRefusesUnsendable(t *testing.T) {
	tests := []struct {
		name    string
		client  func(url string) *apptuit.Client
		opts    []Option
		wantErr string
	}{
		{"bad prefix", nil, []Option{WithPrefix(`apr\`)}, `reporter: no report could be sent: the client refuses the reporter's own meta metrics (prefix "apr\\", tags map[host:testhost]): apptuit: metric "apr\\apptuit.reporter.send.total.count": metric name "apr\\apptuit.reporter.send.total.count" has a character outside`},
		{"bad reporter tag", nil, []Option{WithTags(map[string]string{`h\ost`: "localhost"})}, `tag key "h\\ost" has a character outside`},
		{"no tags", nil, []Option{WithHostTag("")}, `reporter: no report could be sent: apptuit: metric "apptuit.reporter.send.total.count": no tags: a point needs at least one tag (give it tags or set global tags): every point needs a tag, and there would be none: the host tag is off (WithHostTag("") or APPTUIT_DISABLE_HOST_TAG) and no tags come from WithTags, APPTUIT_TAGS, APPTUIT_PY_TAGS or the client's global tags`},
		{"zero client", func(string) *apptuit.Client { return new(apptuit.Client) }, nil, "reporter: apptuit: the Client was not made by apptuit.New"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			srv := newServer(t)
			c := newClient(t, srv.URL())
			if tt.client != nil {
				c = tt.client(srv.URL())
			}
			_, err := New(c, metrics.NewRegistry(), append([]Option{WithHostTag("testhost")}, tt.opts...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
	// Tags from the client alone are enough.
	clearEnv(t)
	srv := newServer(t)
	if _, err := New(newClient(t, srv.URL(), apptuit.WithGlobalTags(map[string]string{"env": "ci"})), metrics.NewRegistry(), WithHostTag("")); err != nil {
		t.Errorf("New with the client's global tags only: %v", err)
	}
}

// The outage: 5xx for several reports, then connection refused, then back
// up. Every point reported in between arrives exactly once.
func TestOutageExactlyOnce(t *testing.T) {
	clearEnv(t)
	srv1 := newServer(t)
	addr := strings.TrimPrefix(srv1.URL(), "http://")
	reg := metrics.NewRegistry()
	seq, _ := reg.Gauge("seq")
	hits, _ := reg.Counter("hits")
	var errs []error
	r := newReporter(t, newClient(t, srv1.URL()), reg, WithClock(steppingClock(t0)),
		WithErrorHandler(func(err error) { errs = append(errs, err) }))
	report := func(i int) {
		seq.Set(float64(i))
		hits.Inc()
		r.ReportNow(context.Background())
	}
	report(0)
	report(1)
	srv1.FailNext(1000, 503)
	for i := 2; i < 5; i++ {
		report(i)
	}
	srv1.Close()
	for i := 5; i < 8; i++ {
		report(i)
	}
	if len(errs) != 6 {
		t.Fatalf("%d failed reports, want 6: %v", len(errs), errs)
	}
	var he *apptuit.HTTPError
	if !errors.As(errs[0], &he) || he.StatusCode != 503 || !apptuit.IsRetryable(errs[0]) {
		t.Errorf("first error %v, want a retryable 503", errs[0])
	}
	var ne *apptuit.NetworkError
	if !errors.As(errs[5], &ne) {
		t.Errorf("last error %v, want a NetworkError", errs[5])
	}
	srv2 := newServer(t, apptuittest.WithListener(mustListen(t, addr)))
	report(8)
	report(9)
	pts := append(srv1.Points(), srv2.Points()...)
	for _, name := range []string{"seq.value", "hits.count"} {
		var got []float64
		for i := range 10 {
			got = append(got, value(t, pts, name, t0.Unix()+int64(i)))
		}
		want := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		if name == "hits.count" {
			want = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	// Every point once: 10 reports of 2 + 19 points (10 in the first).
	if len(pts) != 10*21-9 {
		t.Errorf("%d points arrived, want %d", len(pts), 10*21-9)
	}
	seen := map[string]bool{}
	for _, p := range pts {
		k := p.Metric + "@" + p.Timestamp.String()
		if seen[k] {
			t.Errorf("duplicate %s", k)
		}
		seen[k] = true
	}
	// Buffered points went first, oldest first: seq arrives in order.
	var order []float64
	for _, p := range srv2.Points() {
		if p.Metric == "seq.value" {
			order = append(order, p.Value)
		}
	}
	if !slices.Equal(order, []float64{2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("arrival order %v", order)
	}
	// The report after the outage tells what happened: each of the 6
	// failed reports tried one send, of the points kept so far merged into
	// one batch (those of the report before when nothing was kept yet):
	// 21, 21, 42, 63, 84 and 105 points.
	if v := value(t, pts, "apptuit.reporter.send.failed.count", t0.Unix()+8); v != 336 {
		t.Errorf("failed %v, want 336 (one failed send per report, of the points kept so far)", v)
	}
}
