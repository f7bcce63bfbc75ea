package gometricsbridge_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	gometrics "github.com/rcrowley/go-metrics"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	gometricsbridge "github.com/apptuit-go/apptuit/bridge/gometrics"
	"github.com/apptuit-go/apptuit/reporter"
)

// A library's go-metrics registry (Sarama's, say) pushed by the apptuit
// reporter, with a tag telling it from other registries.
func ExampleNew() {
	srv := apptuittest.NewServer() // stands in for https://api.apptuit.ai
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("my-token"), apptuit.WithEndpoint(srv.URL()), apptuit.WithIgnoreEnvTags())
	if err != nil {
		panic(err)
	}

	registry := gometrics.NewRegistry() // e.g. sarama.Config.MetricRegistry
	gometrics.GetOrRegisterCounter("records-sent", registry).Inc(42)
	latency := gometrics.GetOrRegisterHistogram("request-latency-in-ms", registry, gometrics.NewUniformSample(1028))
	latency.Update(3)
	latency.Update(5)

	src, err := gometricsbridge.New(registry, gometricsbridge.WithTags(map[string]string{"cluster": "eu-1"}))
	if err != nil {
		panic(err)
	}
	rep, err := reporter.New(client, nil, reporter.WithSource(src), reporter.WithHostTag("web-1"),
		reporter.WithInterval(time.Minute))
	if err != nil {
		panic(err)
	}
	// rep.Start() reports every minute; Stop(ctx) makes the final report.
	if err := rep.ReportNow(context.Background()); err != nil {
		panic(err)
	}
	var lines []string
	for _, p := range srv.Points() {
		if p.Metric == "records-sent.count" || strings.HasPrefix(p.Metric, "request-latency-in-ms.") && !strings.Contains(p.Metric, "percentile") {
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
	// records-sent.count [cluster=eu-1 host=web-1] 42
	// request-latency-in-ms.avg [cluster=eu-1 host=web-1] 4
	// request-latency-in-ms.count [cluster=eu-1 host=web-1] 2
	// request-latency-in-ms.max [cluster=eu-1 host=web-1] 5
	// request-latency-in-ms.min [cluster=eu-1 host=web-1] 3
	// request-latency-in-ms.std_dev [cluster=eu-1 host=web-1] 1
}
