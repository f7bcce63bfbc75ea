package metrics

import (
	"math"
	"sync/atomic"
	"time"
)

// TimerSnapshot is a point-in-time view of a Timer. The histogram's values
// (Sum, Min, Max, Mean, StdDev and percentiles) are durations in seconds;
// its Count is the number of durations recorded. Meter counts the same
// events and gives their rates in events per second.
type TimerSnapshot struct {
	Histogram HistogramSnapshot
	Meter     MeterSnapshot
}

// Timer records durations: a histogram of the durations plus a meter of how
// often they happen, like Coda Hale's Timer. Durations are kept in
// nanoseconds: the extremes exactly, percentiles within 0.979 % for
// durations from 1ns to 2^62ns (146 years). Zero and negative durations are
// recorded as zero. The sum of an interval (between two resets) is counted
// exactly in nanoseconds in an unsigned 64-bit counter whose carries (past
// 2^64ns, 584 years) are kept apart, and at each reset it is added to a
// cumulative sum kept in float64 seconds, so Sum never wraps: it is exact up
// to float64 rounding (a nanosecond in 104 days of durations).
//
// Like a Histogram's, its memory grows with the powers of two of
// nanoseconds its durations span, and is bounded (see Histogram). Create
// one with NewTimer or Registry.Timer; the zero value is not usable. It is
// safe for concurrent use.
type Timer struct {
	// Written by every Update, so kept on one cache line with the sketch's
	// directory (a Timer is 192 bytes, so it starts on a cache line).
	count atomic.Int64  // durations recorded since creation: the meter's count
	sum   atomic.Uint64 // ns since the last reset, mod 2^64 (see carry)
	min   atomic.Int64  // ns; math.MaxInt64 when empty
	max   atomic.Int64  // ns; -1 when empty

	sk    sketch
	rates rates // the meter's moving averages of count

	// guarded by sk.mu
	carry     float64 // ns the sum lost to wrapping past 2^64 since the last reset
	countBase int64   // durations recorded before the last reset
	sumBase   float64 // their sum in seconds

	l link
}

// timerMinExp places a Timer's sketch range at [1ns, 2^62ns).
const timerMinExp = 0

// NewTimer returns a new Timer that reads time.Now (one allocation; its
// pages come as durations do).
func NewTimer() *Timer {
	t := new(Timer)
	t.init(time.Now())
	return t
}

func (t *Timer) init(start time.Time) {
	t.rates.init(start)
	t.min.Store(math.MaxInt64)
	t.max.Store(-1)
}

// Update records d. It does not read the clock, and costs three dependent
// loads to find the counter of d's bucket, three atomic adds and three
// atomic loads (plus a compare-and-swap when d is a new minimum or maximum,
// and a lock once per 2^64ns added to the sum between resets). It does not
// allocate, except the first time a duration falls in a power of two of
// nanoseconds that has not seen one: that allocates its page (and, when
// the power of two lies outside those seen so far, a larger directory),
// under the timer's lock.
func (t *Timer) Update(d time.Duration) {
	ns := max(int64(d), 0)
	// The sketch's fast path, inlined: find the counter (loads only) before
	// the first atomic add, so that the loads are not held up behind it.
	v := float64(ns)
	b := math.Float64bits(v)
	o := int(b>>52) - (1023 + timerMinExp) // < 0 for 0ns
	k := int(subBucket[b>>(52-subBits)&(1<<subBits-1)])
	i := 1 + o*perOctave + k
	var c *atomic.Uint32
	if uint(o) < octaves {
		c = t.sk.lookup(o, k)
	}
	if c == nil {
		c, i = t.sk.counter(v, timerMinExp)
	}
	t.count.Add(1)
	if c.Add(1) >= spillAt {
		t.sk.spill1(c, i)
	}
	if t.sum.Add(uint64(ns)) < uint64(ns) {
		t.addCarry()
	}
	if ns < t.min.Load() {
		storeMinInt(&t.min, ns)
	}
	if ns > t.max.Load() {
		storeMaxInt(&t.max, ns)
	}
	if atomic.LoadUint32(&t.l.state) != stateLive {
		t.l.touch()
	}
}

// addCarry accounts for an add that wrapped the interval sum past 2^64.
// (A snapshot taken between the wrap and this call counts the 2^64ns in the
// next interval.)
func (t *Timer) addCarry() {
	t.sk.mu.Lock()
	t.carry += 1 << 64
	t.sk.mu.Unlock()
}

func storeMinInt(p *atomic.Int64, v int64) {
	for {
		old := p.Load()
		if v >= old || p.CompareAndSwap(old, v) {
			return
		}
	}
}

func storeMaxInt(p *atomic.Int64, v int64) {
	for {
		old := p.Load()
		if v <= old || p.CompareAndSwap(old, v) {
			return
		}
	}
}

// Time calls fn and records how long it took, measured with the timer's
// clock (time.Now unless the registry was given WithClock). It reads the
// clock twice.
func (t *Timer) Time(fn func()) {
	start := t.l.now()
	fn()
	t.Update(t.l.now().Sub(start))
}

// UpdateSince records the time elapsed since start, measured with the
// timer's clock.
func (t *Timer) UpdateSince(start time.Time) { t.Update(t.l.now().Sub(start)) }

// TimerContext is a started measurement; see Timer.Start.
type TimerContext struct {
	t     *Timer
	start time.Time
}

// Start reads the timer's clock and returns a context whose Stop records the
// time elapsed. It does not allocate.
func (t *Timer) Start() TimerContext { return TimerContext{t, t.l.now()} }

// Stop records and returns the time elapsed since Start. Each call records
// another duration.
func (c TimerContext) Stop() time.Duration {
	d := c.t.l.now().Sub(c.start)
	c.t.Update(d)
	return d
}

// Count returns the number of durations recorded since creation. It is one
// atomic load.
func (t *Timer) Count() int64 { return t.count.Load() }

// Snapshot returns the statistics of t without resetting it. See
// Histogram.Snapshot and Meter.Snapshot for the cost.
func (t *Timer) Snapshot() TimerSnapshot { return t.snapshot(false) }

// SnapshotAndReset returns the statistics of t and starts a new histogram
// interval, exactly as Histogram.SnapshotAndReset does. The meter is not
// reset: its count and rates are cumulative.
func (t *Timer) SnapshotAndReset() TimerSnapshot { return t.snapshot(true) }

const nsPerSecond = 1e9

func (t *Timer) snapshot(reset bool) TimerSnapshot {
	t.sk.mu.Lock()
	n, first, last, used := t.sk.countLocked()
	var usum uint64
	var lo, hi int64
	if reset {
		usum, lo, hi = t.sum.Swap(0), t.min.Swap(math.MaxInt64), t.max.Swap(-1)
	} else {
		usum, lo, hi = t.sum.Load(), t.min.Load(), t.max.Load()
	}
	sum := float64(usum) + t.carry // ns in this interval
	flo, fhi := float64(lo), float64(hi)
	if lo == math.MaxInt64 {
		flo = math.Inf(1)
	}
	if hi < 0 {
		fhi = math.Inf(-1)
	}
	r := t.sk.summarizeLocked(reset, n, first, last, used, sum, flo, fhi, timerMinExp)
	count, total := t.countBase+int64(r.n), t.sumBase+sum/nsPerSecond
	if reset {
		t.countBase, t.sumBase, t.carry = count, total, 0
	}
	s := HistogramSnapshot{Count: count, Sum: total, IntervalCount: int64(r.n)}
	if r.n != 0 {
		mean := min(max(sum/float64(r.n), r.lo), r.hi)
		s.Min, s.Max, s.Mean = r.lo/nsPerSecond, r.hi/nsPerSecond, mean/nsPerSecond
		s.StdDev = r.stdDev / nsPerSecond
		s.P50, s.P75, s.P95, s.P99, s.P999 = r.p[0]/nsPerSecond, r.p[1]/nsPerSecond,
			r.p[2]/nsPerSecond, r.p[3]/nsPerSecond, r.p[4]/nsPerSecond
	}
	t.sk.mu.Unlock()
	return TimerSnapshot{Histogram: s, Meter: t.rates.snapshot(&t.count, t.l.now())}
}

// Merge adds the durations recorded in src since its last reset to t, as if
// they had been recorded by t.Update, and marks them on t's meter. src is
// unchanged (merging a timer into itself doubles its counts). It holds both
// timers' locks, costs in proportion to the powers of two src has seen, and
// allocates the pages t lacks.
func (t *Timer) Merge(src *Timer) {
	lockPair(&t.sk, &src.sk)
	defer unlockPair(&t.sk, &src.sk)
	sum, carry, lo, hi := src.sum.Load(), src.carry, src.min.Load(), src.max.Load()
	n := t.sk.mergeLocked(&src.sk)
	if n == 0 {
		return
	}
	t.count.Add(int64(n))
	if t.sum.Add(sum) < sum {
		carry += 1 << 64
	}
	t.carry += carry
	storeMinInt(&t.min, lo)
	storeMaxInt(&t.max, hi)
	if atomic.LoadUint32(&t.l.state) != stateLive {
		t.l.touch()
	}
}
