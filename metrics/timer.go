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
// nanoseconds: the extremes exactly, percentiles within 0.78 % for
// durations from 1ns to 2^62ns (146 years). Zero and negative durations are
// recorded as zero. The sum of an interval (between two resets) is counted
// exactly in nanoseconds in an unsigned 64-bit counter whose carries (past
// 2^64ns, 584 years) are kept apart, and at each reset it is added to a
// cumulative sum kept in float64 seconds, so Sum never wraps: it is exact up
// to float64 rounding (a nanosecond in 104 days of durations).
//
// A Timer takes just under 16 KiB (16,112 bytes on 64-bit platforms).
// Create one with NewTimer or
// Registry.Timer; the zero value is not usable. It is safe for concurrent
// use.
type Timer struct {
	// Written by every Update, so kept on one cache line.
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
}

// NewTimer returns a new Timer that reads time.Now. It allocates about
// 16 KiB.
func NewTimer() *Timer { return newTimer(time.Now) }

func newTimer(now func() time.Time) *Timer {
	t := new(Timer)
	t.rates.init(now)
	t.sk.init(0)
	t.min.Store(math.MaxInt64)
	t.max.Store(-1)
	return t
}

// Update records d. It does not allocate, does not read the clock, and
// costs three atomic adds and two atomic loads (plus a compare-and-swap
// when d is a new minimum or maximum, and a lock once per 2^64ns added to
// the sum between resets).
func (t *Timer) Update(d time.Duration) {
	ns := max(int64(d), 0)
	t.count.Add(1)
	t.sk.add(t.sk.index(float64(ns)))
	if t.sum.Add(uint64(ns)) < uint64(ns) {
		t.addCarry()
	}
	if ns < t.min.Load() {
		storeMinInt(&t.min, ns)
	}
	if ns > t.max.Load() {
		storeMaxInt(&t.max, ns)
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
	start := t.rates.now()
	fn()
	t.Update(t.rates.now().Sub(start))
}

// UpdateSince records the time elapsed since start, measured with the
// timer's clock.
func (t *Timer) UpdateSince(start time.Time) { t.Update(t.rates.now().Sub(start)) }

// TimerContext is a started measurement; see Timer.Start.
type TimerContext struct {
	t     *Timer
	start time.Time
}

// Start reads the timer's clock and returns a context whose Stop records the
// time elapsed. It does not allocate.
func (t *Timer) Start() TimerContext { return TimerContext{t, t.rates.now()} }

// Stop records and returns the time elapsed since Start. Each call records
// another duration.
func (c TimerContext) Stop() time.Duration {
	d := c.t.rates.now().Sub(c.start)
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
	var counts [numBuckets]uint64
	t.sk.mu.Lock()
	n := t.sk.load(&counts, reset)
	var usum uint64
	var lo, hi int64
	if reset {
		usum, lo, hi = t.sum.Swap(0), t.min.Swap(math.MaxInt64), t.max.Swap(-1)
	} else {
		usum, lo, hi = t.sum.Load(), t.min.Load(), t.max.Load()
	}
	sum := float64(usum) + t.carry // ns in this interval
	count, total := t.countBase+int64(n), t.sumBase+sum/nsPerSecond
	if reset {
		t.countBase, t.sumBase, t.carry = count, total, 0
	}
	s := HistogramSnapshot{Count: count, Sum: total}
	if n != 0 {
		flo, fhi := float64(lo), float64(hi)
		if lo == math.MaxInt64 {
			flo = math.Inf(1)
		}
		if hi < 0 {
			fhi = math.Inf(-1)
		}
		flo, fhi = t.sk.fixExtremes(&counts, flo, fhi)
		mean := min(max(sum/float64(n), flo), fhi)
		r := t.sk.summarize(&counts, n, mean, flo, fhi)
		s.Min, s.Max, s.Mean = flo/nsPerSecond, fhi/nsPerSecond, mean/nsPerSecond
		s.StdDev = r.stdDev / nsPerSecond
		s.P50, s.P75, s.P95, s.P99, s.P999 = r.p[0]/nsPerSecond, r.p[1]/nsPerSecond,
			r.p[2]/nsPerSecond, r.p[3]/nsPerSecond, r.p[4]/nsPerSecond
	}
	t.sk.mu.Unlock()
	return TimerSnapshot{Histogram: s, Meter: t.rates.snapshot(&t.count)}
}

// Merge adds the durations recorded in src since its last reset to t, as if
// they had been recorded by t.Update, and marks them on t's meter. src is
// unchanged. t and src must be different timers.
func (t *Timer) Merge(src *Timer) {
	src.sk.mu.Lock()
	sum, carry, lo, hi := src.sum.Load(), src.carry, src.min.Load(), src.max.Load()
	src.sk.mu.Unlock()
	n := t.sk.merge(&src.sk)
	if n == 0 {
		return
	}
	t.count.Add(int64(n))
	if t.sum.Add(sum) < sum {
		carry += 1 << 64
	}
	if carry != 0 {
		t.sk.mu.Lock()
		t.carry += carry
		t.sk.mu.Unlock()
	}
	storeMinInt(&t.min, lo)
	storeMaxInt(&t.max, hi)
}
