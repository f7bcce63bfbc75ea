package metrics

import (
	"math"
	"sync"
	"sync/atomic"
)

// Sketch geometry. A positive value v is placed by the bits of its float64
// representation: the 11 exponent bits and the top subBits mantissa bits
// form a log-linear index, so every power of two is split into subBuckets
// buckets of equal width. The widest bucket relative to its lower bound is
// [1, 1+1/64), so reporting a bucket as 2·lo·hi/(lo+hi) is within
// (hi-lo)/(hi+lo) ≤ 1/129 ≈ 0.78 % of any value in it.
const (
	subBits    = 6
	subBuckets = 1 << subBits // per power of two
	octaves    = 62           // powers of two covered by each sketch
	numBuckets = octaves*subBuckets + 2
	underflow  = 0              // values below the range: zero, negatives, tiny positives
	overflow   = numBuckets - 1 // values at or above the top of the range
	spillAt    = 1 << 31        // a bucket counter this high moves into the spill map
)

// sketch is a fixed-size, lock-free log-bucket histogram (in the manner of
// DDSketch, with a bit-twiddling index instead of a logarithm). Adding a
// value is one atomic add on a uint32 counter. A counter that reaches 2^31
// is moved into a 64-bit spill map under mu, so counts never wrap; that
// costs a lock only once per 2^31 additions to one bucket.
//
// Bucket 0 (underflow) holds values below 2^minExp, including zero and
// negative values; the last bucket (overflow) holds values at or above
// 2^(minExp+octaves). Buckets 1..numBuckets-2 hold [2^minExp, 2^(minExp+62)).
type sketch struct {
	counts [numBuckets]atomic.Uint32
	lo     float64 // 2^minExp, the lower bound of bucket 1
	base   int     // index offset: bits>>(52-subBits) - base is the bucket

	mu    sync.Mutex       // serialises reads, resets and spills
	spill map[int32]uint64 // counts moved out of counters that reached spillAt; guarded by mu
}

// init sets the range of s to [2^minExp, 2^(minExp+octaves)).
func (s *sketch) init(minExp int) {
	s.lo = math.Ldexp(1, minExp)
	s.base = (1023+minExp)<<subBits - 1
}

// index returns the bucket of v. v must not be NaN.
func (s *sketch) index(v float64) int {
	if !(v >= s.lo) {
		return underflow
	}
	i := int(math.Float64bits(v)>>(52-subBits)) - s.base
	if i > overflow {
		i = overflow
	}
	return i
}

// add counts one value in bucket i.
func (s *sketch) add(i int) {
	if s.counts[i].Add(1) >= spillAt {
		s.spillBucket(i)
	}
}

// addN adds n to bucket i without letting the counter wrap.
func (s *sketch) addN(i int, n uint64) {
	for n > 0 {
		x := min(n, spillAt/2)
		if s.counts[i].Add(uint32(x)) >= spillAt {
			s.spillBucket(i)
		}
		n -= x
	}
}

func (s *sketch) spillBucket(i int) {
	s.mu.Lock()
	if c := s.counts[i].Swap(0); c != 0 {
		if s.spill == nil {
			s.spill = make(map[int32]uint64)
		}
		s.spill[int32(i)] += uint64(c)
	}
	s.mu.Unlock()
}

// load copies the bucket counts into dst and returns their total. With reset
// it also zeroes them: every add is then counted by exactly one load. s.mu
// must be held.
func (s *sketch) load(dst *[numBuckets]uint64, reset bool) (n uint64) {
	for i := range s.counts {
		c := s.counts[i].Load()
		if reset && c != 0 {
			c = s.counts[i].Swap(0)
		}
		dst[i] = uint64(c)
		n += uint64(c)
	}
	for i, c := range s.spill {
		dst[i] += c
		n += c
	}
	if reset {
		clear(s.spill)
	}
	return n
}

// merge adds the counts of src to s. Neither mutex may be held.
func (s *sketch) merge(src *sketch) (n uint64) {
	var counts [numBuckets]uint64
	src.mu.Lock()
	n = src.load(&counts, false)
	src.mu.Unlock()
	for i, c := range counts {
		if c != 0 {
			s.addN(i, c)
		}
	}
	return n
}

// value is the value reported for bucket i, clamped to [lo, hi], the exact
// minimum and maximum of the counted values.
func (s *sketch) value(i int, lo, hi float64) float64 {
	var v float64
	switch i {
	case underflow:
		v = 0
	case overflow:
		v = hi
		if math.IsInf(hi, 1) {
			v = math.Float64frombits(uint64(overflow+s.base) << (52 - subBits)) // top of the range
		}
	default:
		a := math.Float64frombits(uint64(i+s.base) << (52 - subBits))
		b := math.Float64frombits(uint64(i+1+s.base) << (52 - subBits))
		v = 2 * a * b / (a + b)
	}
	return min(max(v, lo), hi)
}

// fixExtremes returns lo and hi, replacing an extreme that is still at its
// empty value (±Inf) by the value of the first or last non-empty bucket.
// That happens only when a snapshot races with an update that has counted
// its bucket but not yet its extremes.
func (s *sketch) fixExtremes(counts *[numBuckets]uint64, lo, hi float64) (float64, float64) {
	if !math.IsInf(lo, 0) && !math.IsInf(hi, 0) {
		return lo, hi
	}
	first, last := -1, -1
	for i, c := range counts {
		if c != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0, 0
	}
	inf := math.Inf(1)
	if math.IsInf(lo, 0) {
		lo = s.value(first, -inf, inf)
	}
	if math.IsInf(hi, 0) {
		hi = s.value(last, -inf, inf)
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// quantiles is the fixed set a snapshot reports.
var quantiles = [...]float64{0.5, 0.75, 0.95, 0.99, 0.999}

// summary holds the statistics computed from loaded counts.
type summary struct {
	stdDev float64
	p      [len(quantiles)]float64
}

// summarize computes the standard deviation (about mean) and the quantiles
// of the n values counted in counts, whose exact extremes are lo and hi. The
// q-quantile is the value of rank ceil(q·n) (nearest rank), within 0.78 %.
func (s *sketch) summarize(counts *[numBuckets]uint64, n uint64, mean, lo, hi float64) (r summary) {
	if n == 0 {
		return r
	}
	var ranks [len(quantiles)]uint64
	for j, q := range quantiles {
		ranks[j] = max(1, uint64(math.Ceil(q*float64(n))))
	}
	var seen uint64
	var sq float64
	j := 0
	for i, c := range counts {
		if c == 0 {
			continue
		}
		v := s.value(i, lo, hi)
		d := v - mean
		sq += float64(c) * d * d
		seen += c
		for j < len(ranks) && ranks[j] <= seen {
			r.p[j] = v
			j++
		}
	}
	if n > 1 {
		r.stdDev = math.Sqrt(sq / float64(n-1))
	}
	return r
}
