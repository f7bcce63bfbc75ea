package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// promFuzzPaths are the endpoints FuzzPromQLHandler sends to, by index.
var promFuzzPaths = []string{
	"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels",
	"/api/v1/label/job/values", "/prometheus/api/v1/query",
}

// FuzzPromQLHandler sends arbitrary queries, times and steps to the
// PromQL endpoints of a server holding data, through its whole HTTP
// handler: every answer must be Prometheus's JSON with a status its error
// type allows, come within the query timeout, and none may come from a
// panic (recovered by the handler
// or by the engine, "unexpected error"). The corpus in testdata holds the
// queries that once broke an engine, among them rate((m[5m])).
func FuzzPromQLHandler(f *testing.F) {
	for _, s := range []struct {
		path                    uint8
		query, start, end, step string
	}{
		{0, `rate((http_requests_total[5m]))`, "1699999860", "", ""},
		{1, `rate((http_requests_total[1m]))`, "1699999800", "1699999860", "15"},
		{0, `label_replace(http_requests_total, "a", "$1", "job", "(.*)")`, "1699999860", "", ""},
		{1, `max_over_time(rate(http_requests_total[1m])[5m:15s])`, "1699999800", "1699999860", "15"},
		{0, `histogram_quantile(0.9, sum by (le) (rate(lat_bucket[5m])))`, "1699999860", "", ""},
		{0, `{"order_count.count", region="eu"} / on() group_left count(up)`, "1699999860", "", ""},
		{1, `1 / 0 > bool -Inf`, "-9e18", "9e18", "1e9"},
		{1, `time()`, "NaN", "Inf", "0.001"},
		{2, `{__name__=~".+"}`, "", "", ""},
		{3, `{job=~"a|b"}`, "2023-11-14T22:10:00Z", "x", ""},
		{4, `http_requests_total`, "", "", ""},
		{5, strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), "1", "", ""},
	} {
		f.Add(s.path, s.query, s.start, s.end, s.step)
	}
	srv, err := New(WithClock(func() time.Time { return time.Unix(promT0+60, 0) }),
		WithPromQLLimits(PromQLLimits{MaxSamples: 100_000, MaxPoints: 100_000, Timeout: 2 * time.Second}))
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()
	seed := httptest.NewRecorder()
	put := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/api/put", strings.NewReader(promSeedBody()))
	put.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(seed, put)
	if seed.Code != http.StatusNoContent {
		f.Fatalf("seed: %d %s", seed.Code, seed.Body)
	}
	allowed := map[string]int{"": 200, "bad_data": 400, "execution": 422, "cost_limit": 422, "timeout": 503, "canceled": 499}
	f.Fuzz(func(t *testing.T, path uint8, query, start, end, step string) {
		p := promFuzzPaths[int(path)%len(promFuzzPaths)]
		form := url.Values{"query": {query}, "match[]": {query}, "time": {start}, "start": {start}, "end": {end}, "step": {step}}
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+p+"?"+form.Encode(), nil)
		w := httptest.NewRecorder()
		began := time.Now()
		h.ServeHTTP(w, req)
		if took := time.Since(began); took > 3*time.Second {
			t.Fatalf("%s %q %q %q %q: answered in %v, past the 2 s timeout", p, query, start, end, step, took)
		}
		var ans struct {
			Status    string `json:"status"`
			ErrorType string `json:"errorType"`
			Error     string `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
			t.Fatalf("%s %q: not JSON (%v): %d %.300s", p, query, err, w.Code, w.Body)
		}
		if want, ok := allowed[ans.ErrorType]; !ok || want != w.Code || (ans.ErrorType == "") != (ans.Status == "success") {
			t.Fatalf("%s %q: %d %.300s", p, query, w.Code, w.Body)
		}
		if strings.Contains(ans.Error, "unexpected error") {
			t.Fatalf("%s %q: a panic: %.300s", p, query, ans.Error)
		}
	})
}

// promSeedBody is the put body of seedPromQL.
func promSeedBody() string {
	var pts []string
	add := func(metric, tags string, vals ...float64) {
		for i, v := range vals {
			b, _ := json.Marshal(map[string]any{"metric": metric, "timestamp": (promT0 + 15*int64(i)) * 1000, "value": v, "tags": json.RawMessage(tags)})
			pts = append(pts, string(b))
		}
	}
	add("http_requests_total", `{"job":"api","code":"200"}`, 10, 20, 5, 15, 25)
	add("http_requests_total", `{"job":"web","code":"200"}`, 0, 15, 30, 45, 60)
	add("order_count.count", `{"region":"eu"}`, 7, 8, 9, 9, 10)
	add("lat_bucket", `{"le":"0.1"}`, 10)
	add("lat_bucket", `{"le":"0.5"}`, 30)
	add("lat_bucket", `{"le":"+Inf"}`, 50)
	return "[" + strings.Join(pts, ",") + "]"
}
