package apptuittest

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// readerServer stores, in this order: cpu{h=a} at ms 1000900 (1), 1000100
// (2, later but earlier in time), 1002000 twice (3 then 4); cpu{h=b} at
// 1001000 (5); mem{h=a} at 1000000 (6).
func readerServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv := newServer(t, opts...)
	body := `[{"metric":"cpu","timestamp":1000900,"value":1,"tags":{"h":"a"}},
	{"metric":"cpu","timestamp":1000100,"value":2,"tags":{"h":"a"}},
	{"metric":"cpu","timestamp":1002000,"value":3,"tags":{"h":"a"}},
	{"metric":"cpu","timestamp":1002000,"value":4,"tags":{"h":"a"}},
	{"metric":"cpu","timestamp":1001000,"value":5,"tags":{"h":"b"}},
	{"metric":"mem","timestamp":1000000,"value":6,"tags":{"h":"a"}}]`
	// Milliseconds need 2^32 or more: shift everything by 1.5e12.
	body = shiftMs(body)
	if code, resp := post(t, srv, "", body); code != 204 {
		t.Fatalf("%d %s", code, resp)
	}
	return srv
}

const msBase = 1500000000000

func shiftMs(s string) string {
	for _, ms := range []string{"1000900", "1000100", "1002000", "1001000", "1000000"} {
		var n int64
		fmt.Sscan(ms, &n)
		s = strings.ReplaceAll(s, `"timestamp":`+ms+`,`, fmt.Sprintf(`"timestamp":%d,`, msBase+n))
	}
	return s
}

func TestReaderSamplesAndSeconds(t *testing.T) {
	srv := readerServer(t)
	type sample struct {
		T int64
		V float64
	}
	var ms, secs []sample
	srv.store.read(func(r storeReader) {
		r.eachSeries("cpu", func(_ string, tags map[string]string) bool { return tags["h"] == "a" }, func(v seriesView) bool {
			v.samples(math.MinInt64, math.MaxInt64, func(t int64, val float64) bool {
				ms = append(ms, sample{t - msBase, val})
				return true
			})
			v.seconds(0, math.MaxInt64, func(t int64, val float64) bool {
				secs = append(secs, sample{t - msBase/1000, val})
				return true
			})
			return true
		})
	})
	// By millisecond: time order, one per timestamp (the later arrival).
	if want := []sample{{1000100, 2}, {1000900, 1}, {1002000, 4}}; !reflect.DeepEqual(ms, want) {
		t.Errorf("samples %v, want %v", ms, want)
	}
	// By second: second 1000 holds 1000900 (1, arrived first) and 1000100
	// (2): the latest timestamp wins, whatever the order of arrival; at
	// 1002000, of two at the same millisecond the later arrival.
	if want := []sample{{1000, 1}, {1002, 4}}; !reflect.DeepEqual(secs, want) {
		t.Errorf("seconds %v, want %v", secs, want)
	}
	// A range, and stopping early.
	var part []sample
	srv.store.read(func(r storeReader) {
		r.eachSeries("cpu", nil, func(v seriesView) bool {
			if v.tags()["h"] != "a" {
				return true
			}
			v.samples(msBase+1000200, msBase+1002000, func(t int64, val float64) bool {
				part = append(part, sample{t - msBase, val})
				return false
			})
			return false
		})
	})
	if want := []sample{{1000900, 1}}; !reflect.DeepEqual(part, want) {
		t.Errorf("ranged samples %v, want %v", part, want)
	}
}

func TestReaderSelection(t *testing.T) {
	srv := readerServer(t)
	var all, metrics []string
	srv.store.read(func(r storeReader) {
		r.eachSeries("", nil, func(v seriesView) bool {
			all = append(all, fmt.Sprintf("%s %v:%d", v.metric(), v.tags(), v.len()))
			return true
		})
		r.metrics(func(m string, n int) bool {
			metrics = append(metrics, fmt.Sprintf("%s:%d", m, n))
			return true
		})
	})
	sort.Strings(all)
	sort.Strings(metrics)
	if want := []string{"cpu map[h:a]:4", "cpu map[h:b]:1", "mem map[h:a]:1"}; !reflect.DeepEqual(all, want) {
		t.Errorf("series %q, want %q", all, want)
	}
	if want := []string{"cpu:2", "mem:1"}; !reflect.DeepEqual(metrics, want) {
		t.Errorf("metrics %q, want %q", metrics, want)
	}
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
