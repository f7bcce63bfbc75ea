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
// Every series is checked and encoded once, when first seen: collecting
// a series seen before allocates nothing.
//
// # Timestamps
//
// A report's points carry the time it was made, in whole seconds for an
// interval of 1 s or more, else in milliseconds; a report stamped like the
// one before (ReportNow, Stop) is stamped one unit later, so that no two
// reports share a timestamp.
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
// *metrics.LimitError for each metric at its series limit and a
// *metrics.ValuesError for each vector given the wrong number of values;
// metrics.WithExpiry drops the series not updated for that many reports.
// Sources get the registry's limit per metric name and report.
//
// # Sending and failures
//
// A report sends the points kept from earlier reports first, then its own,
// in batches of the client's batch size, one apptuit.Client.SendPrepared
// call each, up to the client's concurrency in flight. After a report that
// failed to send, the first send goes alone until one succeeds.
//
// When a send fails with an error apptuit.IsRetryable accepts (429, 5xx,
// no answer; after the client's own retries), or the report runs out of
// time (the interval, at least 10 s), no more sends start: that batch and
// the rest are kept, in order, in a buffer of WithBufferSize points whose
// oldest are dropped when it is full. Points the server refuses (400) are
// not kept. Kept points never hold a report's own back for long: a report
// starts no more kept batches once one would end after half the interval
// (or half its ctx's time), then sends its own; at least one kept batch
// goes each report, so a backlog drains at about half the rate the backend
// takes points.
//
// A batch the server accepted is never sent again, but for what the client
// cannot know: a request that timed out or lost its connection after the
// server stored it, and the accepted half of a batch split after a 413.
// After a report that did not deliver all its points the error handler is
// called (WithErrorHandler; by default one line to stderr).
//
// # Concurrency
//
// Start runs one goroutine that reports every interval; reports never
// overlap (ReportNow waits for one in progress, within its ctx). Updating a
// metric never waits for a report, so a slow or failing backend delays
// nothing but the next report. Stop(ctx) makes a final report within ctx
// and returns by ctx's deadline.
//
// # Spool
//
// WithSpool(dir, maxBytes) keeps the batches that could not be delivered in
// files under dir instead of the memory buffer, so that they outlive the
// process: the next Reporter on dir sends them first, as kept points. They
// are read one batch at a time and each is acknowledged as soon as the
// backend accepted it: draining holds the batches in flight, whatever the
// spool holds. Delivery is exactly once within a process and at least once
// across crashes (the batches in flight are sent again); the files never
// exceed maxBytes (the oldest segment is dropped, counted in MetaDropped);
// a damaged record is skipped (ErrSpoolCorrupt); one Reporter per
// directory (ErrSpoolLocked); every batch kept or delivered is fsynced
// unless WithSpoolNoSync. The README's spool section has the details.
package reporter
