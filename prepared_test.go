package apptuit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// SendPrepared puts on the wire exactly what SendTimeSeries does for the
// same series and points: sanitizer, global tags, escaping, timestamps.
func TestSendPreparedWireMatchesSendTimeSeries(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithSanitizer(SanitizeApptuit),
		WithGlobalTags(map[string]string{"env": "dev", "host": "global"}))
	type in struct {
		metric string
		tags   map[string]string
		ms     int64
		v      float64
	}
	ins := []in{
		{"proc.cpu.percent", map[string]string{"host": "a", "core": "0"}, 1700000000000, 1024},
		{"node load", nil, 1700000001500, 1e-7},
		{"日本", map[string]string{"q": `"x"`, "a b": "1"}, 1700000000000, 1.0 / 3},
	}
	var pts []PreparedPoint
	var series []*TimeSeries
	for _, x := range ins {
		s, err := c.PrepareSeries(x.metric, x.tags)
		if err != nil {
			t.Fatal(err)
		}
		pts = append(pts, PreparedPoint{Series: s, UnixMilli: x.ms, Value: x.v})
		ts := &TimeSeries{metric: x.metric, tags: x.tags}
		ts.ts, ts.vals = []int64{x.ms}, []float64{x.v}
		series = append(series, ts)
	}
	if err := c.SendPrepared(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	if err := c.SendTimeSeries(context.Background(), series); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	want := `[{"metric":"proc.cpu.percent","tags":{"core":"0","env":"dev","host":"a"},"timestamp":1700000000,"value":1024.0},` +
		`{"metric":"node_load","tags":{"env":"dev","host":"global"},"timestamp":1700000001500,"value":1e-07},` +
		`{"metric":"\u65e5\u672c","tags":{"a_b":"1","env":"dev","host":"global","q":"\"x\""},"timestamp":1700000000,"value":0.3333333333333333}]`
	if got := string(reqs[0].Body); got != want {
		t.Errorf("SendPrepared body\n got %s\nwant %s", got, want)
	}
	if string(reqs[1].Body) != string(reqs[0].Body) {
		t.Errorf("SendTimeSeries body differs\n%s\n%s", reqs[1].Body, reqs[0].Body)
	}
	if reqs[0].RawQuery != "details" || reqs[0].Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("request %s %v", reqs[0].RawQuery, reqs[0].Header)
	}
}

// A series keeps the name and tags it was given, so that it can be stored
// and prepared again; WithMetric shares the tags.
func TestPreparedSeriesRecoverable(t *testing.T) {
	clearEnv(t)
	c := mustNew(t, WithToken("t"), WithSanitizer(SanitizePrometheus), WithGlobalTags(map[string]string{"dc": "x"}))
	tags := map[string]string{"host": "a", "city-code": "BLR"}
	s, err := c.PrepareSeries("order.count", tags)
	if err != nil {
		t.Fatal(err)
	}
	tags["host"] = "changed" // the series keeps its own copy
	if got, want := s.Tags(), map[string]string{"host": "a", "city-code": "BLR"}; !maps.Equal(got, want) || s.Metric() != "order.count" {
		t.Errorf("Metric %q Tags %v, want order.count %v", s.Metric(), got, want)
	}
	if got, want := s.String(), "order.count{city-code=BLR,host=a}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	f, err := s.WithMetric("order.sum")
	if err != nil {
		t.Fatal(err)
	}
	if f.Metric() != "order.sum" || !maps.Equal(f.Tags(), s.Tags()) || f.tags != s.tags {
		t.Errorf("WithMetric: %v %v, want order.sum with the same (shared) tags", f.Metric(), f.Tags())
	}
	if got, want := string(f.head)+string(f.tags.pre), `{"metric":"order_sum","tags":{"city_code":"BLR","dc":"x","host":"a"},"timestamp":`; got != want {
		t.Errorf("encoding %s, want %s", got, want)
	}
	empty, err := c.PrepareSeries("m", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.Tags(); len(got) != 0 || got == nil {
		t.Errorf("Tags() of a series without tags = %#v, want an empty map", got)
	}
}

// PrepareSeries applies ValidateMetric's rules, with the same errors.
func TestPrepareSeriesValidation(t *testing.T) {
	clearEnv(t)
	many := make(map[string]string)
	for i := 0; i < MaxTags+1; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	plain := mustNew(t, WithToken("t"), WithIgnoreEnvTags())
	san := mustNew(t, WithToken("t"), WithIgnoreEnvTags(), WithSanitizer(SanitizeApptuit))
	tests := []struct {
		name   string
		c      *Client
		metric string
		tags   map[string]string
		rule   string
	}{
		{"valid", plain, "cpu.user", map[string]string{"host": "a"}, ""},
		{"no tags", plain, "cpu.user", nil, "no tags: a point needs at least one tag (give it tags or set global tags)"},
		{"bad name", plain, "cpu user", map[string]string{"host": "a"}, `metric name "cpu user" has a character outside the allowed set (Unicode letters and digits, '.', '-', '_', '/')`},
		{"sanitized name", san, "cpu user", map[string]string{"host": "a"}, ""},
		{"empty name", plain, "", map[string]string{"host": "a"}, "metric name is empty"},
		{"bad key", plain, "m", map[string]string{"a b": "x"}, `tag key "a b" has a character outside the allowed set (Unicode letters and digits, '.', '-', '_', '/')`},
		{"keys collide after sanitizing", san, "m", map[string]string{"a b": "x", "a_b": "y"}, `two tag keys sanitize to "a_b"`},
		{"empty value", plain, "m", map[string]string{"host": ""}, `tag "host" has an empty value`},
		{"too many", plain, "m", many, "26 tags after merging global tags, at most 25 are allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.c.PrepareSeries(tt.metric, tt.tags)
			verr := tt.c.ValidateMetric(tt.metric, tt.tags)
			if fmt.Sprint(err) != fmt.Sprint(verr) {
				t.Errorf("PrepareSeries = %v, ValidateMetric = %v", err, verr)
			}
			if tt.rule == "" {
				if err != nil || s == nil {
					t.Fatalf("PrepareSeries = %v, %v", s, err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Rule != tt.rule || ve.Index != -1 || ve.Point != -1 || ve.Metric != tt.metric || s != nil {
				t.Fatalf("PrepareSeries = %v, %#v; want a *ValidationError with rule %q", s, err, tt.rule)
			}
		})
	}
	s, _ := plain.PrepareSeries("m", map[string]string{"host": "a"})
	if _, err := s.WithMetric("bad name"); err == nil || !strings.Contains(err.Error(), `metric name "bad name" has a character outside`) {
		t.Errorf("WithMetric(bad name) = %v", err)
	}
}

// Each point is checked for its series, value and timestamp; a breach sends
// nothing and names the point.
func TestSendPreparedPointChecks(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithIgnoreEnvTags())
	other := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithIgnoreEnvTags())
	s, _ := c.PrepareSeries("m", map[string]string{"host": "a"})
	foreign, _ := other.PrepareSeries("m", map[string]string{"host": "a"})
	good := PreparedPoint{Series: s, UnixMilli: 1700000000000, Value: 1}
	tests := []struct {
		name string
		p    PreparedPoint
		rule string
	}{
		{"nil series", PreparedPoint{UnixMilli: 1700000000000}, "series is nil"},
		{"other client", PreparedPoint{Series: foreign, UnixMilli: 1700000000000}, "series was prepared by another client (its encoding holds that client's sanitizer and global tags)"},
		{"NaN", PreparedPoint{Series: s, UnixMilli: 1700000000000, Value: math.NaN()}, "value NaN is not a finite number (NaN and ±Inf are not JSON; servers reject the whole batch)"},
		{"Inf", PreparedPoint{Series: s, UnixMilli: 1700000000000, Value: math.Inf(-1)}, "value -Inf is not a finite number (NaN and ±Inf are not JSON; servers reject the whole batch)"},
		{"epoch", PreparedPoint{Series: s, UnixMilli: 0}, "timestamp 1970-01-01T00:00:00Z is not after the Unix epoch"},
		{"too late", PreparedPoint{Series: s, UnixMilli: 10000000000000}, "timestamp 2286-11-20T17:46:40Z is past what the API accepts (9999999999999 ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.SendPrepared(context.Background(), []PreparedPoint{good, good, tt.p})
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Index != 2 || ve.Point != -1 || ve.Rule != tt.rule {
				t.Fatalf("err = %#v, want a *ValidationError at index 2 with rule %q", err, tt.rule)
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("%d requests, want none", n)
	}
	if err := c.SendPrepared(context.Background(), nil); err != nil || len(srv.requests()) != 0 {
		t.Fatalf("empty SendPrepared: %v, %d requests", err, len(srv.requests()))
	}
}

// SendPrepared shares Send's batching, 413 split and error accounting.
func TestSendPreparedBatchesAndErrors(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithIgnoreEnvTags(), WithBatchSize(4), withMinSplitSize(1), WithConcurrency(1), WithRetries(0))
	s, _ := c.PrepareSeries("m", map[string]string{"host": "a"})
	pts := make([]PreparedPoint, 10)
	for i := range pts {
		pts[i] = PreparedPoint{Series: s, UnixMilli: 1700000000000 + int64(i)*1000, Value: float64(i)}
	}
	srv.queue(413, "too big")
	srv.queue(204, "")
	srv.queue(204, "")
	srv.queue(400, `{"success":3,"failed":1,"errors":[]}`)
	if err := c.SendPrepared(context.Background(), pts); err == nil {
		t.Fatal("want the 400's SendError")
	} else {
		var se *SendError
		if !errors.As(err, &se) || se.StatusCode != 400 || se.Success != 9 || se.Failed != 1 {
			t.Fatalf("err = %#v, want a 400 with 9 accepted and 1 failed", err)
		}
	}
	var sizes []int
	for _, r := range srv.requests() {
		sizes = append(sizes, strings.Count(string(r.Body), `"metric"`))
	}
	if fmt.Sprint(sizes) != "[4 2 2 4 2]" {
		t.Errorf("request sizes %v, want [4 2 2 4 2] (a 413 split in halves)", sizes)
	}
}

// Sending prepared points allocates per batch, never per point.
func TestSendPreparedAllocsConstant(t *testing.T) {
	clearEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	const batch = 10000
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithBatchSize(batch), WithIgnoreEnvTags())
	series := make([]*PreparedSeries, 100)
	for i := range series {
		var err error
		if series[i], err = c.PrepareSeries(fmt.Sprintf("m%d", i), map[string]string{"host": "a"}); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(n int) float64 {
		pts := make([]PreparedPoint, n)
		for i := range pts {
			pts[i] = PreparedPoint{Series: series[i%len(series)], UnixMilli: 1700000000000, Value: float64(i)}
		}
		return testing.AllocsPerRun(5, func() {
			if err := c.SendPrepared(context.Background(), pts); err != nil {
				t.Fatal(err)
			}
		})
	}
	one, ten := measure(batch), measure(10*batch)
	t.Logf("allocs: %v for 1 batch, %v for 10 batches", one, ten)
	if ten/10 > one*1.25 || ten/10/batch > 0.02 {
		t.Errorf("allocs grow with points: %v for 1 batch, %v for 10", one, ten)
	}
}

func TestPrepareSeriesAllocs(t *testing.T) {
	clearEnv(t)
	c := mustNew(t, WithToken("t"), WithIgnoreEnvTags())
	tags := map[string]string{"host": "a", "core": "0"}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.PrepareSeries("cpu.user", tags) }); n != 4 {
		t.Errorf("PrepareSeries: %v allocations, want 4", n)
	}
	s, _ := c.PrepareSeries("cpu.user", tags)
	if n := testing.AllocsPerRun(100, func() { _, _ = s.WithMetric("cpu.system") }); n != 2 {
		t.Errorf("WithMetric: %v allocations, want 2", n)
	}
}
