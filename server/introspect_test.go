package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// getJSON GETs path with the token tok (none when "") and decodes a 200
// answer into v; it returns the status and body.
func getJSON(t *testing.T, srv *testServer, path, tok string, v any) (int, string) {
	t.Helper()
	hdr := map[string]string{}
	if tok != "" {
		hdr["Authorization"] = "Bearer " + tok
	}
	code, body, h := do(t, http.MethodGet, srv.URL()+path, nil, hdr)
	if code == 200 {
		if ct := h.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return code, body
}

// seriesFixture stores six series of three metrics, one point twice.
func seriesFixture(t *testing.T, srv *testServer) {
	t.Helper()
	body := `[
{"metric":"cpu","timestamp":1700000000,"value":1,"tags":{"host":"web1","dc":"east"}},
{"metric":"cpu","timestamp":1700000010,"value":2.5,"tags":{"host":"web1","dc":"east"}},
{"metric":"cpu","timestamp":1700000000,"value":3,"tags":{"host":"web2","dc":"east"}},
{"metric":"cpu","timestamp":1700000000,"value":4,"tags":{"host":"db1","dc":"West"}},
{"metric":"mem.used","timestamp":1700000005,"value":100,"tags":{"host":"web1"}},
{"metric":"mem.used","timestamp":1700000006,"value":-1e300,"tags":{"host":"web2"}},
{"metric":"zzz","timestamp":1700000001000,"value":7,"tags":{"k":"v"}}]`
	if code, b := post(t, srv, "", body); code/100 != 2 {
		t.Fatalf("put: %d %s", code, b)
	}
}

func TestSeriesEndpoint(t *testing.T) {
	srv := newServer(t)
	seriesFixture(t, srv)
	var all seriesPage
	if code, body := getJSON(t, srv, "/apptuittest/series", "", &all); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	want := seriesPage{
		Points: 7, SeriesTotal: 6, MetricsTotal: 3, Matched: matchCounts{Series: 6, Metrics: 3},
		Offset: 0, Limit: DefaultSeriesLimit,
		Metrics: []metricSummary{
			{Metric: "cpu", Series: 3, Points: 4, Last: 1700000010000, Tags: map[string][]string{"dc": {"West", "east"}, "host": {"db1", "web1", "web2"}}},
			{Metric: "mem.used", Series: 2, Points: 2, Last: 1700000006000, Tags: map[string][]string{"host": {"web1", "web2"}}},
			{Metric: "zzz", Series: 1, Points: 1, Last: 1700000001000, Tags: map[string][]string{"k": {"v"}}},
		},
		Series: []seriesEntry{
			{Metric: "cpu", Tags: map[string]string{"dc": "West", "host": "db1"}, Points: 1, First: 1700000000000, Last: 1700000000000, LastValue: 4},
			{Metric: "cpu", Tags: map[string]string{"dc": "east", "host": "web1"}, Points: 2, First: 1700000000000, Last: 1700000010000, LastValue: 2.5},
			{Metric: "cpu", Tags: map[string]string{"dc": "east", "host": "web2"}, Points: 1, First: 1700000000000, Last: 1700000000000, LastValue: 3},
			{Metric: "mem.used", Tags: map[string]string{"host": "web1"}, Points: 1, First: 1700000005000, Last: 1700000005000, LastValue: 100},
			{Metric: "mem.used", Tags: map[string]string{"host": "web2"}, Points: 1, First: 1700000006000, Last: 1700000006000, LastValue: -1e300},
			{Metric: "zzz", Tags: map[string]string{"k": "v"}, Points: 1, First: 1700000001000, Last: 1700000001000, LastValue: 7},
		},
	}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("all series:\n got %+v\nwant %+v", all, want)
	}

	tests := []struct {
		query   string
		matched matchCounts
		series  []string // metric{host} of the page
		metrics []string // metric:series of the page's summaries
	}{
		{"?q=cpu", matchCounts{3, 1}, []string{"cpu/db1", "cpu/web1", "cpu/web2"}, []string{"cpu:3"}},
		{"?q=WEB1", matchCounts{2, 2}, []string{"cpu/web1", "mem.used/web1"}, []string{"cpu:1", "mem.used:1"}},
		{"?q=host%3Dweb", matchCounts{4, 2}, []string{"cpu/web1", "cpu/web2", "mem.used/web1", "mem.used/web2"}, []string{"cpu:2", "mem.used:2"}},
		{"?q=st%3Dwe", matchCounts{4, 2}, []string{"cpu/web1", "cpu/web2", "mem.used/web1", "mem.used/web2"}, []string{"cpu:2", "mem.used:2"}},
		{"?q=dc%3Dwest", matchCounts{1, 1}, []string{"cpu/db1"}, []string{"cpu:1"}},
		{"?q=cpu+east", matchCounts{2, 1}, []string{"cpu/web1", "cpu/web2"}, []string{"cpu:2"}},
		{"?q=cpu+mem", matchCounts{0, 0}, nil, nil},
		{"?q=%3D", matchCounts{6, 3}, []string{"cpu/db1", "cpu/web1", "cpu/web2", "mem.used/web1", "mem.used/web2", "zzz/"}, []string{"cpu:3", "mem.used:2", "zzz:1"}},
		{"?q=nothing", matchCounts{0, 0}, nil, nil},
		// Pages: the summaries are of the whole metric (of its matching series).
		{"?limit=2", matchCounts{6, 3}, []string{"cpu/db1", "cpu/web1"}, []string{"cpu:3"}},
		{"?limit=2&offset=2", matchCounts{6, 3}, []string{"cpu/web2", "mem.used/web1"}, []string{"cpu:3", "mem.used:2"}},
		{"?limit=2&offset=4", matchCounts{6, 3}, []string{"mem.used/web2", "zzz/"}, []string{"mem.used:2", "zzz:1"}},
		{"?limit=2&offset=6", matchCounts{6, 3}, nil, nil},
		{"?offset=100", matchCounts{6, 3}, nil, nil},
		{"?q=web&limit=1&offset=3", matchCounts{4, 2}, []string{"mem.used/web2"}, []string{"mem.used:2"}},
	}
	for _, tt := range tests {
		var page seriesPage
		if code, body := getJSON(t, srv, "/apptuittest/series"+tt.query, "", &page); code != 200 {
			t.Errorf("%s: %d %s", tt.query, code, body)
			continue
		}
		var series, metrics []string
		for _, s := range page.Series {
			series = append(series, s.Metric+"/"+s.Tags["host"])
		}
		for _, m := range page.Metrics {
			metrics = append(metrics, fmt.Sprintf("%s:%d", m.Metric, m.Series))
		}
		if page.Matched != tt.matched || !reflect.DeepEqual(series, tt.series) || !reflect.DeepEqual(metrics, tt.metrics) ||
			page.Points != 7 || page.SeriesTotal != 6 || page.MetricsTotal != 3 {
			t.Errorf("%s: matched %+v, series %q, metrics %q (totals %d %d %d); want %+v, %q, %q",
				tt.query, page.Matched, series, metrics, page.Points, page.SeriesTotal, page.MetricsTotal, tt.matched, tt.series, tt.metrics)
		}
	}
}

func TestSeriesEndpointTagValuesCapped(t *testing.T) {
	srv := newServer(t)
	var b strings.Builder
	b.WriteString("[")
	for i := range 25 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"metric":"m","timestamp":1700000000,"value":%d,"tags":{"host":"h%02d","dc":"one"}}`, i, i)
	}
	b.WriteString("]")
	if code, body := post(t, srv, "", b.String()); code/100 != 2 {
		t.Fatalf("put: %d %s", code, body)
	}
	var page seriesPage
	getJSON(t, srv, "/apptuittest/series?limit=1", "", &page)
	m := page.Metrics[0]
	if m.Series != 25 || len(m.Tags["host"]) != maxTagValuesListed || m.Tags["host"][0] != "h00" || m.Tags["host"][9] != "h09" ||
		!m.TagsTruncated["host"] || m.TagsTruncated["dc"] || !reflect.DeepEqual(m.Tags["dc"], []string{"one"}) {
		t.Errorf("summary of 25 hosts: %+v", m)
	}
}

func TestIntrospectionBadRequests(t *testing.T) {
	srv := newServer(t)
	for _, tt := range []struct {
		path, msg string
	}{
		{"/apptuittest/series?limit=0", `Invalid limit "0": must be an integer from 1 to 5000`},
		{"/apptuittest/series?limit=5001", `Invalid limit "5001": must be an integer from 1 to 5000`},
		{"/apptuittest/series?limit=x", `Invalid limit "x": must be an integer from 1 to 5000`},
		{"/apptuittest/series?offset=-1", `Invalid offset "-1": must be an integer from 0 to 2147483647`},
		{"/apptuittest/series?q=" + strings.Repeat("a", 1025), "Invalid q: 1025 bytes, at most 1024"},
		{"/apptuittest/series?q=" + strings.Repeat("a+", 17), "Invalid q: 17 terms, at most 16"},
		{"/apptuittest/series?q=%ff", "Invalid q: not UTF-8"},
		{"/apptuittest/requests?limit=0", `Invalid limit "0": must be an integer from 1 to 10000`},
		{"/apptuittest/requests?failures=yes", `Invalid failures "yes": must be 1, true, 0 or false`},
		{"/apptuittest/requests?exclude_page=2", `Invalid exclude_page "2": must be 1, true, 0 or false`},
	} {
		code, body, _ := do(t, http.MethodGet, srv.URL()+tt.path, nil, nil)
		var e struct {
			Error struct{ Message string }
		}
		json.Unmarshal([]byte(body), &e)
		if code != 400 || e.Error.Message != tt.msg {
			t.Errorf("GET %s: %d %q, want 400 %q", tt.path[:min(len(tt.path), 60)], code, e.Error.Message, tt.msg)
		}
	}
	code, body, h := do(t, http.MethodPost, srv.URL()+"/apptuittest/series", nil, nil)
	if code != 405 || h.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /apptuittest/series: %d %s (Allow %q)", code, body, h.Get("Allow"))
	}
	if code, body, _ := do(t, http.MethodGet, srv.URL()+"/apptuittest/nope", nil, nil); code != 404 || !strings.Contains(body, "/apptuittest/series") {
		t.Errorf("GET /apptuittest/nope: %d %s", code, body)
	}
}

func TestIntrospectionToken(t *testing.T) {
	srv := newServer(t, WithToken("s3cr3t"))
	for _, p := range []string{"/apptuittest/series", "/apptuittest/requests"} {
		for _, tok := range []string{"", "wrong"} {
			var v any
			if code, body := getJSON(t, srv, p, tok, &v); code != 401 || !strings.Contains(body, "token is invalid") {
				t.Errorf("GET %s with token %q: %d %s, want 401", p, tok, code, body)
			}
		}
		var v any
		if code, body := getJSON(t, srv, p, "s3cr3t", &v); code != 200 {
			t.Errorf("GET %s with the token: %d %s", p, code, body)
		}
	}
	// /auth answers without the token, and says whether the one sent is it.
	for tok, want := range map[string]authAnswer{"": {true, false}, "wrong": {true, false}, "s3cr3t": {true, true}} {
		var a authAnswer
		if code, body := getJSON(t, srv, "/apptuittest/auth", tok, &a); code != 200 || a != want {
			t.Errorf("GET /apptuittest/auth with %q: %d %s, want %+v", tok, code, body, want)
		}
	}
	var a authAnswer
	if getJSON(t, newServer(t), "/apptuittest/auth", "", &a); a != (authAnswer{false, true}) {
		t.Errorf("auth without WithToken: %+v", a)
	}
	// None of it is logged.
	getJSON(t, srv, "/apptuittest/series", "s3cr3t", &a)
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("introspection requests were logged: %+v", reqs)
	}
}

func TestRequestsEndpoint(t *testing.T) {
	srv := newServer(t)
	post(t, srv, "details", `[{"metric":"ok","timestamp":1700000000,"value":1,"tags":{"k":"v"}},
		{"metric":"bad name!","timestamp":1700000000,"value":1,"tags":{"k":"v"}},
		{"metric":"nothing","timestamp":1700000000,"value":1}]`)
	do(t, http.MethodGet, srv.URL()+"/api/query?start=1h-ago&q=fetch(", nil, map[string]string{PageClientHeader: "web-page", "User-Agent": "page/1"})
	post(t, srv, "", `{`)
	post(t, srv, "", `[{"metric":"ok","timestamp":1700000001,"value":2,"tags":{"k":"v"}}]`)

	var ans requestsAnswer
	getJSON(t, srv, "/apptuittest/requests", "", &ans)
	if ans.Total != 4 || len(ans.Requests) != 4 {
		t.Fatalf("%d of %d requests, want 4 of 4: %+v", len(ans.Requests), ans.Total, ans)
	}
	type row struct {
		Method, Path, Query      string
		Status, Accepted, Failed int
		Page                     bool
		UserAgent                string
		Errors                   []string
	}
	var got []row
	for _, r := range ans.Requests {
		got = append(got, row{r.Method, r.Path, r.Query, r.Status, r.Accepted, r.Failed, r.Page, r.UserAgent, r.Errors})
		if !strings.HasSuffix(r.Time, "Z") || r.DurationMs < 0 {
			t.Errorf("time %q, duration %v", r.Time, r.DurationMs)
		}
	}
	want := []row{
		{"POST", "/api/put", "", 204, 1, 0, false, "Go-http-client/1.1", []string{}},
		{"POST", "/api/put", "", 400, 0, 0, false, "Go-http-client/1.1", []string{"Unable to parse the given JSON"}},
		{"GET", "/api/query", "start=1h-ago&q=fetch(", 400, 0, 0, true, "page/1", []string{
			"parse error at line 1, column 7: expected an argument (string, number or {...}), found end of query"}},
		{"POST", "/api/put", "details", 400, 1, 2, false, "Go-http-client/1.1", []string{
			`bad name!: Invalid metric name ("bad name!"): illegal character: ` + " ",
			"nothing: Missing tags",
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests:\n got %+v\nwant %+v", got, want)
	}

	var only requestsAnswer
	getJSON(t, srv, "/apptuittest/requests?failures=1&exclude_page=true&limit=1", "", &only)
	if len(only.Requests) != 1 || only.Requests[0].Status != 400 || only.Requests[0].Query != "" || only.Total != 4 {
		t.Errorf("the newest failure not from the page: %+v", only.Requests)
	}
	getJSON(t, srv, "/apptuittest/requests?failures=1", "", &only)
	if len(only.Requests) != 3 {
		t.Errorf("%d failures, want 3", len(only.Requests))
	}
}

// TestSeriesEndpointOrder: the user's metrics before the meta metrics, tag
// values in natural order (le numerically, +Inf last).
func TestSeriesEndpointOrder(t *testing.T) {
	srv := newServer(t)
	var pts []string
	for _, m := range []string{"apptuit.reporter.send.total", "zeta", "alpha"} {
		pts = append(pts, `{"metric":"`+m+`","timestamp":1700000000,"value":1,"tags":{"host":"a"}}`)
	}
	for _, le := range []string{"+Inf", "10", "0.5", "2.5", "0.05"} {
		pts = append(pts, `{"metric":"h.bucket","timestamp":1700000000,"value":1,"tags":{"le":"`+le+`"}}`)
	}
	if code, b := post(t, srv, "", "["+strings.Join(pts, ",")+"]"); code/100 != 2 {
		t.Fatalf("put: %d %s", code, b)
	}
	var page seriesPage
	if code, body := getJSON(t, srv, "/apptuittest/series", "", &page); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var series []string
	for _, s := range page.Series {
		series = append(series, s.Metric+"/"+s.Tags["le"])
	}
	want := []string{"alpha/", "h.bucket/0.05", "h.bucket/0.5", "h.bucket/2.5", "h.bucket/10", "h.bucket/+Inf", "zeta/", "apptuit.reporter.send.total/"}
	if !reflect.DeepEqual(series, want) {
		t.Errorf("series %q, want %q", series, want)
	}
	if got := page.Metrics[1].Tags["le"]; !reflect.DeepEqual(got, []string{"0.05", "0.5", "2.5", "10", "+Inf"}) {
		t.Errorf("h.bucket's le values %q", got)
	}
}
