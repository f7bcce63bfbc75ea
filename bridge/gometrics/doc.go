// Package gometricsbridge pushes the metrics of rcrowley/go-metrics
// registries — which libraries such as IBM/sarama and slackhq/nebula still
// register into — to Apptuit.AI (or any OpenTSDB-compatible backend)
// through the apptuit reporter, with its batching, bounded retry buffer,
// tags, host tag, meta metrics, error handler and final report on Stop.
//
//	src, err := gometricsbridge.New(metrics.DefaultRegistry)
//	rep, err := reporter.New(client, nil, reporter.WithSource(src))
//	rep.Start()
//	defer rep.Stop(ctx)
//
// # Mapping
//
// Every report walks the registry once (Registry.Each) and sends, for a
// metric registered as "m", the points "m.<field>" with the field names
// the apptuit reporter uses for its own metrics of the same kind
// (apptuit-py's pyformance names), so that a dashboard built on one works
// on the other:
//
//	Counter                 count
//	Gauge, GaugeFloat64     value (functional gauges are called)
//	Meter                   count, mean_rate, 1m_rate, 5m_rate, 15m_rate
//	Histogram               count, min, max, avg, std_dev, 50_percentile,
//	                        75_percentile, 95_percentile, 99_percentile, 999_percentile
//	Timer                   the histogram's fields, in seconds, then
//	                        mean_rate, 1m_rate, 5m_rate, 15m_rate
//
// A histogram or timer that has recorded nothing sends its count (and a
// timer its rates) but no min, max, avg, std_dev or percentile: go-metrics
// reports 0 for those, which would read as a measurement of zero.
//
// Healthchecks and bare EWMAs are skipped (the apptuit reporter has no such
// kinds; run healthchecks with Registry.RunHealthchecks as before), as is
// any value of another type.
//
// Units: go-metrics timers keep durations in nanoseconds; their min, max,
// avg, std_dev and percentiles are divided by 1e9 and sent in seconds, as
// the apptuit reporter sends its own timers (metrics.Timer). Rates are
// events per second in both. Histograms send their values as recorded.
//
// Differences from the reporter's own kinds, which come from go-metrics:
// a histogram's or timer's min, max, avg, std_dev and percentiles describe
// its sample (by default an exponentially decaying reservoir of 1028
// values, biased to the last five minutes), where the reporter's describe
// the values recorded since the previous report; count is cumulative in
// both. The field sum is not sent: go-metrics' Sum is the sum of the
// values in the sample, not of all values recorded, and sending it under
// the name the reporter uses for the cumulative sum would make a rate of
// it (rate(sum)/rate(count), a mean) silently wrong once the sample is
// full.
//
// go-metrics has no tags: every point carries the reporter's tags, and
// those given with WithTags (to tell two registries apart). Characters
// Apptuit does not accept in a name (anything but Unicode letters and
// digits, '.', '-', '_' and '/') become '_', one for one.
//
// # Cost
//
// go-metrics' Each copies the registry's list, and the Snapshot of a
// histogram or timer copies its sample (1028 values by default), which
// Percentiles sorts. Collect itself allocates only the first time it sees
// a metric (its field names, cached).
package gometricsbridge
