package metrics

import (
	"math"
	"testing"
	"time"
)

func TestTimer(t *testing.T) {
	clk := newFakeClock()
	tm := newTimer(clk.Now)
	tm.Update(time.Second)
	tm.Update(-time.Second) // recorded as zero
	tm.Time(func() { clk.Add(4 * time.Second) })
	c := tm.Start()
	clk.Add(2 * time.Second)
	if d := c.Stop(); d != 2*time.Second {
		t.Errorf("Stop() = %v, want 2s", d)
	}
	start := clk.Now()
	clk.Add(time.Second) // 7s since the timer was created
	tm.UpdateSince(start)

	got := tm.SnapshotAndReset()
	// 0s, 1s, 1s, 2s, 4s. 1s, 2s and 4s are powers of two seconds but not
	// of two nanoseconds, so they are reported with the sketch's error,
	// clamped to the exact maximum.
	h := got.Histogram
	if h.Count != 5 || h.Sum != 8 || h.Min != 0 || h.Max != 4 || h.Mean != 1.6 {
		t.Errorf("histogram: %+v", h)
	}
	if h.P95 != 4 || h.P99 != 4 || h.P999 != 4 {
		t.Errorf("histogram tail: %+v, want 4s", h)
	}
	if relErr(h.P75, 2) > 1.0/129 || relErr(h.P50, 1) > 1.0/129 {
		t.Errorf("histogram p50, p75 = %v, %v; want about 1, 2", h.P50, h.P75)
	}
	m := got.Meter
	// One tick at 5s; the 5 events are spread over the 7 seconds read at once.
	if m.Count != 5 || m.MeanRate != 5.0/7 || !closeTo(m.Rate1, 5.0/7) {
		t.Errorf("meter: %+v, want Count 5, MeanRate and Rate1 5/7", m)
	}
	if tm.Count() != 5 {
		t.Errorf("Count() = %d, want 5", tm.Count())
	}
	if got := tm.Snapshot().Histogram; got != (HistogramSnapshot{Count: 5, Sum: 8}) {
		t.Errorf("after reset: %+v", got)
	}
}

func TestTimerMerge(t *testing.T) {
	a, b := NewTimer(), NewTimer()
	a.Update(time.Millisecond)
	b.Update(3 * time.Millisecond)
	b.Update(5 * time.Millisecond)
	a.Merge(b)
	s := a.Snapshot()
	if s.Histogram.Count != 3 || s.Meter.Count != 3 || s.Histogram.Sum != 0.009 || s.Histogram.Min != 0.001 || s.Histogram.Max != 0.005 {
		t.Errorf("merged: %+v", s)
	}
}

// The cumulative sum does not wrap: 300 one-year durations, each in an
// interval of its own, sum to 300 years (it used to be int64 nanoseconds,
// which wrap after 292 years).
func TestTimerCumulativeSumDoesNotWrap(t *testing.T) {
	const year = 365 * 24 * time.Hour
	tm := NewTimer()
	for range 300 {
		tm.Update(year)
		tm.SnapshotAndReset()
	}
	want := 300 * year.Seconds()
	for _, s := range []HistogramSnapshot{tm.Snapshot().Histogram, tm.SnapshotAndReset().Histogram} {
		if s.Count != 300 || math.Abs(s.Sum-want) > want*1e-12 {
			t.Fatalf("count %d sum %v s, want 300 and %v s", s.Count, s.Sum, want)
		}
	}
}

// The sum of one interval does not wrap either: durations adding up to
// more than 2^64ns between two resets.
func TestTimerIntervalSumDoesNotWrap(t *testing.T) {
	big := time.Duration(math.MaxInt64) // 292 years
	tm := NewTimer()
	for range 5 {
		tm.Update(big)
	}
	want := 5 * big.Seconds()
	s := tm.Snapshot().Histogram
	if math.Abs(s.Sum-want) > want*1e-12 || math.Abs(s.Mean-big.Seconds()) > big.Seconds()*1e-12 {
		t.Fatalf("sum %v mean %v, want %v and %v", s.Sum, s.Mean, want, big.Seconds())
	}
	other := NewTimer()
	for range 3 {
		other.Update(big)
	}
	tm.Merge(other)
	s = tm.SnapshotAndReset().Histogram
	if want := 8 * big.Seconds(); math.Abs(s.Sum-want) > want*1e-12 {
		t.Fatalf("after Merge: sum %v, want %v", s.Sum, want)
	}
	tm.Update(time.Second)
	if s := tm.Snapshot().Histogram; s.Mean != 1 || math.Abs(s.Sum-(8*big.Seconds()+1)) > 1e-12*s.Sum {
		t.Fatalf("next interval: mean %v sum %v", s.Mean, s.Sum)
	}
}
