package apptuit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Unix(1700000000, 0)

// Points that share a metric and a tags map share one encoding of their
// series (checked once); a point with another metric, another map (even
// with the same tags), or nil tags is encoded afresh.
func TestSendSharedSeries(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithCompression(NoCompression), WithGlobalTags(map[string]string{"g": "1"}))
	a, a2 := map[string]string{"k": "a"}, map[string]string{"k": "a"}
	b := map[string]string{"k": "b"}
	pts := []DataPoint{{"m", a, t0, 1}, {"m", a, t0, 2}, {"n", a, t0, 3}, {"n", a2, t0, 4}, {"n", b, t0, 5}, {"n", nil, t0, 6}, {"n", nil, t0, 7}, {"m", a, t0, 8}}
	if err := c.Send(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteByte('[')
	for i, p := range pts {
		if i > 0 {
			want.WriteByte(',')
		}
		tags := `{"g":"1"}`
		if p.Tags != nil {
			tags = `{"g":"1","k":"` + p.Tags["k"] + `"}`
		}
		fmt.Fprintf(&want, `{"metric":"%s","timestamp":1700000000,"value":%d.0,"tags":%s}`, p.Metric, int(p.Value), tags)
	}
	want.WriteByte(']')
	if got := string(srv.requests()[0].Body); got != want.String() {
		t.Errorf("body\n got %s\nwant %s", got, want.String())
	}
	// A point after one that shares its map is still checked on its own.
	bad := []DataPoint{{"m", a, t0, 1}, {"m", a, t0, math.NaN()}, {"m x", a, t0, 1}}
	var ve *ValidationError
	if err := c.Send(context.Background(), bad); !errors.As(err, &ve) || ve.Index != 1 {
		t.Errorf("got %v, want a *ValidationError at 1", err)
	}
	if err := c.Send(context.Background(), bad[2:]); !errors.As(err, &ve) || ve.Index != 0 || !strings.Contains(ve.Rule, `metric name "m x"`) {
		t.Errorf("got %v, want the metric name refused", err)
	}
}

func TestSendWireFormat(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL+"/"), WithToken("secret-token"), WithGlobalTags(map[string]string{"env": "dev", "host": "global"}))
	err := c.Send(context.Background(), []DataPoint{
		{Metric: "proc.cpu.percent", Tags: map[string]string{"host": "a", "core": "0"}, Timestamp: t0, Value: 1024},
		{Metric: "node.load", Tags: nil, Timestamp: t0.Add(1500 * time.Millisecond), Value: 1e-7},
		{Metric: "日本", Tags: map[string]string{"q": `"x"`}, Timestamp: t0, Value: 1.0 / 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	want := `[{"metric":"proc.cpu.percent","timestamp":1700000000,"value":1024.0,"tags":{"core":"0","env":"dev","host":"a"}},` +
		`{"metric":"node.load","timestamp":1700000001500,"value":1e-07,"tags":{"env":"dev","host":"global"}},` +
		`{"metric":"\u65e5\u672c","timestamp":1700000000,"value":0.3333333333333333,"tags":{"env":"dev","host":"global","q":"\"x\""}}]`
	if string(r.Body) != want {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
	checks := map[string]string{
		"method":           r.Method,
		"path":             r.Path,
		"query":            r.RawQuery,
		"Authorization":    r.Header.Get("Authorization"),
		"Content-Type":     r.Header.Get("Content-Type"),
		"Content-Encoding": r.Header.Get("Content-Encoding"),
	}
	wantChecks := map[string]string{
		"method": "POST", "path": "/api/put", "query": "details",
		"Authorization": "Bearer secret-token", "Content-Type": "application/json", "Content-Encoding": "gzip",
	}
	for k, v := range wantChecks {
		if checks[k] != v {
			t.Errorf("%s = %q, want %q", k, checks[k], v)
		}
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "apptuit-go/"+Version+" (go") {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestSendTimeSeriesWireFormat(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithGlobalTags(map[string]string{"env": "dev"}))
	s1, err := NewTimeSeries("nyc.taxi.rides", map[string]string{"city": "nyc"})
	if err != nil {
		t.Fatal(err)
	}
	s1.Add(t0, 1)
	s1.Add(t0.Add(time.Second), 2.5)
	s2, _ := NewTimeSeries("empty", map[string]string{"a": "b"})
	s3, _ := NewTimeSeries("other", nil)
	s3.AddUnix(1700000100, -3)
	if err := c.SendTimeSeries(context.Background(), []*TimeSeries{s1, s2, s3}); err != nil {
		t.Fatal(err)
	}
	want := `[{"metric":"nyc.taxi.rides","tags":{"city":"nyc","env":"dev"},"timestamp":1700000000,"value":1.0},` +
		`{"metric":"nyc.taxi.rides","tags":{"city":"nyc","env":"dev"},"timestamp":1700000001,"value":2.5},` +
		`{"metric":"other","tags":{"env":"dev"},"timestamp":1700000100,"value":-3.0}]`
	if got := string(srv.requests()[0].Body); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

func TestSendCompression(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		comp     Compression
		encoding string
	}{
		{Gzip, "gzip"},
		{Deflate, "deflate"},
		{NoCompression, ""},
	}
	for _, tt := range tests {
		t.Run(tt.comp.String(), func(t *testing.T) {
			var first2 []byte
			var enc string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				first2, enc = b[:2], r.Header.Get("Content-Encoding")
				w.WriteHeader(204)
			}))
			defer srv.Close()
			c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithCompression(tt.comp))
			if err := c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: t0, Value: 1}}); err != nil {
				t.Fatal(err)
			}
			if enc != tt.encoding {
				t.Errorf("Content-Encoding = %q, want %q", enc, tt.encoding)
			}
			wantMagic := map[Compression]string{Gzip: "\x1f\x8b", Deflate: "\x78\x01", NoCompression: `[{`}[tt.comp]
			if string(first2) != wantMagic {
				t.Errorf("body starts % x, want % x", first2, wantMagic)
			}
		})
	}
}

func TestAppendPyFloat(t *testing.T) {
	// Expected strings are Python 3's repr(float(x)).
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-3, "-3.0"}, {1024, "1024.0"},
		{23050, "23050.0"}, {0.5, "0.5"}, {1.0 / 3, "0.3333333333333333"}, {1e-7, "1e-07"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {123.456, "123.456"}, {1e15, "1000000000000000.0"},
		{1e16, "1e+16"}, {1.5e16, "1.5e+16"}, {123456789012345680, "1.2345678901234568e+17"},
		{9999999999999998, "9999999999999998.0"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{5e-324, "5e-324"}, {-2.5e-5, "-2.5e-05"}, {12345.678e3, "12345678.0"},
	}
	for _, tt := range tests {
		if got := string(appendPyFloat(nil, tt.v)); got != tt.want {
			t.Errorf("appendPyFloat(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestSendValidation(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"))
	good := map[string]string{"a": "b"}
	tests := []struct {
		name string
		p    DataPoint
		want string
	}{
		{"empty metric", DataPoint{Metric: "", Tags: good, Timestamp: t0, Value: 1}, `apptuit: point 1 (metric ""): metric name is empty`},
		{"bad metric", DataPoint{Metric: "cpu load", Tags: good, Timestamp: t0, Value: 1}, `apptuit: point 1 (metric "cpu load"): metric name "cpu load" has a character outside the allowed set`},
		{"no tags", DataPoint{Metric: "m", Timestamp: t0, Value: 1}, `apptuit: point 1 (metric "m"): no tags: a point needs at least one tag`},
		{"26 tags", DataPoint{Metric: "m", Tags: manyTags(26), Timestamp: t0, Value: 1}, `apptuit: point 1 (metric "m"): 26 tags after merging global tags, at most 25 are allowed`},
		{"bad key", DataPoint{Metric: "m", Tags: map[string]string{"a:b": "c"}, Timestamp: t0, Value: 1}, `tag key "a:b" has a character outside`},
		{"empty key", DataPoint{Metric: "m", Tags: map[string]string{"": "c"}, Timestamp: t0, Value: 1}, `tag key is empty`},
		{"empty value", DataPoint{Metric: "m", Tags: map[string]string{"a": ""}, Timestamp: t0, Value: 1}, `tag "a" has an empty value`},
		{"NaN", DataPoint{Metric: "m", Tags: good, Timestamp: t0, Value: math.NaN()}, `value NaN is not a finite number`},
		{"+Inf", DataPoint{Metric: "m", Tags: good, Timestamp: t0, Value: math.Inf(1)}, `value +Inf is not a finite number`},
		{"-Inf", DataPoint{Metric: "m", Tags: good, Timestamp: t0, Value: math.Inf(-1)}, `value -Inf is not a finite number`},
		{"zero time", DataPoint{Metric: "m", Tags: good, Value: 1}, `timestamp 0001-01-01T00:00:00Z is not after the Unix epoch`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts := []DataPoint{{Metric: "ok", Tags: good, Timestamp: t0, Value: 1}, tt.p}
			err := c.Send(context.Background(), pts)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Index != 1 {
				t.Fatalf("err = %v, want a *ValidationError for index 1", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			if IsRetryable(err) {
				t.Error("validation errors must not be retryable")
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid input, want 0", n)
	}
	// Series: NaN is caught per point.
	s, _ := NewTimeSeries("m", good)
	s.Add(t0, 1)
	s.Add(t0, math.NaN())
	err := c.SendTimeSeries(context.Background(), []*TimeSeries{s})
	if err == nil || err.Error() != `apptuit: series 0 point 1 (metric "m"): value NaN is not a finite number (NaN and ±Inf are not JSON; servers reject the whole batch)` {
		t.Errorf("err = %v", err)
	}
	if _, err := NewTimeSeries("", good); err == nil || !strings.Contains(err.Error(), "metric name is empty") {
		t.Errorf("NewTimeSeries(\"\") err = %v", err)
	}
	if _, err := NewTimeSeries("m", map[string]string{"bad key": "v"}); err == nil || !strings.Contains(err.Error(), `tag key "bad key"`) {
		t.Errorf("NewTimeSeries bad key err = %v", err)
	}
}

func TestSendEmptySendsNothing(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"))
	if err := c.Send(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	s, _ := NewTimeSeries("m", map[string]string{"a": "b"})
	if err := c.SendTimeSeries(context.Background(), []*TimeSeries{s}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}

func TestSendSanitizer(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithSanitizer(SanitizePrometheus))
	err := c.Send(context.Background(), []DataPoint{{Metric: "http.requests-total", Tags: map[string]string{"status.code": "2xx"}, Timestamp: t0, Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"metric":"http_requests_total","timestamp":1700000000,"value":1.0,"tags":{"status_code":"2xx"}}]`
	if got := string(srv.requests()[0].Body); got != want {
		t.Errorf("body %s, want %s", got, want)
	}
	err = c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"a.b": "1", "a_b": "2"}, Timestamp: t0, Value: 1}})
	if err == nil || !strings.Contains(err.Error(), `two tag keys sanitize to "a_b"`) {
		t.Errorf("collision err = %v", err)
	}
}

func points(n int) []DataPoint {
	pts := make([]DataPoint, n)
	for i := range pts {
		pts[i] = DataPoint{Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: t0.Add(time.Duration(i) * time.Second), Value: float64(i)}
	}
	return pts
}

// countPoints counts the objects in a put body.
func countPoints(body []byte) int { return strings.Count(string(body), `"metric":`) }

func TestSendBatches(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithBatchSize(3))
	if err := c.Send(context.Background(), points(7)); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range srv.requests() {
		sizes = append(sizes, countPoints(r.Body))
	}
	// Two batches are in flight at once, so they may arrive in any order.
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{1, 3, 3}) {
		t.Errorf("batch sizes %v, want 1, 3 and 3", sizes)
	}
	// Large bodies span many 32 KiB chunks and stay valid JSON.
	srv2 := newRecorder(t)
	c2 := mustNew(t, WithEndpoint(srv2.URL), WithToken("t"), WithBatchSize(20000))
	if err := c2.Send(context.Background(), points(50001)); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range srv2.requests() {
		if !strings.HasPrefix(string(r.Body), "[{") || !strings.HasSuffix(string(r.Body), "}]") || strings.Contains(string(r.Body), "},,") {
			t.Errorf("malformed body of %d bytes", len(r.Body))
		}
		total += countPoints(r.Body)
	}
	if total != 50001 || len(srv2.requests()) != 3 {
		t.Errorf("%d points in %d requests, want 50001 in 3", total, len(srv2.requests()))
	}
}

func TestSend413Splits(t *testing.T) {
	clearEnv(t)
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if countPoints(body) > 2 {
			w.WriteHeader(413)
			return
		}
		got.Add(int64(countPoints(body)))
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithCompression(NoCompression), withMinSplitSize(1))
	if err := c.Send(context.Background(), points(9)); err != nil {
		t.Fatal(err)
	}
	if got.Load() != 9 {
		t.Errorf("server accepted %d points, want 9", got.Load())
	}
	c2 := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithCompression(NoCompression), withMinSplitSize(4))
	err := c2.Send(context.Background(), points(9))
	var se *SendError
	// 9 → 4 (too large at the floor) + 5 → 2 (accepted) + 3 (too large at the floor).
	if !errors.As(err, &se) || se.StatusCode != 413 || se.Failed != 7 || se.Success != 2 {
		t.Fatalf("err = %#v, want a 413 SendError with 7 failed, 2 accepted", err)
	}
	if want := "apptuit: send: the server refused 7 of 9 points (413 Request Entity Too Large); too large even as 4 points, below which batches are not split (4)"; err.Error() != want {
		t.Errorf("Error()\n got %q\nwant %q", err, want)
	}
}

func TestSend400Details(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	srv.queue(400, `{"success":223,"failed":2,"errors":[`+
		`{"datapoint":{"metric":"tomcat.requests.duration.mean","timestamp":1513650393,"value":"NaN","tags":{"host":"a"}},"error":"Unable to parse value to a number"},`+
		`{"datapoint":{"metric":"x","timestamp":1513650393,"value":1.5,"tags":{}},"error":"Missing tags"}]}`)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(3))
	err := c.Send(context.Background(), points(225))
	var se *SendError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SendError", err)
	}
	if se.StatusCode != 400 || se.Success != 223 || se.Failed != 2 || len(se.Errors) != 2 || se.Hint != "" {
		t.Fatalf("SendError = %+v", se)
	}
	pe := se.Errors[0]
	if pe.Message != "Unable to parse value to a number" || pe.Datapoint.Metric != "tomcat.requests.duration.mean" ||
		pe.Datapoint.Timestamp != 1513650393 || pe.Datapoint.Value != "NaN" || pe.Datapoint.Tags["host"] != "a" {
		t.Errorf("PointError = %+v", pe)
	}
	if se.Errors[1].Datapoint.Value != "1.5" {
		t.Errorf("numeric echo value = %q", se.Errors[1].Datapoint.Value)
	}
	want := "apptuit: send: the server refused 2 of 225 points (400 Bad Request)\n" +
		"Unable to parse value to a number error occurred in the datapoint {metric: tomcat.requests.duration.mean, timestamp: 1513650393, value: NaN, tags: map[host:a]}\n" +
		"Missing tags error occurred in the datapoint {metric: x, timestamp: 1513650393, value: 1.5, tags: map[]}"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("400 was sent %d times, want 1 (no retry)", n)
	}
	if IsRetryable(err) {
		t.Error("400 must not be retryable")
	}
}

func TestSend400PlainText(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	srv.queue(400, "cannot parse OpenTSDB HTTP request: zlib: invalid header\n")
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"))
	err := c.Send(context.Background(), points(4))
	var se *SendError
	if !errors.As(err, &se) || se.StatusCode != 400 || se.Failed != 4 || se.Message != "cannot parse OpenTSDB HTTP request: zlib: invalid header" || se.Hint != "" {
		t.Fatalf("err = %#v", err)
	}
	if err.Error() != "apptuit: send: the server refused 4 points (400 Bad Request): cannot parse OpenTSDB HTTP request: zlib: invalid header" {
		t.Errorf("Error() = %q", err)
	}
}

func TestSend400AcrossBatchesAddsUp(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	srv.queue(400, `{"success":1,"failed":1,"errors":[{"datapoint":{"metric":"m","timestamp":1,"value":"1","tags":{"a":"b"}},"error":"e1"}]}`)
	srv.queue(204, "")
	srv.queue(400, `{"success":0,"failed":1,"errors":[{"datapoint":{"metric":"m","timestamp":2,"value":"1","tags":{"a":"b"}},"error":"e2"}]}`)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithBatchSize(2), WithConcurrency(1)) // answers go by arrival
	err := c.Send(context.Background(), points(5))
	var se *SendError
	// Success counts the points accepted by the whole call: 1 + 2 (the 204 batch).
	if !errors.As(err, &se) || se.Success != 3 || se.Failed != 2 || len(se.Errors) != 2 || se.Errors[1].Message != "e2" {
		t.Fatalf("err = %#v", err)
	}
	if n := len(srv.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (batches after a 400 still go)", n)
	}
}

func TestSend401(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	srv.queue(401, `{"error":"token is invalid"}`)
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("super-secret"), WithRetries(2))
	err := c.Send(context.Background(), points(1))
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), "super-secret") {
		t.Errorf("error shows the token: %v", err)
	}
	if err.Error() != "apptuit: send: 1 point not delivered: the API token was rejected (401 Unauthorized): token is invalid" {
		t.Errorf("Error() = %q", err)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("401 sent %d times, want 1", n)
	}
}

func TestSendRetries(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	t.Run("5xx then ok", func(t *testing.T) {
		srv := newRecorder(t)
		srv.queue(503, "busy")
		srv.queue(500, "oops")
		c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(2), WithBackoff(time.Millisecond, 2*time.Millisecond))
		if err := c.Send(context.Background(), points(2)); err != nil {
			t.Fatal(err)
		}
		reqs := srv.requests()
		if len(reqs) != 3 {
			t.Fatalf("%d requests, want 3", len(reqs))
		}
		for _, r := range reqs {
			if countPoints(r.Body) != 2 {
				t.Errorf("retry body has %d points, want 2", countPoints(r.Body))
			}
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		srv := newRecorder(t)
		for i := 0; i < 3; i++ {
			srv.queue(502, "bad gateway")
		}
		c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(2), WithBackoff(time.Millisecond, 2*time.Millisecond))
		err := c.Send(context.Background(), points(2))
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != 502 || he.Undelivered != 2 || he.Attempts != 3 || !IsRetryable(err) {
			t.Fatalf("err = %#v", err)
		}
		if want := "apptuit: send: 2 points not delivered: server answered 502 Bad Gateway after 3 attempts"; err.Error() != want {
			t.Errorf("Error() = %q, want %q", err, want)
		}
		if len(srv.requests()) != 3 {
			t.Errorf("%d requests, want 3", len(srv.requests()))
		}
	})
	t.Run("429 Retry-After", func(t *testing.T) {
		srv := newRecorder(t)
		srv.queueFunc(func(w http.ResponseWriter, _ captured) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
		})
		// A 10-minute backoff would hang the test: only Retry-After: 0 makes it quick.
		c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(1), WithBackoff(10*time.Minute, 10*time.Minute))
		start := time.Now()
		if err := c.Send(context.Background(), points(1)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v: Retry-After was not honoured", d)
		}
	})
	t.Run("other 4xx not retried", func(t *testing.T) {
		srv := newRecorder(t)
		srv.queue(403, "forbidden")
		c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(3), WithBackoff(time.Millisecond, time.Millisecond))
		err := c.Send(context.Background(), points(1))
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != 403 || he.Attempts != 1 || IsRetryable(err) {
			t.Fatalf("err = %#v", err)
		}
		if len(srv.requests()) != 1 {
			t.Errorf("%d requests, want 1", len(srv.requests()))
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := mustNew(t, WithEndpoint("http://"+addr), WithToken("secret-token"), WithRetries(2), WithBackoff(time.Millisecond, time.Millisecond))
		err = c.Send(context.Background(), points(1))
		var ne *NetworkError
		if !errors.As(err, &ne) || !IsRetryable(err) {
			t.Fatalf("err = %v, want a retryable *NetworkError", err)
		}
		if strings.Contains(err.Error(), "secret-token") {
			t.Errorf("error shows the token: %v", err)
		}
	})
	t.Run("context ends the backoff", func(t *testing.T) {
		srv := newRecorder(t)
		srv.queue(503, "")
		c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithRetries(5), WithBackoff(time.Hour, time.Hour))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.Send(ctx, points(1))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
}

// An error body is read up to 1 MiB and quoted up to 512 bytes.
func TestSendResponseBodyCapped(t *testing.T) {
	clearEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, strings.Repeat("x", 3<<20))
	}))
	defer srv.Close()
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"))
	err := c.Send(context.Background(), points(1))
	var se *SendError
	if !errors.As(err, &se) || len(se.Message) != 1<<20 || se.Failed != 1 {
		t.Fatalf("err = %.200v", err)
	}
	if want := "apptuit: send: the server refused 1 point (400 Bad Request): " + strings.Repeat("x", 512) + "… (1048064 more bytes)"; err.Error() != want {
		t.Errorf("Error() = %.100q…", err)
	}
}

// The cost of SendTimeSeries must not grow with the number of points: the
// allocations per batch are the same for 1 batch and for 10 batches of
// 10,000 points (about a hundred, nearly all of them the HTTP exchange
// itself, server side included), so well below one per fifty points.
func TestSendTimeSeriesAllocsConstant(t *testing.T) {
	clearEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	const batch = 10000
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithBatchSize(batch))
	measure := func(n int) float64 {
		s, _ := NewTimeSeries("proc.cpu.percent", map[string]string{"host": "a"})
		for i := 0; i < n; i++ {
			s.AddUnix(1700000000+int64(i), float64(i)*0.25)
		}
		ser := []*TimeSeries{s}
		return testing.AllocsPerRun(5, func() {
			if err := c.SendTimeSeries(context.Background(), ser); err != nil {
				t.Fatal(err)
			}
		})
	}
	one, ten := measure(batch), measure(10*batch)
	perBatch := ten / 10
	t.Logf("allocs: %v for 1 batch, %v for 10 batches (%.1f per batch, %.4f per point)", one, ten, perBatch, perBatch/batch)
	if perBatch > one*1.25 {
		t.Errorf("allocs per batch grow with the number of batches: %v vs %v", perBatch, one)
	}
	if perBatch/batch > 0.02 {
		t.Errorf("%.4f allocs per point, want < 0.02", perBatch/batch)
	}
}

func TestErrorTextClipped(t *testing.T) {
	e := &HTTPError{Op: "query", StatusCode: 502, Message: strings.Repeat("é", 400)}
	msg := e.Error()
	if !strings.HasSuffix(msg, "… (288 more bytes)") || len(msg) > 600 || len(e.Message) != 800 {
		t.Errorf("Error() = %q (%d bytes)", msg, len(msg))
	}
	se := &SendError{StatusCode: 400, Failed: 1, Message: strings.Repeat("x", 2000)}
	if msg := se.Error(); !strings.HasSuffix(msg, "… (1488 more bytes)") {
		t.Errorf("Error() = %q", msg)
	}
}

// appendPyFloat against strconv's shortest form: the digits must round-trip
// and the notation must follow Python's exponent rule, for random values.
func TestAppendPyFloatRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		v := math.Float64frombits(r.Uint64())
		if i%2 == 0 { // around the fixed/scientific boundaries
			v = math.Pow(10, r.Float64()*24-7)
			if i%4 == 0 {
				v = math.Round(v)
			}
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		got := string(appendPyFloat(nil, v))
		back, err := strconv.ParseFloat(got, 64)
		if err != nil || back != v {
			t.Fatalf("appendPyFloat(%v) = %s does not round-trip", v, got)
		}
		e := strconv.FormatFloat(v, 'e', -1, 64)
		exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
		if sci := strings.ContainsRune(got, 'e'); sci != (exp < -4 || exp >= 16) {
			t.Fatalf("appendPyFloat(%v) = %s: exponent %d wants scientific=%v", v, got, exp, !sci)
		}
		if !strings.ContainsAny(got, ".e") {
			t.Fatalf("appendPyFloat(%v) = %s has neither '.' nor 'e'", v, got)
		}
	}
}

func TestSendConcurrency(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	for _, n := range []int{1, 2, 3} {
		var inFlight, most atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cur := inFlight.Add(1)
			for old := most.Load(); cur > old && !most.CompareAndSwap(old, cur); old = most.Load() {
			}
			io.Copy(io.Discard, r.Body)
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
			w.WriteHeader(204)
		}))
		c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithBatchSize(2), WithConcurrency(n))
		if err := c.Send(context.Background(), points(12)); err != nil {
			t.Fatal(err)
		}
		if got := most.Load(); got != int64(n) {
			t.Errorf("WithConcurrency(%d): %d requests in flight at most", n, got)
		}
		srv.Close()
	}
	if _, err := New(WithToken("t"), WithConcurrency(0)); err == nil || !strings.Contains(err.Error(), "WithConcurrency: 0 is not positive") {
		t.Errorf("err = %v", err)
	}
}

func TestSendStopsAfterFailure(t *testing.T) {
	clearEnv(t)
	srv := newRecorder(t)
	srv.queue(204, "")
	srv.queue(503, "down")
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithBatchSize(2), WithConcurrency(1), WithRetries(0))
	err := c.Send(context.Background(), points(10))
	if err == nil || err.Error() != "apptuit: send: 8 of 10 points not delivered: server answered 503 Service Unavailable: down" {
		t.Fatalf("err = %v", err)
	}
	if !IsRetryable(err) {
		t.Error("a 503 must stay retryable through the wrapping")
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d requests, want 2: batches after the failure must not be sent", n)
	}
}

// A 413 split whose halves fail differently must not lose the failure that
// is not a refusal: the call stays retryable.
func TestSend413SplitKeepsFatalHalf(t *testing.T) {
	clearEnv(t)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch n.Add(1) {
		case 1:
			w.WriteHeader(413)
		case 2:
			w.WriteHeader(400)
			io.WriteString(w, `{"success":1,"failed":1,"errors":[]}`)
		default:
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	c := mustNew(t, WithEndpoint(srv.URL), WithToken("t"), WithCompression(NoCompression), withMinSplitSize(1), WithRetries(0))
	err := c.Send(context.Background(), points(4))
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 || he.Undelivered != 2 || he.Total != 4 || !IsRetryable(err) {
		t.Fatalf("err = %#v, want the 503 of the second half, retryable", err)
	}
	// 1 accepted and 1 refused in the first half, the second half not delivered.
	if want := "apptuit: send: 2 of 4 points not delivered: server answered 503 Service Unavailable"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
}

func TestRetryAfterHuge(t *testing.T) {
	if d, ok := retryAfter("10000000000", time.Now()); !ok || d != 5*time.Minute {
		t.Errorf("retryAfter(1e10 s) = %v, %v; want the 5-minute ceiling", d, ok)
	}
}

func TestSendSubSecondBefore2To32ms(t *testing.T) {
	clearEnv(t)
	c := mustNew(t, WithToken("t"))
	err := c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"a": "b"}, Timestamp: time.UnixMilli(1500), Value: 1}})
	if err == nil || !strings.Contains(err.Error(), "timestamp 1970-01-01T00:00:01.5Z has a sub-second part") {
		t.Errorf("err = %v", err)
	}
}
