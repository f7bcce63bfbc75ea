package apptuit

import (
	"context"
	"testing"
	"time"
)

// TestBackendsTableURLs: the endpoint and PromQL path the README's
// "Backends" table gives for the backends that cannot run here make the
// requests those servers document: a VictoriaMetrics cluster's tenant
// paths on vminsert and vmselect, GreptimeDB's /v1/opentsdb and
// /v1/prometheus with a database, OpenTSDB's root. Puts and PromQL take
// two clients where the table says so (other hosts, or other bases).
func TestBackendsTableURLs(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name                string
		putBase             string // path of the put client's endpoint; the query client's is the root (one server stands for both hosts)
		promPath            string
		wantPut, wantPromQL string // path?query the server sees
	}{
		{"Apptuit", "", "", "/api/put?details", "/prometheus/api/v1/query_range?"},
		{"VictoriaMetrics cluster", "/insert/42:7/opentsdb", "/select/42:7/prometheus/api/v1/query_range",
			"/insert/42:7/opentsdb/api/put?details", "/select/42:7/prometheus/api/v1/query_range?"},
		{"GreptimeDB", "/v1/opentsdb", "/v1/prometheus/api/v1/query_range?db=metrics",
			"/v1/opentsdb/api/put?details", "/v1/prometheus/api/v1/query_range?db=metrics"},
		{"OpenTSDB", "", "", "/api/put?details", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecorder(t)
			c := mustNew(t, WithEndpoint(srv.URL+tt.putBase), WithToken("t"), WithRetries(0), WithIgnoreEnvTags())
			if err := c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"h": "a"}, Timestamp: t0, Value: 1}}); err != nil {
				t.Fatal(err)
			}
			if tt.wantPromQL != "" {
				opts := []Option{WithEndpoint(srv.URL), WithToken("t"), WithRetries(0), WithIgnoreEnvTags()}
				if tt.promPath != "" {
					opts = append(opts, WithPromQLPath(tt.promPath))
				}
				q := mustNew(t, opts...)
				srv.queue(200, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
				if _, err := q.QueryRange(context.Background(), "up", t0, t0.Add(time.Minute), time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			reqs := srv.requests()
			if got := reqs[0].Method + " " + reqs[0].Path + "?" + reqs[0].RawQuery; got != "POST "+tt.wantPut {
				t.Errorf("put %s, want POST %s", got, tt.wantPut)
			}
			if tt.wantPromQL != "" {
				if got := reqs[1].Method + " " + reqs[1].Path + "?" + reqs[1].RawQuery; got != "POST "+tt.wantPromQL {
					t.Errorf("PromQL %s, want POST %s", got, tt.wantPromQL)
				}
			}
		})
	}
}
