package metrics

import (
	"math"
	"sync/atomic"
)

// histogramMinExp places a Histogram's sketch range at [2^-24, 2^38),
// about [6.0e-8, 2.7e11).
const histogramMinExp = -24

// HistogramSnapshot is a point-in-time view of a Histogram.
//
// Count and Sum are cumulative since the histogram was created. Min, Max,
// Mean, StdDev and the percentiles describe only the IntervalCount values
// recorded since the last reset (see Histogram.SnapshotAndReset); when
// there were none they describe nothing, and are zero: check IntervalCount
// before using them (a reporter sends none of them then).
//
// Count, Sum, Min, Max and Mean are exact for any finite values. StdDev and
// the percentiles come from the sketch and hold for values in its range
// ([2^-24, 2^38) for a Histogram, 1ns to 2^62ns for a Timer) and for zero;
// with negative values they are wrong (see Histogram).
type HistogramSnapshot struct {
	Count                    int64   // values recorded since creation
	Sum                      float64 // their sum
	IntervalCount            int64   // values recorded since the last reset, which the fields below describe
	Min, Max                 float64 // exact extremes since the last reset
	Mean                     float64 // exact mean since the last reset
	StdDev                   float64 // sample standard deviation since the last reset, estimated from the sketch; wrong for negative values
	P50, P75, P95, P99, P999 float64 // nearest-rank percentiles since the last reset, within 0.979 % for non-negative values in the sketch's range
}

// Histogram records the distribution of float64 values. Percentiles come
// from a log-bucket sketch with at most 0.979 % relative error for values in
// [2^-24, 2^38), about [6.0e-8, 2.7e11); values outside that range are
// counted exactly in Count, Sum, Min, Max and Mean, but percentiles that
// fall on them are reported as 0 (for values below the range, including
// zero and negative values) or Max (above it), clamped to [Min, Max].
//
// Histograms are therefore for non-negative measurements (latencies, sizes,
// counts). Every value below 2^-24 — zero, tiny positive values and all
// negative values — falls into one underflow bucket that the sketch takes
// to be 0. For negative values Count, Sum, Min, Max and Mean stay exact,
// but percentiles and StdDev do not: a percentile that falls among them is
// reported as 0 clamped to [Min, Max] (so Max when all values are
// negative), and StdDev is computed as if each of them were that value
// (TestHistogramNegativeValuesDocumented shows by how much). Zeros mixed
// with positive values are fine: they are reported as 0 exactly. To record
// signed data, shift it by a known bound or keep negative values in a
// histogram of their own, negated.
//
// Memory grows with the range of the values, not their number: a page of
// 36 counters for each power of two that has seen a value, at most the 62
// of the range (the figures per range are in bench/RESULTS.md, checked by
// TestMemoryPerMetric). Create one with NewHistogram or Registry.Histogram;
// the zero value is not usable. It is safe for concurrent use.
type Histogram struct {
	// The hot fields and the sketch's directory share the first cache
	// line; the size (128 bytes, padded) keeps that line to this histogram.
	sum atomic.Uint64 // float64 bits: sum since the last reset
	min atomic.Uint64 // float64 bits: +Inf when empty
	max atomic.Uint64 // float64 bits: -Inf when empty
	sk  sketch

	// guarded by sk.mu
	count   int64   // values recorded before the last reset
	sumBase float64 // their sum

	l link
	_ [40]byte
}

// NewHistogram returns a new, empty Histogram (one allocation; its pages
// come as values do).
func NewHistogram() *Histogram {
	h := new(Histogram)
	h.init()
	return h
}

func (h *Histogram) init() {
	h.min.Store(math.Float64bits(math.Inf(1)))
	h.max.Store(math.Float64bits(math.Inf(-1)))
}

// Update records v. NaN and ±Inf are ignored. It costs three dependent
// loads to find the counter of v's bucket (a table lookup gives the bucket),
// one atomic add, a compare-and-swap loop for the sum and three atomic
// loads (plus a compare-and-swap when v is a new minimum or maximum). It
// does not allocate, except the first time a value falls in a power of two
// that has not seen one: that allocates its page (and, when the power of
// two lies outside those seen so far, a larger directory), under the
// histogram's lock.
func (h *Histogram) Update(v float64) {
	if v-v != 0 { // NaN or ±Inf
		return
	}
	// The sketch's fast path, inlined (see Timer.Update).
	b := math.Float64bits(v)
	o := int(b>>52) - (1023 + histogramMinExp) // out of range for v < 0
	k := int(subBucket[b>>(52-subBits)&(1<<subBits-1)])
	i := 1 + o*perOctave + k
	var c *atomic.Uint32
	if uint(o) < octaves {
		c = h.sk.lookup(o, k)
	}
	if c == nil {
		c, i = h.sk.counter(v, histogramMinExp)
	}
	if c.Add(1) >= spillAt {
		h.sk.spill1(c, i)
	}
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	if v < math.Float64frombits(h.min.Load()) {
		storeMin(&h.min, v)
	}
	if v > math.Float64frombits(h.max.Load()) {
		storeMax(&h.max, v)
	}
	if atomic.LoadUint32(&h.l.state) != stateLive {
		h.l.touch()
	}
}

func storeMin(p *atomic.Uint64, v float64) {
	for {
		old := p.Load()
		if !(v < math.Float64frombits(old)) || p.CompareAndSwap(old, math.Float64bits(v)) {
			return
		}
	}
}

func storeMax(p *atomic.Uint64, v float64) {
	for {
		old := p.Load()
		if !(v > math.Float64frombits(old)) || p.CompareAndSwap(old, math.Float64bits(v)) {
			return
		}
	}
}

// Snapshot returns the statistics of h without resetting it. It takes the
// histogram's lock, reads the counters of the powers of two h has seen
// twice (36 per power of two, so its cost grows with the range of the
// values, not with the sketch's), and does not allocate.
func (h *Histogram) Snapshot() HistogramSnapshot { return h.snapshot(false) }

// SnapshotAndReset returns the statistics of h and starts a new interval:
// Min, Max, Mean, StdDev and the percentiles of the next snapshot cover
// only values recorded after this call. Count and Sum stay cumulative. A
// reporter calls it once per report. Values recorded concurrently are
// counted in exactly one interval, though a value's contribution to Sum,
// Min or Max may land in the neighbouring interval. Cost as Snapshot, plus
// one atomic swap per non-empty bucket; the pages stay allocated.
func (h *Histogram) SnapshotAndReset() HistogramSnapshot { return h.snapshot(true) }

func (h *Histogram) snapshot(reset bool) HistogramSnapshot {
	h.sk.mu.Lock()
	defer h.sk.mu.Unlock()
	n, first, last, used := h.sk.countLocked()
	var sum, lo, hi float64
	if reset {
		sum = math.Float64frombits(h.sum.Swap(0))
		lo = math.Float64frombits(h.min.Swap(math.Float64bits(math.Inf(1))))
		hi = math.Float64frombits(h.max.Swap(math.Float64bits(math.Inf(-1))))
	} else {
		sum = math.Float64frombits(h.sum.Load())
		lo = math.Float64frombits(h.min.Load())
		hi = math.Float64frombits(h.max.Load())
	}
	r := h.sk.summarizeLocked(reset, n, first, last, used, sum, lo, hi, histogramMinExp)
	s := HistogramSnapshot{Count: h.count + int64(r.n), Sum: h.sumBase + sum, IntervalCount: int64(r.n)}
	if reset {
		h.count, h.sumBase = s.Count, s.Sum
	}
	if r.n == 0 {
		return s
	}
	s.Min, s.Max = r.lo, r.hi
	s.Mean = min(max(sum/float64(r.n), r.lo), r.hi)
	s.StdDev = r.stdDev
	s.P50, s.P75, s.P95, s.P99, s.P999 = r.p[0], r.p[1], r.p[2], r.p[3], r.p[4]
	return s
}

// Merge adds the values recorded in src since its last reset to h, as if
// they had been recorded by h.Update (src is unchanged; merging a
// histogram into itself doubles its counts). It holds both histograms'
// locks, costs in proportion to the powers of two src has seen, and
// allocates the pages h lacks.
func (h *Histogram) Merge(src *Histogram) {
	lockPair(&h.sk, &src.sk)
	defer unlockPair(&h.sk, &src.sk)
	sum := math.Float64frombits(src.sum.Load())
	lo := math.Float64frombits(src.min.Load())
	hi := math.Float64frombits(src.max.Load())
	if h.sk.mergeLocked(&src.sk) == 0 {
		return
	}
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+sum)) {
			break
		}
	}
	storeMin(&h.min, lo)
	storeMax(&h.max, hi)
	if atomic.LoadUint32(&h.l.state) != stateLive {
		h.l.touch()
	}
}
