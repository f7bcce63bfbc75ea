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
	if want := (Stats{Points: 6, Series: 3, Bytes: st.Bytes, Accepted: 6, Requests: 1}); st != want || st.Bytes <= 0 {
		t.Errorf("Stats %+v, want %+v", st, want)
	}
}

// TestEvictionVisible checks what a user sees of eviction: retention
// against the server's clock (points already too old are accepted, counted
// and not stored), the byte budget dropping the oldest points first, and
// the counts in Stats and in each put's record.
func TestEvictionVisible(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := now.Unix()
	pt := func(h string, ts int64, v int) string {
		return fmt.Sprintf(`{"metric":"m","timestamp":%d,"value":%d,"tags":{"h":%q}}`, ts, v, h)
	}
	first := "[" + pt("a", n-7200, 1) + "," + pt("a", n-60, 2) + "," + pt("a", n-50, 3) + "," + pt("a", n-40, 4) + "]"
	// A budget whose store share (three quarters) holds series a and half
	// as much again: not a and b.
	probe := newServer(t)
	post(t, probe, "", first)
	budget := probe.Stats().Bytes * 2
	srv := newServer(t, WithClock(func() time.Time { return now }), WithRetention(time.Hour), WithMaxMemory(budget))
	values := func() []float64 {
		var got []float64
		for _, p := range srv.Points() {
			got = append(got, p.Value)
		}
		return got
	}
	// One too old, three within the hour.
	if code, resp := post(t, srv, "summary", first); code != 200 || resp != `{"success":4,"failed":0}` {
		t.Fatalf("%d %s", code, resp)
	}
	if got, want := values(), []float64{2, 3, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	// Series b, newer: both do not fit, and a's points are the oldest.
	if code, resp := post(t, srv, "summary", "["+pt("b", n-30, 5)+","+pt("b", n-20, 6)+","+pt("b", n-10, 7)+"]"); code != 200 || resp != `{"success":3,"failed":0}` {
		t.Fatalf("%d %s", code, resp)
	}
	if got, want := values(), []float64{5, 6, 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if r := srv.Requests(); r[0].Accepted != 4 || r[0].Evicted != 1 || r[1].Accepted != 3 || r[1].Evicted != 3 {
		t.Errorf("records: %+v", r)
	}
	// Time passes: all but the newest of b go past the hour, and are
	// invisible before they are evicted by the next put.
	now = now.Add(time.Hour - 15*time.Second)
	if got := len(srv.Points()); got != 1 {
		t.Errorf("%d points visible after an hour, want 1", got)
	}
	post(t, srv, "", pt("b", now.Unix(), 8))
	st := srv.Stats()
	if want := (Stats{Points: 2, Series: 1, Bytes: st.Bytes, Accepted: 8, EvictedByAge: 3, EvictedByMemory: 3, Requests: 3}); st != want || st.Bytes > budget*3/4 {
		t.Errorf("Stats %+v, want %+v, at most %d bytes", st, want, budget)
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
