package prombridge_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	prombridge "github.com/apptuit-go/apptuit/bridge/prometheus"
	"github.com/apptuit-go/apptuit/reporter"
)

// A service instrumented with client_golang, pushed by the apptuit
// reporter without changing its instrumentation.
func ExampleNew() {
	srv := apptuittest.NewServer() // stands in for https://api.apptuit.ai
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("my-token"), apptuit.WithEndpoint(srv.URL()), apptuit.WithIgnoreEnvTags())
	if err != nil {
		panic(err)
	}

	reg := prometheus.NewRegistry() // or prometheus.DefaultGatherer
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"code"})
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.",
		Buckets: []float64{0.1, 1}})
	reg.MustRegister(requests, latency)
	requests.WithLabelValues("200").Add(3)
	latency.Observe(0.05)
	latency.Observe(0.5)

	src, err := prombridge.New(reg)
	if err != nil {
		panic(err)
	}
	rep, err := reporter.New(client, nil, reporter.WithSource(src), reporter.WithHostTag("web-1"))
	if err != nil {
		panic(err)
	}
	// rep.Start() reports every minute; Stop(ctx) makes the final report.
	if err := rep.ReportNow(context.Background()); err != nil {
		panic(err)
	}
	var lines []string
	for _, p := range srv.Points() {
		if !strings.HasPrefix(p.Metric, "apptuit.") {
			var tags []string
			for _, k := range slices.Sorted(maps.Keys(p.Tags)) {
				tags = append(tags, k+"="+p.Tags[k])
			}
			lines = append(lines, fmt.Sprintln(p.Metric, tags, p.Value))
		}
	}
	slices.Sort(lines)
	fmt.Print(strings.Join(lines, ""))
	// Output:
	// http_request_duration_seconds_bucket [host=web-1 le=+Inf] 2
	// http_request_duration_seconds_bucket [host=web-1 le=0.1] 1
	// http_request_duration_seconds_bucket [host=web-1 le=1] 2
	// http_request_duration_seconds_count [host=web-1] 2
	// http_request_duration_seconds_sum [host=web-1] 0.55
	// http_requests_total [code=200 host=web-1] 3
}
