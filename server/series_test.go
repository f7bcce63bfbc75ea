package server

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// readerServer stores, in this order: cpu{h=a} at ms 1000900 (1), 1000100
// (2, later but earlier in time), 1002000 twice (3 then 4); cpu{h=b} at
// 1001000 (5); mem{h=a} at 1000000 (6), all shifted by msBase.
func readerServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	srv := newServer(t, opts...)
	var pts []string
	for _, p := range []struct {
		metric, h string
		ms        int64
		v         int
	}{
		{"cpu", "a", 1000900, 1}, {"cpu", "a", 1000100, 2}, {"cpu", "a", 1002000, 3}, {"cpu", "a", 1002000, 4},
		{"cpu", "b", 1001000, 5}, {"mem", "a", 1000000, 6},
	} {
		pts = append(pts, fmt.Sprintf(`{"metric":%q,"timestamp":%d,"value":%d,"tags":{"h":%q}}`, p.metric, msBase+p.ms, p.v, p.h))
	}
	if code, resp := post(t, srv, "", "["+strings.Join(pts, ",")+"]"); code != 204 {
		t.Fatalf("%d %s", code, resp)
	}
	return srv
}

// Milliseconds need 2^32 or more.
const msBase = 1500000000000

func query(t *testing.T, srv *testServer, params string) (int, string) {
	t.Helper()
	code, body, _ := do(t, "GET", srv.URL()+"/api/query?"+params, nil, nil)
	return code, body
}

func q(start, end int64, text string) string {
	return fmt.Sprintf("start=%d&end=%d&q=%s", start, end, url.QueryEscape(text))
}

// outputsOf returns the "outputs" of a query answer, as JSON.
func outputsOf(t *testing.T, body string) string {
	t.Helper()
	var r struct {
		Outputs json.RawMessage `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return string(r.Outputs)
}

func TestSeriesAndStats(t *testing.T) {
	srv := readerServer(t)
	at := func(ms int64) time.Time { return time.UnixMilli(msBase + ms).UTC() }
	want := []SeriesInfo{
		{Metric: "cpu", Tags: map[string]string{"h": "a"}, Points: 4, First: at(1000100), Last: at(1002000), LastValue: 4},
		{Metric: "cpu", Tags: map[string]string{"h": "b"}, Points: 1, First: at(1001000), Last: at(1001000), LastValue: 5},
		{Metric: "mem", Tags: map[string]string{"h": "a"}, Points: 1, First: at(1000000), Last: at(1000000), LastValue: 6},
	}
	got := srv.Series()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Series %+v\nwant %+v", got, want)
	}
	got[0].Tags["h"] = "changed"
	if srv.Series()[0].Tags["h"] != "a" {
		t.Error("Series does not copy the tags")
	}
	st := srv.Stats()
	if want := (Stats{Points: 6, Series: 3, Accepted: 6, Requests: 1}); st != want {
		t.Errorf("Stats %+v, want %+v", st, want)
	}
}

// TestEvictionVisible checks what a user sees of eviction: retention
// against the server's clock (points already too old are accepted, counted
// and not stored), max points dropping the oldest timestamps first, and
// the counts in Stats and in each put's record.
func TestEvictionVisible(t *testing.T) {
	now := time.Unix(1700000000, 0)
	srv := newServer(t, WithClock(func() time.Time { return now }), WithRetention(time.Hour), WithMaxPoints(3))
	pt := func(ts int64, v int) string {
		return fmt.Sprintf(`{"metric":"m","timestamp":%d,"value":%d,"tags":{"h":"a"}}`, ts, v)
	}
	n := now.Unix()
	// One too old, four within the hour: one of those is evicted by count.
	code, resp := post(t, srv, "summary", "["+pt(n-7200, 1)+","+pt(n-60, 2)+","+pt(n-50, 3)+","+pt(n-40, 4)+","+pt(n-30, 5)+"]")
	if code != 200 || resp != `{"success":5,"failed":0}` {
		t.Fatalf("%d %s", code, resp)
	}
	var got []float64
	for _, p := range srv.Points() {
		got = append(got, p.Value)
	}
	if want := []float64{3, 4, 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if r := srv.Requests()[0]; r.Accepted != 5 || r.Evicted != 2 {
		t.Errorf("record: accepted %d, evicted %d; want 5 and 2", r.Accepted, r.Evicted)
	}
	// Time passes: everything but the newest goes past the hour, and is
	// invisible before it is evicted by the next put.
	now = now.Add(time.Hour - 35*time.Second)
	if got := len(srv.Points()); got != 1 {
		t.Errorf("%d points visible after an hour, want 1", got)
	}
	post(t, srv, "", pt(now.Unix(), 6))
	st := srv.Stats()
	if want := (Stats{Points: 2, Series: 1, Accepted: 6, EvictedByAge: 3, EvictedByCount: 1, Requests: 2}); st != want {
		t.Errorf("Stats %+v, want %+v", st, want)
	}
}

// TestQueryLatestInSecond: a query's value for a second is its latest
// point, not the last to arrive, so concurrent puts arriving out of order
// give the same answer.
func TestQueryLatestInSecond(t *testing.T) {
	srv := readerServer(t)
	base := int64(msBase / 1000)
	code, body := query(t, srv, q(base+1000, base+1002, "fetch('cpu', {'h': 'a'})"))
	want := fmt.Sprintf(`[{"id":"cpu","result":[{"metric":"cpu","tags":{"h":"a"},"aggregatedTags":[],"dps":[[%d,1.0],[%d,4.0]]}]}]`, base+1000, base+1002)
	if code != 200 || outputsOf(t, body) != want {
		t.Errorf("got %d %s\nwant %s", code, outputsOf(t, body), want)
	}
}
