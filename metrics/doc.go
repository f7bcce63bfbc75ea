// Package metrics is a registry of application metrics — counters, gauges,
// meters, histograms and timers in the manner of Coda Hale's metrics and
// pyformance — for reporting to Apptuit.AI or OpenTSDB (see package
// reporter). It uses only the standard library, starts no goroutines, has
// no global state and does no work at init.
//
// Updating a metric does not allocate and takes no lock: Counter.Inc and
// Meter.Mark are one atomic add and one load; Histogram.Update and
// Timer.Update are a few atomic operations on a sparse sketch (which
// allocates a page the first time a value falls in a new power of two).
// Figures, against client_golang, VictoriaMetrics/metrics and
// OpenTelemetry, are in bench/RESULTS.md.
//
// # Names, tags and vectors
//
// A metric lives in a Registry under a name and optional tags. Code that
// labels by request data uses a vector, whose tag keys are fixed when it is
// made and whose values are given in order, as client_golang's are:
//
//	reqs, err := r.CounterVec("http.requests", "method", "code")
//	reqs.With("GET", "200").Inc()
//
// Looking up a series the vector has seen copies the values into a buffer
// on the stack and reads a map without a lock: no allocation. Tags may also
// be given as a map, or encoded in the name as apptuit-py's encode_metric
// writes them; both cost sorting and encoding the tags at every call:
//
//	r.CounterWith("http.requests", map[string]string{"method": "GET", "code": "200"})
//	r.Counter(`http.requests{"code": "200", "method": "GET"}`)
//
// All three return the same Counter. Every series of a name is of one kind:
// asking for it as another is an error wrapping ErrWrongKind, as are a
// vector's empty or repeated keys. The registry is permissive about which
// characters a name or tag holds (the client checks them when it sends).
// Nothing here panics on bad input: a vector's With given the wrong number
// of values returns a metric that is not reported, and says so through
// EndInterval (Get returns the error instead).
//
// # Series limits
//
// Tags that come from request data can explode (a user ID, a raw path).
// Each metric name may have DefaultSeriesLimit series unless WithSeriesLimit
// or a vector's SetSeriesLimit says otherwise. Past the limit, a new set of
// tags gets the metric's overflow series, tagged overflow=true, so sums and
// counts over the metric stay right and memory stays bounded; the series
// made before keep theirs. EndInterval returns one *LimitError per metric
// that overflowed, naming the metric, the limit and the option.
//
// # Series that go away
//
// Unregister (or a vector's Delete) removes one series. WithExpiry(n)
// removes the series not updated during n intervals in a row, an interval
// ending at each EndInterval (a reporter's report); their memory is
// released. A metric kept in a variable comes back at its next update with
// the value it kept; a lookup after expiry makes a new metric, so a counter
// comes back from zero. Downstream, the series has no point while it is
// gone; PromQL's rate and increase read the drop from its last value to
// the new one as a counter reset, as when a process restarts: they count
// the new value as the increase since, never a negative rate. A window
// holding only the new series needs two of its points for a rate.
//
// # Reporting
//
// A reporter walks the registry with Walk (Each gives the tags as a map it
// allocates), reads every metric, then calls EndInterval. Rates are in
// events per second, Timer snapshots in seconds. Histogram and Timer
// snapshots come in two forms: Snapshot leaves the metric alone,
// SnapshotAndReset starts a new interval. Count and Sum are cumulative
// either way; Min, Max, Mean, StdDev and the percentiles describe the
// IntervalCount values recorded since the last reset. When there were none
// they describe nothing (they are zero, never NaN) and package reporter
// sends count and sum alone: a gap on a dashboard, not a latency of zero.
// Since a reset is seen by every reader, only one reporter per registry
// should call SnapshotAndReset and EndInterval.
//
// # Meters
//
// Meters keep no ticker. Their 1-, 5- and 15-minute moving averages are
// those of Coda Hale's metrics, ticking every 5 seconds, but the ticks are
// applied when a snapshot is taken: the events counted since the previous
// snapshot are spread evenly over the ticks in between. With a constant
// rate between snapshots the result is exactly Coda Hale's; idle intervals
// decay the rates as Coda Hale's do.
//
// # Percentiles
//
// Histograms and timers keep a log-bucket sketch in the manner of DDSketch:
// 36 buckets per power of two, found from the bits of the value's float64
// representation, each an atomic counter that cannot wrap. Any percentile
// it reports is within 0.979 % of the exact nearest-rank percentile of the
// values recorded. A sketch covers 62 powers of two — [2^-24, 2^38) for a
// Histogram, 1ns to 2^62ns for a Timer — and stores a page of counters only
// for those it has seen, so its memory grows with the range of the values,
// not their number, and is bounded; snapshots cost in proportion to the
// pages used. Sketches of the same kind merge exactly (Histogram.Merge,
// Timer.Merge). Histograms are for non-negative measurements: values below
// the range (zero, tiny and negative ones) share one bucket reported as 0.
//
// # Differences from pyformance
//
// pyformance's histograms keep an exponentially decaying reservoir, a
// random sample of 1028 values biased towards the last five minutes: its
// percentiles are estimates whose error depends on the distribution and
// the rate and is unbounded for the tails, and they linger for minutes
// after a change; it never resets. Here every value is counted into a
// bucket (deterministic, bounded error), recording needs neither a lock
// nor a random number, and each report describes exactly the values
// recorded since the previous one; count stays cumulative as pyformance's
// does. Min, Max, Mean and Sum are exact; StdDev comes from the sketch.
// pyformance's meters tick on every mark and read; here marking is one
// atomic add and the ticking is done by Snapshot.
package metrics
