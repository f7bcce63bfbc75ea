package server

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// TestPromAPIMetadataEndpoints checks the endpoints Grafana and promtool
// call besides the queries: labels, label values, series, metadata and
// build info, by GET and POST, under both prefixes.
func TestPromAPIMetadataEndpoints(t *testing.T) {
	srv := newServer(t)
	seedPromQL(t, srv)
	s60 := fmt.Sprint(promT0 + 60)
	ok := func(data string) string { return `{"status":"success","data":` + data + `}` }
	truncated := func(data string) string {
		return `{"status":"success","data":` + data + `,"warnings":["results truncated due to limit"]}`
	}
	cases := []promCase{
		{"/api/v1/labels", url.Values{}, 200, ok(`["__name__","code","job","le","region"]`)},
		{"/prometheus/api/v1/labels", url.Values{"match[]": {`{"order_count.count"}`}}, 200, ok(`["__name__","region"]`)},
		{"/api/v1/labels", url.Values{"match[]": {`lat_bucket`, `{region="eu"}`}}, 200, ok(`["__name__","le","region"]`)},
		{"/api/v1/labels", url.Values{"limit": {"2"}}, 200, truncated(`["__name__","code"]`)},
		// Only lat_bucket has no sample after promT0: its le goes.
		{"/api/v1/labels", url.Values{"start": {fmt.Sprint(promT0 + 1)}}, 200, ok(`["__name__","code","job","region"]`)},
		{"/api/v1/labels", url.Values{"match[]": {`{a=~".*"}`}}, 400,
			`{"status":"error","errorType":"bad_data","error":"match[] must contain at least one non-empty matcher"}`},
		{"/api/v1/labels", url.Values{"end": {"x"}}, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": invalid time value for 'end': cannot parse \"x\" to a valid timestamp"}`},
		{"/api/v1/series", url.Values{"match[]": {`http_requests_total`, `{__name__="order_count.count"}`, `{job="web"}`}}, 200,
			ok(`[{"__name__":"http_requests_total","code":"200","job":"api"},{"__name__":"http_requests_total","code":"200","job":"web"},{"__name__":"order_count.count","region":"eu"}]`)},
		{"/prometheus/api/v1/series", url.Values{"match[]": {`http_requests_total`}, "limit": {"1"}}, 200,
			truncated(`[{"__name__":"http_requests_total","code":"200","job":"api"}]`)},
		{"/api/v1/series", url.Values{"match[]": {`lat_bucket`}, "start": {s60}, "end": {s60}}, 200, ok(`[]`)},
		{"/api/v1/series", url.Values{}, 400, `{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}`},
		{"/api/v1/series", url.Values{"match[]": {`{`}}, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": 1:2: parse error: unexpected end of input inside braces"}`},
	}
	checkPromCases(t, srv, cases)
	for _, c := range []promCase{
		{"/api/v1/label/__name__/values", nil, 200, ok(`["http_requests_total","lat_bucket","order_count.count"]`)},
		{"/prometheus/api/v1/label/job/values", url.Values{"match[]": {`http_requests_total`}, "limit": {"1"}}, 200, truncated(`["api"]`)},
		// Prometheus 3's escaping of names in the path: U__ and _2e_ for '.'.
		{"/api/v1/label/U__region/values", nil, 200, ok(`["eu"]`)},
		{"/api/v1/label/__name__/values", url.Values{"match[]": {`{region="eu"}`}}, 200, ok(`["order_count.count"]`)},
		{"/api/v1/label/nope/values", nil, 200, ok(`[]`)},
		{"/api/v1/metadata", nil, 200, ok(`{}`)},
		{"/api/v1/metadata", url.Values{"limit": {"x"}}, 400, `{"status":"error","errorType":"bad_data","error":"limit must be a number"}`},
	} {
		code, body, _ := promDo(t, srv, http.MethodGet, c.path, c.form, nil)
		if code != c.code || body != c.want {
			t.Errorf("GET %s %v:\n got %d %s\nwant %d %s", c.path, c.form, code, body, c.code, c.want)
		}
		if code, _, _ := promDo(t, srv, http.MethodPost, c.path, c.form, nil); code != 405 {
			t.Errorf("POST %s: %d, want 405 (Prometheus takes GET only)", c.path, code)
		}
	}
	code, body, _ := promDo(t, srv, http.MethodGet, "/api/v1/status/buildinfo", nil, nil)
	if want := `{"status":"success","data":{"version":"3.16.0","revision":"","branch":"","buildUser":"apptuit-go","buildDate":"","goVersion":"`; code != 200 || len(body) < len(want) || body[:len(want)] != want {
		t.Errorf("buildinfo: %d %s", code, body)
	}
}
