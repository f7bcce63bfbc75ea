package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/apptuit-go/apptuit/apptuittest"
)

// TestRun runs the service against a fake Apptuit and checks that the
// requests it served arrived, counted exactly, with the reporter's tags.
func TestRun(t *testing.T) {
	for _, v := range []string{"APPTUIT_TAGS", "APPTUIT_PY_TAGS", "APPTUIT_DISABLE_HOST_TAG", "APPTUIT_API_TOKEN", "APPTUIT_PY_TOKEN", "APPTUIT_API_ENDPOINT"} {
		t.Setenv(v, "")
	}
	srv := apptuittest.NewServer(apptuittest.WithToken("dev-token"))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-endpoint", srv.URL(), "-token", "dev-token", "-listen", "127.0.0.1:0",
		"-requests", "50", "-duration", "300ms", "-interval", "100ms"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "served 50 requests") || stderr.Len() != 0 {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
	// The last point of each series holds the final values.
	last := map[string]float64{}
	for _, p := range srv.Points() {
		if p.Tags["service"] != "hello-service" || p.Tags["host"] == "" {
			t.Fatalf("%s tags %v", p.Metric, p.Tags)
		}
		key := p.Metric + "," + p.Tags["handler"] + "," + p.Tags["code"] + "," + p.Tags["le"]
		last[key] = p.Value
	}
	for key, want := range map[string]float64{
		"http_requests_total,/hello,200,":                   45,
		"http_requests_total,other,404,":                    5,
		"http_request_duration_seconds_count,/hello,,":      45,
		"http_request_duration_seconds_bucket,/hello,,+Inf": 45,
		"http_request_duration_seconds_count,other,,":       5,
	} {
		if v, ok := last[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	for _, name := range []string{"go_goroutines,,,", "process_cpu_seconds_total,,,", "apptuit.reporter.send.total.count,,,"} {
		if _, ok := last[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
}
