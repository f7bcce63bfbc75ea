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
// <prefix><name>.<field>, all with the report's timestamp (see Timestamps):
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
// previous report, count and sum are cumulative. When the client has a
// sanitizer (apptuit.WithSanitizer) it rewrites the names and tag keys as
// they are sent, e.g. "abc.日本語.count" becomes "abc_count" with
// apptuit.SanitizePrometheus.
//
// A metric whose name or tags the client would refuse (after its sanitizer)
// is left out of the report and reported to the error handler as a
// *MetricError (wrapping an *apptuit.ValidationError), instead of failing the
// whole batch.
//
// # Sources
//
// A Source is a set of metrics kept elsewhere than in a metrics.Registry,
// collected at every report: its Collect calls emit(name, tags, value) once
// per point. Give sources with WithSource (several are allowed; New takes
// a nil registry when there is at least one). Their points are collected
// after the registry's, in the order the sources were given, and go
// through the same path: named <prefix><name> (the name as emitted, with
// the reporter's prefix and no field suffix), tagged with the environment
// tags < the reporter's tags < the host tag < the tags emitted (the
// source's win), stamped with the report's timestamp, checked as the
// client checks a point (sanitizer, Apptuit's name rule, non-empty tag
// values, 1 to 25 tags with the client's global tags), batched, and kept
// for retry. Non-finite values are left out. A series emitted twice in
// one report is sent twice, with the same timestamp (a backend keeps one of
// the values).
//
// An error returned by Collect reaches the error handler as a *SourceError
// (errors.As tells which source: its Index among the WithSource options,
// and the Source itself); the points emitted before it are still sent. A
// series (name and tags) that cannot be sent is left out and reported as a
// *MetricError once per report, however many points it had; a report
// hands the handler at most 100 MetricErrors, then one error counting the
// rest.
//
// Each series is checked and encoded once, the first time it is seen, and
// kept (in a cache per source keyed by its name and tags); a series not
// emitted by a report is forgotten, as is a registry metric no longer
// registered. A point of a series seen before costs encoding its key in a
// reused buffer, a map lookup and an append: no allocation, whether or not
// the source reuses its tags map (reusing it saves the source's own
// allocations). Collect runs on the reporter's goroutine while the
// instrumented code keeps running, and emit must be called on that
// goroutine, during Collect. A panic in Collect is not recovered.
//
// Expvar returns a source over the expvar package's numeric variables:
//
//	*expvar.Int, *expvar.Float  one point named as the variable
//	*expvar.Map                 one point per numeric value, named as the map,
//	                            the key in the tag "key" (ExpvarMapTag);
//	                            a map in a map: <map>.<key>, its keys in the tag
//	expvar.Func                 a number: one point; a struct or map: as JSON
//	other Vars                  their JSON: a number is one point, an object's
//	                            numeric members are <name>.<member>
//	strings, booleans, arrays   skipped
//	memstats, cmdline           skipped unless ExpvarSkip says otherwise
//
// Names are sanitized with apptuit.SanitizeApptuit (characters outside
// letters, digits, '.', '-', '_' and '/' become '_'); see Expvar.
//
// # Timestamps
//
// A report's points carry the time the report was made, truncated to the
// second when the interval (WithInterval) is 1 s or more, and to the
// millisecond when it is shorter (the client then sends timestamps in
// milliseconds). Two reports never share a timestamp: a backend keeps one
// value per series and timestamp, so a second report stamped like the one
// before (a ReportNow, or Stop's final report, made in the same second)
// would overwrite it, losing the interval statistics of its histograms and
// timers. Such a report is stamped one unit (1 s, or 1 ms) after the
// previous one instead. Timestamps therefore run ahead of the clock only
// during bursts of reports closer than one unit apart, by one unit per
// report of the burst, and come back to the clock as time passes.
//
// A client that writes whole seconds (apptuit.WithTimestampPrecision with
// apptuit.PrecisionSeconds, for InfluxDB) cannot tell apart reports less
// than a second apart: New refuses such a client with an interval under
// 1 s, naming both.
//
// # Tags
//
// A point's tags are, later ones winning: APPTUIT_TAGS (or, when that is
// unset or empty, APPTUIT_PY_TAGS), the reporter's tags (WithTags), a host
// tag, then the metric's own tags. The host tag, host=<os.Hostname()>, is
// added unless a host tag is already among the environment or reporter tags,
// or it is turned off by WithHostTag(false) or APPTUIT_DISABLE_HOST_TAG
// (strtobool's true values: y, yes, t, true, on, 1). A metric's own host tag
// still wins over it. Points carry all these tags, so the client's global
// tags (which only fill keys a point lacks) cannot reorder them.
//
// # Meta metrics
//
// Every report also carries the reporter's own metrics, describing the sends
// of earlier reports (read before the report's own sends begin, and sent
// after its other points; the prefix applies to them too):
//
//	apptuit.reporter.send.total       counter: points of every send attempted
//	apptuit.reporter.send.successful  counter: points the server accepted
//	apptuit.reporter.send.failed      counter: points of attempted sends not accepted
//	apptuit.reporter.send.dropped     counter: points given up (retry buffer full, or unsent at Stop)
//	apptuit.reporter.send.time        timer: duration of each send
//
// # Sending
//
// A report sends the points kept from earlier reports first, then its own,
// in batches of the client's batch size (apptuit.WithBatchSize), one apptuit.Client.SendPrepared call
// each: every series (each field of a metric, each series of a source) is
// prepared once (apptuit.Client.PrepareSeries: sanitized, merged with the
// client's global tags, validated and encoded, the fields of a metric
// sharing one encoding of its tags), so a point costs only the encoding of
// its timestamp and value. Collecting and sending overlap: each batch is
// handed to a sending goroutine as soon as it is complete, while the next
// is collected, and up to the client's concurrency (apptuit.WithConcurrency,
// default 2) are in flight, so a large report uses two cores (after a report
// that failed to send, the first send goes alone until it succeeds). Collecting a metric seen before
// allocates nothing; a report's allocations are those of its HTTP requests
// and a few of its own.
//
// # Failures
//
// When a send fails with an error apptuit.IsRetryable accepts (429, 5xx,
// no answer; after the client's own retries), or the report runs out of
// time, no more sends start: that batch and the rest (but for those already
// in flight) are kept in a buffer of WithBufferSize points (default
// 500,000) for the next report, in their order, and the oldest are dropped
// when it is full. Points the server refuses (400) are not kept: they would
// be refused again. The next report sends the kept points merged into
// batches of up to the client's batch size, oldest first, so after an outage
// they take as few requests as the batch size allows; during the outage
// each report after the first tries one such send, whose points all count
// in apptuit.reporter.send.failed when it fails.
//
// A batch the server accepted is never sent again, so after an outage every
// point arrives once. The exception is ambiguity the client cannot resolve:
// a request that timed out or lost its connection after the server stored
// it is sent again (at-least-once), as is the accepted half of a batch the
// client split after a 413. (The reporter's batches are the client's, so
// each Send is a single request.)
//
// After a report that did not deliver all its points the error handler is
// called (see WithErrorHandler); by default it writes one line to stderr.
//
// # Concurrency
//
// Start runs one goroutine that reports every interval; reports never
// overlap: ReportNow waits for a report in progress, but no longer than its
// ctx allows, and Stop cancels it when it has not ended in half the time
// Stop's ctx allows (its unsent points are kept for the final report). A
// report runs on the goroutine that makes it, plus one that sends its
// batches, for the report's duration. Updating a metric never waits for a
// report: the registry's metrics are updated with atomic operations and a
// report only reads snapshots, so a slow or failing backend delays nothing
// but the next report. Stop(ctx) ends the goroutine, makes a final report within ctx and
// returns; it never blocks past ctx by more than the time a cancelled
// request takes to return.
//
// # Runtime metrics
//
// WithRuntimeMetrics adds these gauges to every report (with the prefix and
// the reporter's tags), named as is, without a field suffix:
//
//	go.goroutines                  goroutines that exist (/sched/goroutines:goroutines)
//	go.gc.cycles                   completed GC cycles since start (/gc/cycles/total:gc-cycles)
//	go.gc.pause.total_seconds      stop-the-world GC pause time since start, estimated from
//	                               the /sched/pauses/total/gc:seconds histogram (bucket midpoints)
//	go.heap.bytes                  bytes in heap objects (/memory/classes/heap/objects:bytes)
//	go.heap.objects                heap objects (/gc/heap/objects:objects)
//	process.cpu.user_seconds       user CPU time since start (getrusage; Linux)
//	process.cpu.system_seconds     system CPU time since start (getrusage; Linux)
//	process.resident_memory.bytes  resident set size (/proc/self/statm; Linux)
//	process.open_fds               open file descriptors (/proc/self/fd; Linux)
//
// They are read from runtime/metrics, which does not stop the world, and
// from the operating system; the process.* metrics are sent on Linux only.
// They are collected after the sources of WithSource, as a source of the
// reporter's own.
//
// # Spool
//
// WithSpool(dir, maxBytes) keeps the batches that could not be delivered in
// segment files under dir instead of the memory buffer, so that they outlive
// the process. Each report first sends what the spool holds, oldest first,
// merged into batches of up to the client's batch size; a batch is acknowledged
// in the spool (a cursor file replaced atomically) once the backend accepted
// it, and is then never sent again. While the spool is not empty, a report's
// own points are added behind what it holds, so that order is kept; Stop
// leaves in it whatever could not be sent, for the next Reporter on dir, which
// sends it first. Guarantees:
//
//   - within a process, a batch is delivered once, with the exceptions of
//     the memory buffer (see Failures) and of a cursor that could not be
//     written (a disk error, given to the error handler);
//   - across crashes, at least once: a batch accepted by the backend just
//     before the process died, before its acknowledgement reached the disk,
//     is sent again by the next process;
//   - the segment files never exceed maxBytes: when full, the oldest segment
//     (maxBytes/8, at most 64 MiB) is dropped and its points counted in
//     apptuit.reporter.send.dropped;
//   - a torn or damaged record (power loss, a kill in the middle of a write)
//     fails its CRC-32C checksums and is skipped, never sent; the error
//     handler gets an error matching ErrSpoolCorrupt, and its points, when
//     its header is intact, count as dropped;
//   - one Reporter per directory: another New on dir, in any process, fails
//     with ErrSpoolLocked.
//
// Every batch kept and every batch delivered is fsynced (a few milliseconds
// on a busy disk); WithSpoolNoSync leaves write-back to the operating
// system, which keeps the points through a crash of the process but not of
// the machine. Nothing is written while sends succeed.
package reporter
