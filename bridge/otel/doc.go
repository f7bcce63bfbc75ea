// Package otelbridge pushes what a service records with the OpenTelemetry
// metrics SDK (go.opentelemetry.io/otel/sdk/metric) to Apptuit.AI (or any
// OpenTSDB-compatible backend).
//
// The Bridge is the way to use it with the apptuit reporter: it is an SDK
// ManualReader that the reporter collects at every report, so the
// reporter's interval, batching, bounded retry buffer, tags, host tag,
// meta metrics, error handler and final report on Stop are in charge:
//
//	bridge, err := otelbridge.New()
//	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(bridge.Reader()))
//	otel.SetMeterProvider(provider)
//	rep, err := reporter.New(client, nil, reporter.WithSource(bridge))
//	rep.Start()
//	defer provider.Shutdown(ctx) // after the reporter's final report:
//	defer rep.Stop(ctx)          // deferred calls run last-in first-out
//
// For programs that drive the SDK with a PeriodicReader, the Exporter
// sends each export with an apptuit.Client, synchronously and with the
// same mapping, but without a retry buffer.
//
// # Mapping
//
// Names are those OTel's Prometheus exporter writes with underscore
// escaping (github.com/prometheus/otlptranslator,
// UnderscoreEscapingWithSuffixes), so that PromQL dashboards made for it
// work: dots and other characters become '_', the unit is appended in
// Prometheus' words ("s" → "_seconds", "By" → "_bytes", "ms" →
// "_milliseconds", "By/s" → "_bytes_per_second", annotations such as
// "{request}" dropped), monotonic sums get "_total" and gauges of unit "1"
// get "_ratio"; ':' (which Apptuit refuses) becomes '_'. For example
// http.server.request.duration with unit "s" becomes
// http_server_request_duration_seconds.
//
//	Sum (monotonic)        <name>_total          the sum (Counter, ObservableCounter)
//	Sum (non-monotonic)    <name>                the sum (UpDownCounter, ObservableUpDownCounter)
//	Gauge                  <name>                the last value (Gauge, ObservableGauge)
//	Histogram              <name>_bucket{le="…"} cumulative count of every bucket, "+Inf" included
//	                       <name>_sum, <name>_count
//	ExponentialHistogram   <name>{quantile="…"}  estimated quantiles (see below)
//	                       <name>_sum, <name>_count
//	Summary                <name>{quantile="…"}  every quantile whose value is not NaN
//	                       <name>_sum, <name>_count
//
// Int and float instruments map alike. Values are those of the
// temporality asked of the SDK: cumulative by default, as Prometheus-style
// queries expect; WithDeltaTemporality makes counters and histograms
// report the increase since the previous collection instead (names do not
// change). Histogram min and max and exemplars are not sent. The le and
// quantile values are written as Prometheus' text format writes them
// ("0.005", "1", "+Inf").
//
// Exponential histograms send _sum, _count and, instead of their buckets
// (whose bounds change with the histogram's scale, and would make a series
// per bucket ever populated), the quantiles of WithQuantiles (default 0.5,
// 0.9 and 0.99) estimated as Prometheus' histogram_quantile does for a
// native histogram: exponential interpolation within the bucket that holds
// the rank, linear within the zero bucket, clamped to the recorded min and
// max. With cumulative temporality they describe everything recorded since
// the start; with delta, the interval. A histogram with nothing recorded
// (with delta, an idle interval) sends _sum and _count but no quantile: a
// quantile of nothing is not sent as 0. Beyond the reporter's series limit
// per name (that of the registry given to reporter.New), a report adds up the points of new
// series into one tagged overflow=true.
//
// # Tags
//
// A point's tags are, later ones winning: the resource attributes
// service.name, service.namespace and service.instance.id (as
// service_name, service_namespace and service_instance_id) and those
// added with WithResourceAttributes; with WithScopeTags, otel_scope_name
// and otel_scope_version; then the data point's attributes. Keys are named
// as Prometheus label names ("http.request.method" →
// "http_request_method"; two keys that become the same get their values
// sorted and joined with ';'); values are formatted as attribute.Value's
// Emit does, and empty values are left out. With the Bridge, the reporter
// adds its own tags under these; with the Exporter, the client adds its
// global tags.
//
// A series the reporter's validation refuses (more than 25 tags, say) is
// left out of the report and given to its error handler as a
// *reporter.MetricError; non-finite values are left out by the reporter
// (by the Exporter itself, which also reports refused series in Export's
// error). Every point of a report carries the report's timestamp; the
// Exporter stamps points with the data point's time, to the millisecond.
//
// # Cost
//
// A collection costs what the SDK's costs (it copies histogram buckets).
// The Bridge's mapping then allocates nothing per point in steady state:
// names, tag keys, integer attribute values and le strings are cached
// (bounded) and one tag map is reused; the ResourceMetrics is reused
// between reports. The Exporter allocates a tag map per point.
package otelbridge
