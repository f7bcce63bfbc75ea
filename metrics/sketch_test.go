package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// exactQuantile is the nearest-rank q-quantile of sorted: the value of rank
// ceil(q·n).
func exactQuantile(sorted []float64, q float64) float64 {
	r := max(1, int(math.Ceil(q*float64(len(sorted)))))
	return sorted[r-1]
}

func relErr(got, want float64) float64 { return math.Abs(got-want) / math.Abs(want) }

// TestPercentileAccuracy checks the bound: at most 1 % relative
// error at p50, p99 and p99.9 on 1,000,000 log-normal samples.
func TestPercentileAccuracy(t *testing.T) {
	const n = 1_000_000
	for _, tc := range []struct {
		name      string
		mu, sigma float64
	}{
		{"mu=0,sigma=1", 0, 1},
		{"mu=-3,sigma=2", -3, 2},
		{"mu=10,sigma=0.5", 10, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			h := NewHistogram()
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = math.Exp(tc.mu + tc.sigma*rng.NormFloat64())
				h.Update(xs[i])
			}
			slices.Sort(xs)
			s := h.Snapshot()
			for _, c := range []struct {
				q   float64
				got float64
			}{{0.5, s.P50}, {0.75, s.P75}, {0.95, s.P95}, {0.99, s.P99}, {0.999, s.P999}} {
				want := exactQuantile(xs, c.q)
				if e := relErr(c.got, want); e > 0.01 {
					t.Errorf("p%v = %v, exact %v: relative error %.4f%% > 1%%", c.q*100, c.got, want, e*100)
				} else {
					t.Logf("p%v = %.6g, exact %.6g: relative error %.4f%%", c.q*100, c.got, want, e*100)
				}
			}
			if s.Count != n || s.Min != xs[0] || s.Max != xs[n-1] {
				t.Errorf("count, min, max = %d, %v, %v; want %d, %v, %v", s.Count, s.Min, s.Max, n, xs[0], xs[n-1])
			}
		})
	}
}

// TestTimerPercentileAccuracy is TestPercentileAccuracy for durations.
func TestTimerPercentileAccuracy(t *testing.T) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(3, 4))
	tm := NewTimer()
	xs := make([]float64, n)
	for i := range xs {
		d := time.Duration(math.Exp(math.Log(2e6) + 1.5*rng.NormFloat64())) // around 2ms
		tm.Update(d)
		xs[i] = d.Seconds()
	}
	slices.Sort(xs)
	s := tm.Snapshot().Histogram
	for _, c := range []struct{ q, got float64 }{{0.5, s.P50}, {0.99, s.P99}, {0.999, s.P999}} {
		if want := exactQuantile(xs, c.q); relErr(c.got, want) > 0.01 {
			t.Errorf("p%v = %v, exact %v", c.q*100, c.got, want)
		}
	}
}

// TestSketchBucketError checks every bucket: its reported value is within
// 1/129 of both of its bounds, and the index of each bound is right.
func TestSketchBucketError(t *testing.T) {
	for _, minExp := range []int{histogramMinExp, 0} {
		var s sketch
		s.init(minExp)
		inf := math.Inf(1)
		for i := 1; i < overflow; i++ {
			lo := math.Float64frombits(uint64(i+s.base) << (52 - subBits))
			hi := math.Float64frombits(uint64(i+1+s.base) << (52 - subBits))
			if got := s.index(lo); got != i {
				t.Fatalf("index(%v) = %d, want %d", lo, got, i)
			}
			if got := s.index(math.Nextafter(hi, 0)); got != i {
				t.Fatalf("index(just below %v) = %d, want %d", hi, got, i)
			}
			v := s.value(i, -inf, inf)
			if e := max(relErr(v, lo), relErr(v, hi)); e > 1.0/129+1e-15 {
				t.Fatalf("bucket %d [%v, %v): value %v has relative error %v", i, lo, hi, v, e)
			}
		}
	}
}

func TestSketchIndex(t *testing.T) {
	var s sketch
	s.init(histogramMinExp)
	for _, tc := range []struct {
		v    float64
		want int
	}{
		{0, underflow},
		{math.Copysign(0, -1), underflow},
		{-1, underflow},
		{math.Inf(-1), underflow},
		{0x1p-25, underflow},
		{0x1p-24, 1},
		{0x1p-24 * (1 + 1.0/64), 2},
		{1, 24*64 + 1},
		{1.5, 24*64 + 33},
		{0x1p38 * (1 - 1e-16), overflow - 1},
		{0x1p38, overflow},
		{math.MaxFloat64, overflow},
		{math.Inf(1), overflow},
	} {
		if got := s.index(tc.v); got != tc.want {
			t.Errorf("index(%v) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

// TestSketchSpill checks that a bucket counter about to wrap moves its count
// into the spill map and that nothing is lost.
func TestSketchSpill(t *testing.T) {
	var s sketch
	s.init(0)
	s.counts[5].Store(spillAt - 2)
	for range 5 {
		s.add(5)
	}
	var counts [numBuckets]uint64
	s.mu.Lock()
	n := s.load(&counts, false)
	s.mu.Unlock()
	if want := uint64(spillAt + 3); n != want || counts[5] != want {
		t.Errorf("n, counts[5] = %d, %d; want %d", n, counts[5], want)
	}
	s.addN(5, 3<<32)
	s.mu.Lock()
	n = s.load(&counts, true)
	n2 := s.load(&counts, false)
	s.mu.Unlock()
	if want := uint64(spillAt+3) + 3<<32; n != want || n2 != 0 {
		t.Errorf("after addN: n = %d, want %d; after reset %d, want 0", n, want, n2)
	}
}

// TestSize checks the bound of 16 KiB per histogram.
func TestSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		size uintptr
	}{
		{"Histogram", unsafe.Sizeof(Histogram{})},
		{"Timer", unsafe.Sizeof(Timer{})},
	} {
		t.Logf("%s: %d bytes", tc.name, tc.size)
		if tc.size > 16<<10 {
			t.Errorf("%s takes %d bytes, more than 16 KiB", tc.name, tc.size)
		}
	}
}
