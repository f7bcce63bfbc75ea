package apptuit

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Answers of Prometheus-compatible servers that say how whole they are.
//
// Only the first was recorded from a real server here. A VictoriaMetrics
// cluster (vminsert, vmselect, vmstorage) is not in the Go module proxy, so
// it cannot be installed and run here; its answers are written from its
// source instead, exactly as vmselect renders them: the success body from
// app/vmselect/prometheus/query_range_response.qtpl of the cluster branch
// ({"status":"success","isPartial":<bool>,"data":{…},"stats":{…}}), the
// error body from lib/httpserver/prometheus_error_response.qtpl
// ({"status":"error","errorType":"<status>","error":…}, the form the real
// single node answered a bad query with here) and the message from
// app/vmselect/netstorage (a 503 while a vmstorage node is down and
// deny_partial_response=1 is given). Prometheus 3's "infos" and
// "warnings" are written from its HTTP API (web/api/v1) and the texts of
// promql/annotations.
const (
	// Recorded: victoria-metrics v1.151.0 (single node) on loopback,
	// POST /api/v1/query_range query=http.requests start=1700000000
	// end=1700000060 step=60 deny_partial_response=1: a single node has no
	// partial answers, takes the parameter and writes no "isPartial".
	vmSingleRecorded = `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"http.requests","host":"web-1"},"values":[[1700000000,"10"],[1700000060,"12.5"]]},{"metric":{"__name__":"http.requests","host":"web-2"},"values":[[1700000000,"3"],[1700000060,"4"]]}]},"stats":{"seriesFetched": "2","executionTimeMsec":1}}`

	// vmselect with every vmstorage node answering.
	vmClusterWhole = `{"status":"success","isPartial":false,"data":{"resultType":"matrix","result":[{"metric":{"__name__":"http.requests","host":"web-1"},"values":[[1700000000,"10"],[1700000060,"12.5"]]},{"metric":{"__name__":"http.requests","host":"web-2"},"values":[[1700000000,"3"],[1700000060,"4"]]}]},"stats":{"seriesFetched": "2","executionTimeMsec":3}}`

	// vmselect while the vmstorage node holding web-2 is down: the series
	// is missing and the answer says so.
	vmClusterPartial = `{"status":"success","isPartial":true,"data":{"resultType":"matrix","result":[{"metric":{"__name__":"http.requests","host":"web-1"},"values":[[1700000000,"10"],[1700000060,"12.5"]]}]},"stats":{"seriesFetched": "1","executionTimeMsec":2}}`

	// vmselect in the same state, asked with deny_partial_response=1.
	vmClusterDenied = `{"status":"error","errorType":"503","error":"cannot fetch query results from vmstorage nodes: cannot perform search on vmstorage 127.0.0.1:8401: cannot obtain connection from a pool: cannot dial 127.0.0.1:8401: dial tcp4 127.0.0.1:8401: connect: connection refused"}`

	// Prometheus 3 with an info and a warning on the query.
	prom3Annotated = `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"host":"web-1"},"values":[[1700000060,"0.041666666666666664"]]}]},` +
		`"warnings":["PromQL warning: quantile value should be between 0 and 1, got 2 (1:67)"],` +
		`"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"http_requests\" (1:6)"]}`
)

// TestQueryRangePartialAnswers runs QueryRange over the answers above,
// with and without WithDenyPartial. The fake server behaves as vmselect
// does with a node down: with deny_partial_response=1 in the form it
// answers 503, else the partial answer; the other servers answer the same
// whatever the form says.
func TestQueryRangePartialAnswers(t *testing.T) {
	type want struct {
		err      string // "partial", "503" or "" for success
		series   int
		partial  bool
		warnings []string
		infos    []string
	}
	tests := []struct {
		name        string
		answer      qAnswer
		whenDenied  *qAnswer // what the server answers to deny_partial_response=1, when it differs
		plain, deny want
	}{
		{"VictoriaMetrics single node (recorded)", qAnswer{Status: 200, Body: vmSingleRecorded}, nil,
			want{series: 2}, want{series: 2}},
		{"VictoriaMetrics cluster, whole", qAnswer{Status: 200, Body: vmClusterWhole}, nil,
			want{series: 2}, want{series: 2}},
		{"VictoriaMetrics cluster, a vmstorage node down", qAnswer{Status: 200, Body: vmClusterPartial}, &qAnswer{Status: 503, Body: vmClusterDenied},
			want{series: 1, partial: true}, want{err: "503"}},
		{"a server that ignores deny_partial_response and answers partial", qAnswer{Status: 200, Body: vmClusterPartial}, nil,
			want{series: 1, partial: true}, want{err: "partial", series: 1}},
		{"Prometheus 3, warnings and infos", qAnswer{Status: 200, Body: prom3Annotated}, nil,
			want{series: 1,
				warnings: []string{"PromQL warning: quantile value should be between 0 and 1, got 2 (1:67)"},
				infos:    []string{`PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "http_requests" (1:6)`}},
			want{series: 1,
				warnings: []string{"PromQL warning: quantile value should be between 0 and 1, got 2 (1:67)"},
				infos:    []string{`PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "http_requests" (1:6)`}}},
	}
	for _, tt := range tests {
		for _, deny := range []bool{false, true} {
			name := tt.name + "/plain"
			w := tt.plain
			if deny {
				name, w = tt.name+"/WithDenyPartial", tt.deny
			}
			t.Run(name, func(t *testing.T) {
				answer := tt.answer
				if deny && tt.whenDenied != nil {
					answer = *tt.whenDenied
				}
				srv := newQServer(t, answer)
				var opts []Option
				if deny {
					opts = append(opts, WithDenyPartial())
				}
				c := newQClient(t, srv.URL, opts...)
				res, err := c.QueryRange(context.Background(), "http.requests", time.Unix(1700000000, 0), time.Unix(1700000060, 0), time.Minute)

				form := srv.Calls()[0].Body
				if got := strings.HasSuffix(form, "&deny_partial_response=1"); got != deny {
					t.Errorf("form %q: deny_partial_response=1 sent %v, want %v", form, got, deny)
				}
				switch w.err {
				case "partial":
					var pe *PartialError
					if !errors.As(err, &pe) || pe.Result == nil || !pe.Result.Partial || len(pe.Result.Output(0).Series) != w.series {
						t.Fatalf("error %T %v, want a *PartialError holding the partial result", err, err)
					}
					if res != nil || !IsRetryable(err) || pe.Op != "promql" || pe.URL != srv.URL+"/prometheus/api/v1/query_range" {
						t.Errorf("result %v, retryable %v, op %q, URL %q", res, IsRetryable(err), pe.Op, pe.URL)
					}
					if msg := err.Error(); !strings.Contains(msg, "marked its answer as partial") || strings.Contains(msg, "With") {
						t.Errorf("message %q", msg)
					}
					return
				case "503":
					var he *HTTPError
					var pq *PromQLError
					if !errors.As(err, &he) || he.StatusCode != 503 || !IsRetryable(err) || !errors.As(err, &pq) || pq.ErrorType != "503" ||
						!strings.Contains(he.Message, "cannot fetch query results from vmstorage nodes") {
						t.Fatalf("error %T %v, want a retryable 503 *HTTPError with the server's message", err, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := len(res.Output(0).Series); got != w.series || res.Partial != w.partial ||
					!reflect.DeepEqual(res.Warnings, w.warnings) || !reflect.DeepEqual(res.Infos, w.infos) {
					t.Errorf("%d series, partial %v, warnings %q, infos %q; want %+v", got, res.Partial, res.Warnings, res.Infos, w)
				}
			})
		}
	}
}

// TestQueryHasNoPartialFlag: Apptuit's query-language answer (the recorded
// one of apptuit-py's tests) carries "hints", "query_stats" and
// "timing_diagnostics" but no partial flag; Query leaves Partial, Warnings
// and Infos empty, and WithDenyPartial changes nothing in its request.
func TestQueryHasNoPartialFlag(t *testing.T) {
	body := sharedFixture(t, "response.json")
	for _, deny := range []bool{false, true} {
		srv := newQServer(t, qAnswer{Status: 200, Body: string(body)})
		var opts []Option
		if deny {
			opts = append(opts, WithDenyPartial())
		}
		c := newQClient(t, srv.URL, opts...)
		res, err := c.Query(context.Background(), "fetch('nyc.taxi.rides')", fixtureStart, fixtureEnd)
		if err != nil {
			t.Fatal(err)
		}
		if res.Len() != 1 || res.Partial || res.Warnings != nil || res.Infos != nil {
			t.Errorf("deny %v: %d outputs, partial %v, warnings %q, infos %q", deny, res.Len(), res.Partial, res.Warnings, res.Infos)
		}
		if q := srv.Calls()[0].RawQuery; strings.Contains(q, "deny") {
			t.Errorf("deny %v: query string %q", deny, q)
		}
	}
}
