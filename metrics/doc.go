// Package metrics is a registry of application metrics — counters, gauges,
// meters, histograms and timers in the manner of Coda Hale's metrics and
// pyformance — for reporting to Apptuit.AI or OpenTSDB.
//
// It uses only the standard library, starts no goroutines, has no global
// state and does no work at init. Updating a metric is lock-free and does
// not allocate: Counter.Inc and Meter.Mark are one atomic add;
// Histogram.Update and Timer.Update are a few atomic operations on a
// sparse sketch (which allocates a page the first time a value falls in a
// new power of two).
//
// # Names and tags
//
// Metrics live in a Registry under a name and optional tags. Tags may be
// given the Go way, as a map, or encoded in the name the way apptuit-py's
// encode_metric (and apptuit.EncodeMetric) writes them:
//
//	r.CounterWith("order_count", map[string]string{"city": "NYC"})
//	r.Counter(`order_count{"city": "NYC"}`)
//
// Both return the same Counter. The registry is permissive about which
// characters a name or tag contains (the client checks them when it sends),
// but rejects empty names and encoded names it cannot decode. Asking for a
// registered name as another kind of metric returns an error wrapping
// ErrWrongKind.
//
// # Reporting
//
// A reporter walks the registry with Registry.Walk (or Registry.Each, which
// gives the tags as a map it allocates) and takes a snapshot of
// each metric. Rates are in events per second. Timer snapshots give
// durations in seconds. Histogram and Timer snapshots come in two forms:
// Snapshot leaves the metric alone, SnapshotAndReset starts a new interval.
// Count and Sum are cumulative either way; Min, Max, Mean, StdDev and the
// percentiles cover the IntervalCount values recorded since the last reset.
// When there were none they describe nothing (they are zero, never NaN),
// and package reporter sends count and sum alone: a dashboard shows a gap,
// not a latency of zero. Since a reset is seen by every reader,
// only one reporter per registry should call SnapshotAndReset; others
// should use Snapshot.
//
// # Meters
//
// Meters keep no ticker. Their 1-, 5- and 15-minute moving averages are
// those of Coda Hale's metrics, ticking every 5 seconds, but the ticks are
// applied when a snapshot is taken: the events counted since the previous
// snapshot are spread evenly over the ticks in between. With a constant
// rate between snapshots the result is exactly Coda Hale's.
//
// # Percentiles
//
// Histograms and timers keep a log-bucket sketch in the manner of DDSketch:
// 36 buckets per power of two, found from the bits of the value's float64
// representation (its exponent and, through a table, its top ten mantissa
// bits), each counted by an atomic uint32 (which spills into a 64-bit map
// before it could wrap). Any percentile it reports is within 0.979 % of the
// exact nearest-rank percentile of the values recorded. A sketch covers 62
// powers of two — [2^-24, 2^38) for a Histogram, 1ns to 2^62ns for a Timer
// — but stores only the powers of two it has seen, a 144-byte page of
// counters each: an empty Histogram takes 128 bytes, an empty Timer 192,
// one that has seen values over three decades under 2 KiB, and one that has
// seen every power of two of its range under 10 KB. Snapshots cost in
// proportion to the pages used. Sketches of the same kind merge exactly
// (Histogram.Merge, Timer.Merge): merging is adding counts.
//
// Histograms are for non-negative measurements. Values below the range —
// zero, tiny positive values and all negative values — share one underflow
// bucket, reported as 0 clamped to [Min, Max]. For negative values Count,
// Sum, Min, Max and Mean stay exact but percentiles and StdDev do not.
// (Timers record negative durations as zero, so this does not concern
// them.)
//
// # Differences from pyformance
//
// pyformance's histograms keep an exponentially decaying reservoir: a
// random sample of 1028 values biased towards the last five minutes, from
// which percentiles are computed exactly. Its percentiles are therefore
// statistical estimates whose error depends on the distribution and the
// rate, is unbounded for the tails (p99.9 of 1028 samples rests on one or
// two of them), and lingers for minutes after a change. This package
// counts every value into buckets instead: the error is deterministic and
// bounded (0.979 % relative) at every percentile, recording is constant time
// without a lock or a random number, and two sketches merge exactly.
//
// pyformance never resets a histogram; a report sees the reservoir's view of
// roughly the last five minutes. Here a reporter calls SnapshotAndReset,
// so each report describes exactly the values recorded since the previous
// one, while Count and Sum stay cumulative as pyformance's count does.
// pyformance's standard deviation is computed from the reservoir's sample;
// here it is computed from the sketch, so it is accurate to about 1 % of
// the values themselves (good for spread-out data, coarse when the values
// differ by less than that). Min, Max, Mean and Sum are exact here, where
// pyformance's min, max and mean come from the reservoir.
//
// pyformance's meters tick on every mark and read; here marking is one
// atomic add and the ticking is done in Snapshot, as described above.
package metrics
