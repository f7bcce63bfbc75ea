package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// promT0 is a minute-aligned time, in Unix seconds.
const promT0 = 1_699_999_800

// seedPromQL stores a counter with a reset (two jobs), a dotted gauge and
// histogram buckets, every 15 s from promT0 to promT0+60.
func seedPromQL(t *testing.T, srv *testServer) {
	t.Helper()
	if code, resp := post(t, srv, "", promSeedBody()); code != 204 {
		t.Fatalf("seed: %d %s", code, resp)
	}
}

// promDo sends a PromQL request: GET with the form in the URL, or POST
// with it as the body.
func promDo(t *testing.T, srv *testServer, method, path string, form url.Values, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	if hdr == nil {
		hdr = map[string]string{}
	}
	if method == http.MethodPost {
		hdr["Content-Type"] = "application/x-www-form-urlencoded"
		return do(t, method, srv.URL()+path, []byte(form.Encode()), hdr)
	}
	return do(t, method, srv.URL()+path+"?"+form.Encode(), nil, hdr)
}

func rangeForm(query string, start, end, step string) url.Values {
	return url.Values{"query": {query}, "start": {start}, "end": {end}, "step": {step}}
}

// promCase is a PromQL request and its answer: the status and the body.
type promCase struct {
	path string
	form url.Values
	code int
	want string
}

// checkPromCases sends each case by GET and by POST, and checks the answer
// and that it is JSON.
func checkPromCases(t *testing.T, srv *testServer, cases []promCase) {
	t.Helper()
	for _, c := range cases {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			code, body, hdr := promDo(t, srv, method, c.path, c.form, nil)
			if code != c.code || body != c.want {
				t.Errorf("%s %s %v:\n got %d %s\nwant %d %s", method, c.path, c.form, code, body, c.code, c.want)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		}
	}
}

func TestPromQLHTTP(t *testing.T) {
	checkNoLeak(t, func() {
		srv := mustLaunch(t)
		defer srv.Close()
		seedPromQL(t, srv)
		s0, s60 := fmt.Sprint(promT0), fmt.Sprint(promT0+60)
		checkPromCases(t, srv, []promCase{
			// at 45 s, (-15, 45] holds 10, 20, 5, 15: an increase of 25 (a
			// reset) over 45 s, extrapolated 15 s back; at 60 s likewise.
			{"/api/v1/query_range", rangeForm(`rate(http_requests_total{job="api"}[1m])`, fmt.Sprint(promT0+45), s60, "15"),
				200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"code":"200","job":"api"},"values":[[1699999845,"0.5555555555555555"],[1699999860,"0.5555555555555555"]]}]}}`},
			{"/prometheus/api/v1/query_range", rangeForm(`sum by (code) (http_requests_total)`, s0, fmt.Sprint(promT0+30), "15s"),
				200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"code":"200"},"values":[[1699999800,"10"],[1699999815,"35"],[1699999830,"35"]]}]}}`},
			{"/api/v1/query_range", rangeForm(`{__name__="order_count.count"} * 2`, s0, fmt.Sprint(promT0+1), "0.5"),
				200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"region":"eu"},"values":[[1699999800,"14"],[1699999800.500,"14"],[1699999801,"14"]]}]}}`},
			{"/api/v1/query_range", rangeForm(`histogram_quantile(0.5, lat_bucket)`, "2023-11-14T22:10:00Z", "2023-11-14T22:10:00Z", "1m"),
				200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1699999800,"0.4"]]}]}}`},
			{"/api/v1/query", url.Values{"query": {`topk(1, http_requests_total)`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","code":"200","job":"web"},"value":[1699999860,"60"]}]}}`},
			{"/prometheus/api/v1/query", url.Values{"query": {`count(http_requests_total) + 0.5`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1699999860,"2.5"]}]}}`},
			{"/api/v1/query", url.Values{"query": {`1 / 0`}, "time": {"1.5"}},
				200, `{"status":"success","data":{"resultType":"scalar","result":[1.5,"+Inf"]}}`},
			// Prometheus 3's quoted names select a dotted metric, as __name__ does.
			{"/api/v1/query", url.Values{"query": {`{"order_count.count", region="eu"} * 2`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"region":"eu"},"value":[1699999860,"20"]}]}}`},
			// Constructs the engine before Prometheus's refused: label_replace,
			// subqueries, set operators with on(), @, stddev.
			{"/api/v1/query", url.Values{"query": {`label_replace(http_requests_total{job="web"}, "svc", "$1", "job", "(.*)")`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","code":"200","job":"web","svc":"web"},"value":[1699999860,"60"]}]}}`},
			{"/api/v1/query", url.Values{"query": {`max_over_time(http_requests_total{job="api"}[1m:15s])`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"code":"200","job":"api"},"value":[1699999860,"25"]}]}}`},
			{"/api/v1/query", url.Values{"query": {`http_requests_total{job="api"} and on() vector(1)`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","code":"200","job":"api"},"value":[1699999860,"25"]}]}}`},
			{"/api/v1/query", url.Values{"query": {`http_requests_total{job="api"} @ 1699999830`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","code":"200","job":"api"},"value":[1699999860,"5"]}]}}`},
			{"/api/v1/query", url.Values{"query": {`stddev(http_requests_total)`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1699999860,"17.5"]}]}}`},
			// A range in parentheses (which panicked the engine this server had).
			{"/api/v1/query", url.Values{"query": {`rate((http_requests_total{job="api"}[1m]))`}, "time": {s60}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"code":"200","job":"api"},"value":[1699999860,"0.5555555555555555"]}]}}`},
			// limit truncates, with Prometheus's warning.
			{"/api/v1/query", url.Values{"query": {`http_requests_total`}, "time": {s60}, "limit": {"1"}},
				200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","code":"200","job":"api"},"value":[1699999860,"25"]}]},"warnings":["results truncated due to limit"]}`},
		})
		// An instant query without time= is evaluated now.
		code, body, _ := promDo(t, srv, http.MethodGet, "/api/v1/query", url.Values{"query": {"time() > bool 1e9"}}, nil)
		if code != 200 || !strings.HasSuffix(body, `"1"]}}`) {
			t.Errorf("time(): %d %s", code, body)
		}
	})
}

func TestPromQLHTTPErrors(t *testing.T) {
	srv := newServer(t, WithPromQLLimits(PromQLLimits{MaxSeries: 1, MaxPoints: 3}))
	seedPromQL(t, srv)
	s0, s60 := fmt.Sprint(promT0), fmt.Sprint(promT0+60)
	bad := func(msg string) string {
		return `{"status":"error","errorType":"bad_data","error":` + strconv.Quote(msg) + `}`
	}
	checkPromCases(t, srv, []promCase{
		{"/api/v1/query_range", rangeForm(`sum(x`, s0, s60, "15"), 400, bad(`invalid parameter "query": 1:6: parse error: unclosed left parenthesis`)},
		{"/prometheus/api/v1/query", url.Values{"query": {`rate(order_count.count[1m])`}}, 400, bad(`invalid parameter "query": 1:17: parse error: unexpected character: '.'`)},
		{"/api/v1/query_range", rangeForm(`up[5m]`, s0, s60, "15"), 400,
			bad(`invalid parameter "query": invalid expression type "range vector" for range query, must be Scalar or instant Vector`)},
		{"/api/v1/query_range", rangeForm(`up`, "yesterday", s60, "15"), 400, bad(`invalid parameter "start": cannot parse "yesterday" to a valid timestamp`)},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {s0}, "step": {"15"}}, 400, bad(`invalid parameter "end": cannot parse "" to a valid timestamp`)},
		{"/api/v1/query_range", rangeForm(`up`, s60, s0, "15"), 400, bad(`invalid parameter "end": end timestamp must not be before start time`)},
		{"/api/v1/query_range", rangeForm(`up`, s0, s60, "often"), 400, bad(`invalid parameter "step": cannot parse "often" to a valid duration`)},
		{"/api/v1/query_range", rangeForm(`up`, s0, s60, "0"), 400,
			bad(`invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`)},
		{"/api/v1/query_range", rangeForm(`up`, s0, fmt.Sprint(promT0+11001), "1"), 400,
			bad(`exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)`)},
		{"/api/v1/query", url.Values{"query": {"up"}, "time": {"soon"}}, 400, bad(`invalid parameter "time": invalid time value for 'time': cannot parse "soon" to a valid timestamp`)},
		{"/api/v1/query", url.Values{"query": {"up"}, "limit": {"-1"}}, 400, bad(`invalid parameter "limit": limit must be non-negative`)},
		{"/api/v1/query", url.Values{"query": {"up"}, "timeout": {"0s"}}, 400, bad(`invalid parameter "timeout": timeout must be positive, got 0s`)},
		{"/api/v1/query", url.Values{"query": {"up"}, "lookback_delta": {"x"}}, 400, bad(`error parsing lookback delta duration: cannot parse "x" to a valid duration`)},
		// The caps: 1 series per query, 3 samples held at once.
		{"/api/v1/query_range", rangeForm(`http_requests_total`, s0, s60, "15"), 422,
			`{"status":"error","errorType":"cost_limit","error":"expanding series: query would load too many series into memory in query execution: more than 1 series selected (the server's limit)"}`},
		{"/api/v1/query_range", rangeForm(`{__name__="order_count.count"}`, s0, s60, "15"), 422,
			`{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}`},
	})
	// The request log keeps the error.
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Path != "/api/v1/query_range" || last.Status != 422 || len(last.Errors) != 1 || !strings.HasPrefix(last.Errors[0], "execution: query processing would load too many samples") {
		t.Errorf("last request %+v", last)
	}
}

func TestPromQLHTTPMethodsAuthBody(t *testing.T) {
	srv := newServer(t, WithToken("sesame"), WithPromQLLimits(PromQLLimits{Timeout: time.Minute}))
	auth := map[string]string{"Authorization": "Bearer sesame"}
	for _, path := range []string{"/api/v1/query_range", "/api/v1/query", "/prometheus/api/v1/query_range", "/prometheus/api/v1/query"} {
		code, body, _ := promDo(t, srv, http.MethodGet, path, url.Values{"query": {"1"}, "start": {"1"}, "end": {"2"}, "step": {"1"}}, nil)
		if code != 401 || !strings.Contains(body, "token is invalid") {
			t.Errorf("%s without a token: %d %s", path, code, body)
		}
		code, body, hdr := do(t, http.MethodPut, srv.URL()+path, nil, auth)
		if code != 405 || hdr.Get("Allow") != "GET, POST" || body != `{"status":"error","errorType":"bad_data","error":"method PUT not allowed"}` {
			t.Errorf("%s PUT: %d %v %s", path, code, hdr, body)
		}
		code, body, _ = promDo(t, srv, http.MethodPost, path, url.Values{"query": {"1"}, "start": {"1"}, "end": {"2"}, "step": {"1"}, "time": {"2"}}, auth)
		if code != 200 || !strings.HasPrefix(body, `{"status":"success"`) {
			t.Errorf("%s with the token: %d %s", path, code, body)
		}
	}
	big := "query=" + strings.Repeat("1", maxPromForm)
	code, body, _ := do(t, http.MethodPost, srv.URL()+"/api/v1/query", []byte(big), map[string]string{"Authorization": "Bearer sesame", "Content-Type": "application/x-www-form-urlencoded"})
	if code != 400 || body != `{"status":"error","errorType":"bad_data","error":"error parsing form values: http: request body too large"}` {
		t.Errorf("big body: %d %.200s", code, body)
	}
	long := strings.Repeat("1+", 40_000) + "1"
	code, body, _ = promDo(t, srv, http.MethodPost, "/api/v1/query", url.Values{"query": {long}}, auth)
	if code != 400 || !strings.Contains(body, `the query is 80001 bytes long, more than the 65536 this server takes`) {
		t.Errorf("long query: %d %.300s", code, body)
	}
	if code, _, _ := do(t, http.MethodGet, srv.URL()+"/api/v1/query_rangex", nil, auth); code != 404 {
		t.Errorf("/api/v1/query_rangex: %d", code)
	}
	if _, err := New(WithPromQLLimits(PromQLLimits{MaxSeries: -1})); err == nil || !strings.Contains(err.Error(), "must not be negative") {
		t.Errorf("negative limit: %v", err)
	}
}

func TestPromQLHostile(t *testing.T) {
	checkNoLeak(t, func() {
		srv := mustLaunch(t, WithPromQLLimits(PromQLLimits{MaxSamples: 9}))
		defer srv.Close()
		seedPromQL(t, srv)
		slow := mustLaunch(t, WithPromQLLimits(PromQLLimits{Timeout: time.Nanosecond}))
		defer slow.Close()
		seedPromQL(t, slow)
		s0, s60 := fmt.Sprint(promT0), fmt.Sprint(promT0+60)
		for _, c := range []struct {
			srv  *testServer
			form url.Values
			code int
			want string
		}{
			{srv, rangeForm(`http_requests_total`, s0, s60, "15"), 422, `"errorType":"cost_limit","error":"expanding series: query would read too many samples in query execution: more than 9 samples read (the server's limit)"`},
			{srv, rangeForm(`{__name__=~".+"}`, s0, s60, "15"), 422, `"errorType":"cost_limit","error":"expanding series: query would read too many samples in query execution: more than 9 samples read (the server's limit)"`},
			{slow, rangeForm(`sum(rate(http_requests_total[1m]))`, s0, s60, "15"), 503, `{"status":"error","errorType":"timeout","error":"query timed out in `},
			{srv, rangeForm(strings.Repeat("(", 5000)+"1"+strings.Repeat(")", 5000), s0, s60, "15"), 200, `"values":[[1699999800,"1"],`},
			{srv, rangeForm(`{a=~"((a{1000}){1000}){1000}"}`, s0, s60, "15"), 400, `invalid repeat count`},
			{srv, rangeForm(`{a=~".*"}`, s0, s60, "15"), 400, `vector selector must contain at least one non-empty matcher`},
			{srv, rangeForm(`1`, s0, s60, "1e300"), 400, `cannot parse \"1e300\" to a valid duration. It overflows int64`},
			// Absurd times are Prometheus's business: an answer, not a panic.
			{srv, rangeForm(`1`, "-9e18", "9e18", "1e9"), 200, `{"status":"success"`},
			{srv, rangeForm(`1`, "NaN", s60, "15"), 400, `exceeded maximum resolution of 11,000 points per timeseries`},
		} {
			code, body, _ := promDo(t, c.srv, http.MethodPost, "/api/v1/query_range", c.form, nil)
			if code != c.code || !strings.Contains(body, c.want) {
				t.Errorf("%.80v: got %d %.300s\nwant %d …%s…", c.form, code, body, c.code, c.want)
			}
		}
	})
}

func TestPromQLConcurrency(t *testing.T) {
	srv := newServer(t, WithPromQLLimits(PromQLLimits{MaxConcurrent: 1, Timeout: 100 * time.Millisecond}))
	form := url.Values{"query": {"1"}, "time": {"1"}}
	srv.promql.slots <- struct{}{} // the one slot is busy
	code, body, _ := promDo(t, srv, http.MethodGet, "/api/v1/query", form, nil)
	if code != 503 || body != `{"status":"error","errorType":"timeout","error":"query timed out in query queue (all 1 evaluation slots busy)"}` {
		t.Errorf("with the slot busy: %d %s", code, body)
	}
	<-srv.promql.slots
	if code, body, _ := promDo(t, srv, http.MethodGet, "/api/v1/query", form, nil); code != 200 {
		t.Errorf("with the slot free: %d %s", code, body)
	}
}

func TestPromQLClient(t *testing.T) {
	srv := newServer(t)
	seedPromQL(t, srv)
	for _, path := range []string{"/prometheus/api/v1/query_range", "/api/v1/query_range"} {
		c, err := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithToken("sesame"), apptuit.WithIgnoreEnvTags(), apptuit.WithPromQLPath(path))
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.QueryRange(context.Background(), `increase({__name__="order_count.count"}[1m])`, time.Unix(promT0+60, 0), time.Unix(promT0+60, 0), 15*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out := res.Outputs()
		if len(out) != 1 || len(out[0].Series) != 1 {
			t.Fatalf("%s: %+v", path, out)
		}
		s := out[0].Series[0]
		// (0, 60]: 8, 9, 9, 10 — an increase of 2 over 45 s, extrapolated by 15 s.
		if s.Metric() != "" || s.Tags()["region"] != "eu" || s.Len() != 1 {
			t.Errorf("%s: series %v %v %d", path, s.Metric(), s.Tags(), s.Len())
		}
		if ts, v := s.At(0); !ts.Equal(time.Unix(promT0+60, 0)) || v < 2.6666666666 || v > 2.6666666667 {
			t.Errorf("%s: point %v %v", path, ts, v)
		}
		_, err = c.QueryRange(context.Background(), `sum(x`, time.Unix(promT0, 0), time.Unix(promT0+60, 0), 15*time.Second)
		var pe *apptuit.PromQLError
		if !errors.As(err, &pe) || pe.ErrorType != "bad_data" || pe.StatusCode != 400 || !strings.Contains(pe.Message, `unclosed left parenthesis`) {
			t.Errorf("%s: sum(x: %v", path, err)
		}
	}
}
