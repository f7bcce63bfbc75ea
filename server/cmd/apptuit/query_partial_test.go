package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestQueryPartial: a PromQL answer marked partial is printed with a
// warning line on standard error, or refused with --strict (exit 1); infos
// are printed as notes. The servers answer as a VictoriaMetrics cluster's
// vmselect does with a vmstorage node down (the bodies are those of the
// library's partial-answer tests, written from vmselect's templates): with
// deny_partial_response=1 a 503, else the partial answer; one server
// ignores the parameter.
func TestQueryPartial(t *testing.T) {
	cleanEnv(t)
	const (
		partial = `{"status":"success","isPartial":true,"data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","host":"web-1"},"values":[[1700000000,"1"]]}]},"stats":{"seriesFetched": "1","executionTimeMsec":2}}`
		whole   = `{"status":"success","isPartial":false,"data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","host":"web-1"},"values":[[1700000000,"1"]]}]},"infos":["PromQL info: a note"]}`
		denied  = `{"status":"error","errorType":"503","error":"cannot fetch query results from vmstorage nodes: cannot perform search on vmstorage 127.0.0.1:8401: connection refused"}`
		table   = "time                 up{host:web-1}\n2023-11-14 22:13:20               1\n"
		warning = "warning: partial answer: the server says some of its storage did not answer, so series or points may be missing (--strict refuses such answers)\n"
	)
	server := func(honoursDeny bool, body string) string {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			if honoursDeny && body == partial && strings.Contains(string(b), "deny_partial_response=1") {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, denied)
				return
			}
			io.WriteString(w, body)
		}))
		t.Cleanup(hs.Close)
		return hs.URL
	}
	tests := []struct {
		name        string
		url         string
		strict      bool
		code        int
		out, errOut string // errOut: a part of standard error ("" for none at all)
	}{
		{"whole", server(true, whole), false, 0, table, "info: PromQL info: a note\n"},
		{"whole, --strict", server(true, whole), true, 0, table, "info: PromQL info: a note\n"},
		{"partial", server(true, partial), false, 0, table, warning},
		{"partial, --strict, VictoriaMetrics refuses", server(true, partial), true, 1, "", "server answered 503 Service Unavailable after 3 attempts: cannot fetch query results from vmstorage nodes"},
		{"partial, --strict, the server ignores the parameter", server(false, partial), true, 1, "", "apptuit: promql: the server marked its answer as partial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"query", "--endpoint", tt.url, "--token", "t", "--promql", "--start", "1700000000", "--end", "1700000060", "--step", "1m"}
			if tt.strict {
				args = append(args, "--strict")
			}
			code, out, errOut := runCmd(t, "", append(args, "up")...)
			okErr := errOut == tt.errOut || (tt.code != 0 && strings.Contains(errOut, tt.errOut))
			if code != tt.code || out != tt.out || !okErr || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q", code, out, errOut, tt.code, tt.out, tt.errOut)
			}
		})
	}
	code, _, errOut := runCmd(t, "", "query", "--endpoint", server(true, whole), "--strict", "fetch('up')")
	if code != exitUsage || !strings.Contains(errOut, "--strict is for --promql") {
		t.Errorf("--strict without --promql: exit %d, stderr %q", code, errOut)
	}
}
