// Package prombridge pushes what a service instrumented with Prometheus'
// client_golang already records to Apptuit.AI (or any OpenTSDB-compatible
// backend) through the apptuit reporter: its batching, bounded retry
// buffer, tags, host tag, meta metrics, error handler and final report on
// Stop apply as to the reporter's own registry. The service keeps its
// instrumentation (and may keep serving /metrics).
//
//	reg := prometheus.NewRegistry() // or prometheus.DefaultGatherer
//	src, err := prombridge.New(reg)
//	rep, err := reporter.New(client, nil, reporter.WithSource(src))
//	rep.Start()
//	defer rep.Stop(ctx)
//
// The package depends on client_model (for dto.MetricFamily) only: a
// Gatherer is any value with client_golang's Gather method.
//
// # Mapping
//
// Every report calls Gather once and sends one point per sample, named as
// Prometheus' text exposition format names them, so that PromQL
// dashboards and rules written for the scraped metrics work unchanged
// (the reporter's prefix, when set, comes before every name):
//
//	counter, gauge, untyped  <name>                 the value
//	histogram                <name>_bucket{le="…"}  cumulative count of every bucket, "+Inf" included
//	                         <name>_sum, <name>_count
//	gauge histogram          <name>_bucket{le="…"}, <name>_gsum, <name>_gcount (as OpenMetrics)
//	summary                  <name>{quantile="…"}   every quantile whose value is not NaN
//	                         <name>_sum, <name>_count
//
// A summary that observed nothing in its window has NaN quantiles, which
// are left out rather than sent as 0. Beyond the reporter's series limit
// per name (that of the registry given to reporter.New), a report adds up the points of new
// series into one tagged overflow=true; a series client_golang keeps
// (it never forgets one unless deleted) keeps its place.
//
// The family name is kept as it is: no ".count" and no "_total" is added.
// Characters Apptuit does not accept in a name or tag key (Prometheus'
// ':', and in UTF-8 names anything but Unicode letters and digits, '.',
// '-', '_' and '/') become '_', one for one. The le and quantile values are
// written as the text format writes them: "0.005", "1", "2.5e-05", "+Inf".
// Labels become tags, without those whose value is empty (Prometheus treats
// an empty label as an absent one; Apptuit refuses empty values). A
// sample's own timestamp (TimestampMs) is ignored: every point carries the
// report's timestamp.
//
// A series the reporter's validation refuses — more than 25 tags once the
// reporter's and the client's tags are merged, say — is left out of the
// report and handed to its error handler as a *reporter.MetricError; the
// rest of the report is sent. When Gather fails partway (client_golang
// returns the families it gathered and a MultiError), those families are
// sent and the error goes to the error handler.
//
// # Native histograms
//
// The buckets of a native (sparse) histogram are not sent: their bounds
// change with the histogram's schema and would make a new series for every
// bucket ever populated. A histogram that has classic buckets sends them
// (a histogram may have both); a native-only histogram sends what the text
// format shows of it: the "+Inf" bucket, _sum and _count, from which rates
// and averages still follow. Float histograms send their float counts.
//
// # Cost
//
// Gather builds a new dto tree of the whole registry at every report (that
// is client_golang's cost, as for a scrape). Collect then allocates
// nothing per point in steady state: names, le strings and cleaned label
// names are cached (bounded) and one tag map is reused for every point.
// bench/RESULTS.md compares a report through the bridge with Gather plus
// the text encoding of a scrape.
package prombridge
