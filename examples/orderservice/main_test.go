package main

import (
	"bytes"
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/apptuit-go/apptuit/apptuittest"
)

func TestRun(t *testing.T) {
	for _, v := range []string{"APPTUIT_TAGS", "APPTUIT_PY_TAGS", "APPTUIT_DISABLE_HOST_TAG", "APPTUIT_API_TOKEN", "APPTUIT_PY_TOKEN", "APPTUIT_API_ENDPOINT"} {
		t.Setenv(v, "")
	}
	srv := apptuittest.NewServer(apptuittest.WithToken("dev-token"))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-endpoint", srv.URL(), "-token", "dev-token",
		"-orders", "120", "-duration", "400ms", "-interval", "100ms"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "handled 120 orders") || stderr.Len() != 0 {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
	// The last point of each series holds the final values.
	last := map[string]float64{}
	cities := map[string]float64{}
	for _, p := range srv.Points() {
		if p.Tags["env"] != "dev" || p.Tags["service"] != "order-service" || p.Tags["host"] == "" {
			t.Fatalf("%s tags %v", p.Metric, p.Tags)
		}
		last[p.Metric] = p.Value
		if p.Metric == "order_count.count" {
			cities[p.Tags["city-code"]] = p.Value
		}
	}
	total := 0.0
	for _, v := range cities {
		total += v
	}
	if total != 120 || len(cities) == 0 {
		t.Errorf("order_count.count by city %v: total %v, want 120", cities, total)
	}
	for name, want := range map[string]float64{
		"order_requests_rate.count":            120,
		"order_requests_processing_time.count": 120,
		"order_queue_size.value":               0,
	} {
		if v, ok := last[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	for _, name := range []string{"go.goroutines", "apptuit.reporter.send.total.count", "order_requests_processing_time.99_percentile"} {
		if _, ok := last[name]; !ok {
			t.Errorf("%s missing; got %v", name, maps.Keys(last))
		}
	}
}

func TestRunBadFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-orders", "x"}, &stdout, &stderr); err == nil {
		t.Fatal("want an error")
	}
}
