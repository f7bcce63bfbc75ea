// Package reporter sends the metrics of a metrics.Registry, and of other
// sources of metrics (expvar, Prometheus client_golang, OpenTelemetry, ...
// through a Source), to Apptuit.AI (or any OpenTSDB-compatible /api/put
// endpoint) at regular intervals, as apptuit-py's pyformance
// ApptuitReporter does.
//
//	client, err := apptuit.New() // token from APPTUIT_API_TOKEN
//	reg := metrics.NewRegistry()
//	rep, err := reporter.New(client, reg, reporter.WithInterval(time.Minute),
//		reporter.WithTags(map[string]string{"service": "order-service"}),
//		reporter.WithSource(reporter.Expvar())) // optional: more sources
//	rep.Start()
//	defer rep.Stop(ctx) // one final report: nothing recorded is lost
//
// # Points
//
// Each report reads every metric once and sends one point per field, named
// <prefix><name>.<field>, all with the report's timestamp:
//
//	counter    count
//	gauge      value (a GaugeFunc is called; NaN and ±Inf values are left out)
//	meter      count, mean_rate, 1m_rate, 5m_rate, 15m_rate
//	histogram  count, sum, min, max, avg, std_dev, 50_percentile,
//	           75_percentile, 95_percentile, 99_percentile, 999_percentile
//	timer      the histogram's fields (in seconds) then mean_rate, 1m_rate,
//	           5m_rate, 15m_rate
//
// Histograms and timers are read with SnapshotAndReset: min, max, avg,
// std_dev and the percentiles describe the values recorded since the
// previous report, count and sum are cumulative. A report after an
// interval without values sends count and sum (and a timer's rates) but
// none of the others: never a zero that stands for no value. Meters keep
// decaying their moving rates through idle intervals, as Coda Hale's do.
// A Source's points are named <prefix><name> as emitted (see Source,
// Expvar, RuntimeMetrics). Names and tag keys go through the client's
// sanitizer, if it has one. A metric or series the client would refuse
// (its name, its tags) is left out and reported to the error handler as a
// *MetricError (wrapping an *apptuit.ValidationError), once per report, at
// most 100 a report.
//
// A point's tags are, later ones winning: APPTUIT_TAGS (or, when that is
// unset or empty, APPTUIT_PY_TAGS), the reporter's tags (WithTags), the
// host tag, then the metric's own tags; the client's global tags fill the
// keys none of them set. The host tag, host=<os.Hostname()>, is added
// unless a host tag is already among the environment or reporter tags, or
// WithHostTag or APPTUIT_DISABLE_HOST_TAG (strtobool's true values) turns
// it off.
//
// Every series is checked and encoded once, when first seen
// (apptuit.Client.PrepareSeries), and forgotten when a report no longer
// sees it: collecting a series seen before allocates nothing.
//
// # Timestamps
//
// A report's points carry the time the report was made, truncated to the
// second when the interval is 1 s or more and to the millisecond when it is
// shorter. Two reports never share a timestamp (a backend keeps one value
// per series and timestamp): a report stamped like the one before (a
// ReportNow, or Stop's final report, in the same second) is stamped one
// unit later instead. New refuses an interval under 1 s with a client that
// writes whole seconds (apptuit.PrecisionSeconds).
//
// # Meta metrics
//
// Every report also carries the reporter's own metrics, with the prefix:
// MetaTotal, MetaSuccessful, MetaFailed and MetaDropped (counters of
// points) and MetaTime (a timer of sends), of the earlier reports' sends;
// MetaOverflowed (lookups and points sent to overflow series), from the
// first.
//
// # Series limits and expiry
//
// After reading the registry, a report ends its interval
// (metrics.Registry.EndInterval): the error handler gets a
// *metrics.LimitError for each metric that reached its series limit and a
// *metrics.ValuesError for each vector given the wrong number of values,
// and a registry made with metrics.WithExpiry drops the series not updated
// for that many reports (the report that drops one still sends it). Sources
// get the registry's limit per metric name and report. What
// PromQL's rate reads when a counter comes back is in package metrics.
//
// # Sending and failures
//
// A report sends the points kept from earlier reports first, then its own,
// in batches of the client's batch size (apptuit.WithBatchSize), one
// apptuit.Client.SendPrepared call each, up to the client's concurrency
// (apptuit.WithConcurrency) in flight, as the client's own batches. A batch
// is sent as soon as it is collected; after a report that failed to send,
// the first send goes alone until one succeeds.
//
// When a send fails with an error apptuit.IsRetryable accepts (429, 5xx,
// no answer; after the client's own retries), or the report runs out of
// time (the interval, at least 10 s), no more sends start: that batch and the rest
// (but those already in flight) are kept for the next report, in their
// order, in a buffer of WithBufferSize points whose oldest are dropped when
// it is full. Points the server refuses (400) are not kept: they would be
// refused again. The next report sends the kept points first, merged into
// full batches, oldest first.
//
// Kept points never hold a report's own back for long: a report starts no
// more sends of kept batches once one would end after half the interval
// (judging by how long the last one took), nor after half the time its ctx
// leaves, and then sends its own points; the rest of the backlog waits for
// the next report. So, after an outage, however much was kept, a report's
// points go out about half an interval after it begins at most (the
// batches then in flight end first), and a backlog drains at about half
// the rate the backend takes points. At least one kept batch is sent per
// report, so a backlog always drains, even when one batch takes longer
// than half the interval.
//
// A batch the server accepted is never sent again, so after an outage every
// point arrives once. The exception is ambiguity the client cannot resolve:
// a request that timed out or lost its connection after the server stored
// it is sent again (at-least-once), as is the accepted half of a batch the
// client split after a 413. After a report that did not deliver all its
// points the error handler is called (WithErrorHandler; by default one line
// to stderr).
//
// # Concurrency
//
// Start runs one goroutine that reports every interval; reports never
// overlap: ReportNow waits for a report in progress, no longer than its ctx
// allows, and Stop cancels it when it has not ended in half the time Stop's
// ctx allows (its unsent points are kept for the final report). Updating a
// metric never waits for a report: a report only reads snapshots, so a slow
// or failing backend delays nothing but the next report. Stop(ctx) makes a
// final report within ctx and returns by ctx's deadline, give or take the
// time a cancelled request takes to return.
//
// # Spool
//
// WithSpool(dir, maxBytes) keeps the batches that could not be delivered in
// segment files under dir instead of the memory buffer, so that they outlive
// the process: the next Reporter on dir sends them first, as kept points
// (above). They are read one batch at a time as they are sent, and each is
// acknowledged in the spool as soon as the backend accepted it, so draining
// holds a few batches in memory whatever the spool holds. Guarantees:
//
//   - within a process, a batch is delivered once, but for a cursor that
//     could not be written (a disk error, given to the error handler);
//   - across crashes, at least once: the batches in flight when the process
//     died (at most the client's concurrency), accepted before their
//     acknowledgement reached the disk, are sent again by the next process,
//     which goes on from there;
//   - the files never exceed maxBytes: when full, the oldest segment is
//     dropped and its points counted in MetaDropped;
//   - a torn or damaged record fails its checksums and is skipped, never
//     sent (ErrSpoolCorrupt); one Reporter per directory (ErrSpoolLocked).
//
// Every batch kept or delivered is fsynced, unless WithSpoolNoSync.
package reporter
