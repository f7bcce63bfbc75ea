package metrics

import (
	"math"
	"testing"
)

func TestHistogramSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []float64
		want   HistogramSnapshot
	}{
		{"empty", nil, HistogramSnapshot{}},
		{"one value", []float64{3}, HistogramSnapshot{Count: 1, IntervalCount: 1, Sum: 3, Min: 3, Max: 3, Mean: 3,
			P50: 3, P75: 3, P95: 3, P99: 3, P999: 3}},
		{"same value", []float64{0.25, 0.25, 0.25, 0.25}, HistogramSnapshot{Count: 4, IntervalCount: 4, Sum: 1, Min: 0.25, Max: 0.25, Mean: 0.25,
			P50: 0.25, P75: 0.25, P95: 0.25, P99: 0.25, P999: 0.25}},
		// Powers of two are bucket lower bounds; a bucket [2^k, 2^k(1+20/1024))
		// reports 2·lo·hi/(lo+hi) = 2^k·2088/2068 (and 8 is clamped to Max).
		{"powers of two", []float64{1, 2, 4, 8}, HistogramSnapshot{Count: 4, IntervalCount: 4, Sum: 15, Min: 1, Max: 8, Mean: 3.75,
			StdDev: math.Sqrt((sq(2088.0/2068-3.75) + sq(2*2088.0/2068-3.75) + sq(4*2088.0/2068-3.75) + sq(8-3.75)) / 3),
			P50:    2 * 2088.0 / 2068, P75: 4 * 2088.0 / 2068, P95: 8, P99: 8, P999: 8}},
		{"zero and negative", []float64{0, -5, 0, 2}, HistogramSnapshot{Count: 4, IntervalCount: 4, Sum: -3, Min: -5, Max: 2, Mean: -0.75,
			StdDev: math.Sqrt((3*sq(0.75) + sq(2+0.75)) / 3),
			P50:    0, P75: 0, P95: 2, P99: 2, P999: 2}},
		{"above range", []float64{1e12, 2e12}, HistogramSnapshot{Count: 2, IntervalCount: 2, Sum: 3e12, Min: 1e12, Max: 2e12, Mean: 1.5e12,
			StdDev: math.Sqrt(2 * sq(0.5e12)), P50: 2e12, P75: 2e12, P95: 2e12, P99: 2e12, P999: 2e12}},
		{"not finite ignored", []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1}, HistogramSnapshot{Count: 1, IntervalCount: 1, Sum: 1, Min: 1, Max: 1, Mean: 1,
			P50: 1, P75: 1, P95: 1, P99: 1, P999: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistogram()
			for _, v := range tc.values {
				h.Update(v)
			}
			if got := h.Snapshot(); !snapshotsEqual(got, tc.want) {
				t.Errorf("Snapshot() =\n%+v, want\n%+v", got, tc.want)
			}
			if got := h.SnapshotAndReset(); !snapshotsEqual(got, tc.want) {
				t.Errorf("SnapshotAndReset() =\n%+v, want\n%+v", got, tc.want)
			}
			// After a reset only Count and Sum remain.
			want := HistogramSnapshot{Count: tc.want.Count, Sum: tc.want.Sum}
			if got := h.Snapshot(); got != want {
				t.Errorf("after reset: %+v, want %+v", got, want)
			}
		})
	}
}

func sq(x float64) float64 { return x * x }

// snapshotsEqual compares exactly, except StdDev to a relative 1e-12 (it is
// a sum of squares whose rounding depends on the order of addition).
func snapshotsEqual(a, b HistogramSnapshot) bool {
	if math.Abs(a.StdDev-b.StdDev) > 1e-12*b.StdDev {
		return false
	}
	a.StdDev = b.StdDev
	return a == b
}

func TestHistogramResetIntervals(t *testing.T) {
	h := NewHistogram()
	h.Update(10)
	h.Update(20)
	h.SnapshotAndReset()
	h.Update(1)
	got := h.SnapshotAndReset()
	want := HistogramSnapshot{Count: 3, Sum: 31, IntervalCount: 1, Min: 1, Max: 1, Mean: 1, P50: 1, P75: 1, P95: 1, P99: 1, P999: 1}
	if got != want {
		t.Errorf("second interval: %+v, want %+v", got, want)
	}
	if got, want := h.SnapshotAndReset(), (HistogramSnapshot{Count: 3, Sum: 31}); got != want {
		t.Errorf("empty interval: %+v, want %+v", got, want)
	}
}

func TestHistogramMerge(t *testing.T) {
	a, b, both := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 1000 {
		v := float64(i) * 0.37
		if i%3 == 0 {
			a.Update(v)
		} else {
			b.Update(v)
		}
		both.Update(v)
	}
	a.Merge(b)
	got, want := a.Snapshot(), both.Snapshot()
	// Sums are added in a different order.
	if math.Abs(got.Sum-want.Sum) > 1e-9*want.Sum || math.Abs(got.Mean-want.Mean) > 1e-9*want.Mean {
		t.Errorf("sum, mean = %v, %v; want %v, %v", got.Sum, got.Mean, want.Sum, want.Mean)
	}
	got.Sum, got.Mean, got.StdDev = want.Sum, want.Mean, want.StdDev
	if got != want {
		t.Errorf("merged: %+v, want %+v", got, want)
	}
	if s := b.Snapshot(); s.Count != 666 {
		t.Errorf("source count %d after merge, want 666", s.Count)
	}
	a.Merge(NewHistogram())
	if s := a.Snapshot(); s.Count != 1000 {
		t.Errorf("count %d after merging an empty histogram, want 1000", s.Count)
	}
}

// Negative values: Count, Sum, Min, Max and Mean are exact; percentiles and
// StdDev are the documented approximation (every negative value taken as 0
// clamped to [Min, Max]). This pins the documented numbers.
func TestHistogramNegativeValuesDocumented(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 100; i++ {
		h.Update(-float64(i))
	}
	s := h.Snapshot()
	if s.Count != 100 || s.Sum != -5050 || s.Min != -100 || s.Max != -1 || s.Mean != -50.5 {
		t.Fatalf("exact fields: %+v", s)
	}
	if s.P50 != -1 || s.P999 != -1 {
		t.Errorf("percentiles %v..%v, documented as Max (-1)", s.P50, s.P999)
	}
	if math.Abs(s.StdDev-49.7) > 0.05 {
		t.Errorf("StdDev %v, documented as about 49.7", s.StdDev)
	}
}
