package opentsdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/ql"
)

func TestAppendFloat(t *testing.T) {
	tests := map[float64]string{
		0: "0.0", 1: "1.0", -1: "-1.0", 23050: "23050.0", 0.5: "0.5", 1e-7: "1e-7", 0.3333333333333333: "0.3333333333333333",
		1e20: "100000000000000000000.0", 1e21: "1e+21", 1.5e-300: "1.5e-300", -2.5e22: "-2.5e+22",
	}
	for v, want := range tests {
		if got := string(appendFloat(nil, v)); got != want {
			t.Errorf("appendFloat(%v) = %s, want %s", v, got, want)
		}
	}
	for _, s := range []string{"NaN", "+Inf", "-Inf"} {
		var v float64
		fmt.Sscan(s, &v)
		if got := string(appendFloat(nil, v)); got != "null" {
			t.Errorf("appendFloat(%s) = %s", s, got)
		}
	}
}

// memStore is a ql.Store of fixed series; delay slows each Fetch.
type memStore struct {
	series []ql.Series
	delay  time.Duration
}

func (m memStore) Fetch(metric string, start, end int64, max int) ([]ql.Series, bool) {
	time.Sleep(m.delay)
	var out []ql.Series
	n := 0
	for _, s := range m.series {
		if s.Metric == metric {
			if n += len(s.Points); n > max {
				return out, false
			}
			out = append(out, s)
		}
	}
	return out, true
}

func points(n int) []ql.Point {
	ps := make([]ql.Point, n)
	for i := range ps {
		ps[i] = ql.Point{T: int64(i), V: float64(i) / 3}
	}
	return ps
}

func serveQuery(h *Query, st ql.Store, q string) (int, string, http.Header) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/api/query?start=0&end=100000&q="+url.QueryEscape(q), nil)
	h.Serve(w, r, st, time.Unix(200000, 0))
	return w.Code, w.Body.String(), w.Header()
}

// TestQueryAnswerAsEncodingJSON checks that the answer, written by hand to
// stop at MaxBytes, is what encoding/json made of Apptuit's shape before:
// the fake's and the server's answers did not change.
func TestQueryAnswerAsEncodingJSON(t *testing.T) {
	st := memStore{series: []ql.Series{
		{Metric: "m<&>", Tags: map[string]string{"z": "1", "a": "é\"\\<\u2028", "h": "x"}, Points: []ql.Point{{T: 1, V: 23050}, {T: 2, V: math.NaN()}, {T: 3, V: 1e-7}, {T: 4, V: -2.5e22}}},
		{Metric: "m<&>", Tags: map[string]string{"h": "y"}, Points: points(50)},
	}}
	for _, q := range []string{
		"fetch('m<&>')",
		"a = fetch('m<&>')\nb = a.series_sum()\nc = a.rate()\noutput(b, a, c)",
		"fetch('none')",
		"x = fetch('m<&>', {'h': 'x'}).downsample('1h', 'count'); y = x",
	} {
		h := &Query{}
		code, got, _ := serveQuery(h, st, q)
		if code != 200 {
			t.Fatalf("%q: %d %s", q, code, got)
		}
		prog, err := ql.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		outs, _ := ql.Eval(context.Background(), prog, st, 0, 100000, 0)
		want, err := json.Marshal(oldAnswer(outs, q, 0, 100000))
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", q, got, want)
		}
	}
}

// oldAnswer is the answer as encoding/json wrote it before Query.
func oldAnswer(outs []ql.Output, text string, start, end int64) any {
	type result struct {
		Metric         string            `json:"metric"`
		Tags           map[string]string `json:"tags"`
		AggregatedTags []string          `json:"aggregatedTags"`
		Dps            json.RawMessage   `json:"dps"`
	}
	type output struct {
		ID     string   `json:"id"`
		Result []result `json:"result"`
	}
	type info struct {
		QueryText string `json:"querytext"`
		StartTime int64  `json:"startTime"`
		EndTime   int64  `json:"endTime"`
	}
	type answer struct {
		Outputs []output `json:"outputs"`
		Hints   []string `json:"hints"`
		Query   info     `json:"query"`
	}
	a := answer{Outputs: []output{}, Hints: []string{}, Query: info{text, start, end}}
	for _, o := range outs {
		oj := output{ID: o.ID, Result: []result{}}
		for _, s := range o.Series {
			r := result{Metric: s.Metric, Tags: s.Tags, AggregatedTags: s.AggregatedTags}
			if r.Tags == nil {
				r.Tags = map[string]string{}
			}
			if r.AggregatedTags == nil {
				r.AggregatedTags = []string{}
			}
			r.Dps, _ = appendDps(context.Background(), nil, s.Points, 0)
			oj.Result = append(oj.Result, r)
		}
		a.Outputs = append(a.Outputs, oj)
	}
	return a
}

// TestQueryBounds checks each bound's answer: status, message naming the
// bound and how to raise it, nothing else.
func TestQueryBounds(t *testing.T) {
	st := memStore{series: []ql.Series{{Metric: "m", Tags: map[string]string{"h": "a"}, Points: points(1000)}}}
	raise := QueryRaise{MaxPoints: "--query-max-points", MaxBytes: "--query-max-bytes", Timeout: "--query-timeout", Slots: "--query-concurrency"}
	busy := make(chan struct{}, 1)
	busy <- struct{}{}
	tests := []struct {
		name string
		h    Query
		st   ql.Store
		q    string
		code int
		want string
	}{
		{"points", Query{MaxPoints: 2999, Raise: raise}, st, "a = fetch('m')\noutput(a, a, a)", 422,
			`{"error":{"code":422,"message":"query too expensive: it needs more than 2999 points fetched, computed and answered (the limit; raise it with --query-max-points)"}}`},
		{"points in a fetch", Query{MaxPoints: 999}, st, "fetch('m')", 422,
			`{"error":{"code":422,"message":"query too expensive: it needs more than 999 points fetched, computed and answered (the limit)"}}`},
		{"bytes", Query{MaxBytes: 10000, Raise: raise}, st, "fetch('m')", 422,
			`{"error":{"code":422,"message":"answer too large: more than 10000 bytes (the limit; raise it with --query-max-bytes)"}}`},
		{"time", Query{Timeout: 30 * time.Millisecond, Raise: raise}, memStore{series: st.series, delay: 20 * time.Millisecond}, "fetch('m'); fetch('m'); fetch('m')", 422,
			`{"error":{"code":422,"message":"query timed out: it took longer than 30ms (the limit; raise it with --query-timeout)"}}`},
		{"slots", Query{Slots: busy, Timeout: 20 * time.Millisecond, Raise: raise}, st, "fetch('m')", 429,
			`{"error":{"code":429,"message":"too many queries at once: all 1 query slots stayed busy for 20ms (the limit; raise it with --query-concurrency)"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, hdr := serveQuery(&tt.h, tt.st, tt.q)
			if code != tt.code || body != tt.want {
				t.Errorf("got %d %s\nwant %d %s", code, body, tt.code, tt.want)
			}
			if code == 429 && hdr.Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q", hdr.Get("Retry-After"))
			}
		})
	}
	// At the bounds the same query is answered; one byte less fails.
	const q = "a = fetch('m')\noutput(a, a, a)"
	code, body, _ := serveQuery(&Query{MaxPoints: 3000}, st, q)
	if code != 200 {
		t.Errorf("MaxPoints 3000: %d %.200s", code, body)
	}
	if code, got, _ := serveQuery(&Query{MaxBytes: len(body)}, st, q); code != 200 || got != body {
		t.Errorf("MaxBytes %d: %d %.200s", len(body), code, got)
	}
	if code, got, _ := serveQuery(&Query{MaxBytes: len(body) - 1}, st, q); code != 422 {
		t.Errorf("MaxBytes %d: %d %.200s", len(body)-1, code, got)
	}
	if n := len(busy); n != 1 {
		t.Errorf("slots: %d taken, want 1", n)
	}
}
