package otelbridge_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	otelbridge "github.com/apptuit-go/apptuit/bridge/otel"
	"github.com/apptuit-go/apptuit/reporter"
)

func printPoints(ps []apptuit.DataPoint) {
	var lines []string
	for _, p := range ps {
		if strings.HasPrefix(p.Metric, "apptuit.") {
			continue
		}
		var tags []string
		for _, k := range slices.Sorted(maps.Keys(p.Tags)) {
			tags = append(tags, k+"="+p.Tags[k])
		}
		lines = append(lines, fmt.Sprintln(p.Metric, tags, p.Value))
	}
	slices.Sort(lines)
	fmt.Print(strings.Join(lines, ""))
}

// A service instrumented with OpenTelemetry, collected by the apptuit
// reporter at each report through the Bridge's reader.
func ExampleNew() {
	srv := apptuittest.NewServer() // stands in for https://api.apptuit.ai
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("my-token"), apptuit.WithEndpoint(srv.URL()), apptuit.WithIgnoreEnvTags())
	if err != nil {
		panic(err)
	}

	bridge, err := otelbridge.New()
	if err != nil {
		panic(err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(bridge.Reader()),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "checkout"))))
	rep, err := reporter.New(client, nil, reporter.WithSource(bridge), reporter.WithHostTag("web-1"),
		reporter.WithInterval(time.Minute))
	if err != nil {
		panic(err)
	}
	if err := rep.Start(); err != nil {
		panic(err)
	}

	meter := provider.Meter("example")
	requests, _ := meter.Int64Counter("http.server.requests", metric.WithUnit("{request}"))
	duration, _ := meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.1, 1))
	ctx := context.Background()
	requests.Add(ctx, 3, metric.WithAttributes(attribute.Int("http.response.status_code", 200)))
	duration.Record(ctx, 0.05)
	duration.Record(ctx, 0.5)

	// Stop the reporter (its final report collects the provider), then
	// the provider.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rep.Stop(sctx); err != nil {
		panic(err)
	}
	if err := provider.Shutdown(sctx); err != nil {
		panic(err)
	}
	printPoints(srv.Points())
	// Output:
	// http_server_request_duration_seconds_bucket [host=web-1 le=+Inf service_name=checkout] 2
	// http_server_request_duration_seconds_bucket [host=web-1 le=0.1 service_name=checkout] 1
	// http_server_request_duration_seconds_bucket [host=web-1 le=1 service_name=checkout] 2
	// http_server_request_duration_seconds_count [host=web-1 service_name=checkout] 2
	// http_server_request_duration_seconds_sum [host=web-1 service_name=checkout] 0.55
	// http_server_requests_total [host=web-1 http_response_status_code=200 service_name=checkout] 3
}

// Programs that keep OpenTelemetry's PeriodicReader can export with the
// same mapping through an apptuit client.
func ExampleNewExporter() {
	srv := apptuittest.NewServer()
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("my-token"), apptuit.WithEndpoint(srv.URL()), apptuit.WithIgnoreEnvTags(),
		apptuit.WithGlobalTags(map[string]string{"host": "web-1"}))
	if err != nil {
		panic(err)
	}
	exporter, err := otelbridge.NewExporter(client)
	if err != nil {
		panic(err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exporter,
		sdkmetric.WithInterval(time.Minute))), sdkmetric.WithResource(resource.Empty()))
	queued, _ := provider.Meter("example").Int64UpDownCounter("jobs.queued")
	queued.Add(context.Background(), 4)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := provider.Shutdown(ctx); err != nil { // exports once more, then stops
		panic(err)
	}
	printPoints(srv.Points())
	// Output:
	// jobs_queued [host=web-1] 4
}
