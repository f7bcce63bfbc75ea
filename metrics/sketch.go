package metrics

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Sketch geometry. A positive value v is placed by the bits of its float64
// representation: its exponent e picks an octave [2^e, 2^(e+1)), and its
// top subBits mantissa bits pick one of perOctave buckets in it through the
// table subBucket (sketch_tables.go). The table splits every octave into
// buckets of nearly equal ratio hi/lo, as a logarithm would, on boundaries
// that are multiples of 2^e/1024, so that a bucket [lo, hi) reported as
// 2·lo·hi/(lo+hi) is within (hi-lo)/(hi+lo) ≤ maxRelErr of any value in it.
// A logarithmic mapping needs at least 34.7 buckets per octave for 1 %;
// this one uses 36 and guarantees 0.979 %.
//
// Buckets are numbered globally: 0 is the underflow bucket (values below
// the sketch's range: zero, negative and tiny values), 1 + o·perOctave + k
// is bucket k of the o-th octave of the range, and the last is the
// overflow bucket (values at or above the top of the range).
const (
	subBits    = 10 // mantissa bits that index subBucket
	perOctave  = 36 // buckets per power of two
	octaves    = 62 // powers of two covered by each sketch
	numBuckets = octaves*perOctave + 2
	underflow  = 0
	overflow   = numBuckets - 1
	spillAt    = 1 << 31 // a bucket counter this high moves into the spill map

	// maxRelErr bounds the relative error of a bucket's reported value
	// (checked for every bucket by TestSketchBucketError).
	maxRelErr = 0.009785
)

// page holds the counters of one octave. It is allocated the first time a
// value falls in that octave, and is never moved or freed while its sketch
// lives (a reset zeroes its counters), so an updater may use a page it has
// found without a lock.
type page [perOctave]atomic.Uint32

// pageDir is a sketch's directory of pages: pages[j] is the page of octave
// first+j, or nil. A directory only grows: a value in an octave outside the
// window [first, first+len(pages)) makes a new directory covering both,
// published with the same page pointers, so an updater holding the old one
// still finds every page it had.
type pageDir struct {
	first int
	pages []atomic.Pointer[page]
}

// sketch is a lock-free log-bucket histogram in the manner of DDSketch,
// with a table lookup instead of a logarithm, and with its buckets stored
// sparsely: one page of perOctave uint32 counters for each octave that has
// seen a value. Adding a value is one atomic add on a counter, after three
// dependent loads to find it (directory, its slice, the page pointer); the
// first value in
// an octave takes the lock and allocates its page, and the directory when
// the octave lies outside it.
//
// A counter that reaches 2^31 is moved into a 64-bit spill map under mu,
// so counts never wrap; that costs a lock once per 2^31 additions to one
// bucket between resets (and the map, a few bytes per such bucket).
//
// Memory: each octave used costs a page and a directory slot, so a sketch
// holds at most octaves pages and an octaves-entry directory beyond its
// struct (TestMemoryPerMetric checks the bounds).
//
// The range is [2^minExp, 2^(minExp+octaves)) for a minExp fixed by the
// kind of metric (histogramMinExp, timerMinExp), passed to every method as
// a constant so that the index computation folds it in.
type sketch struct {
	dir   atomic.Pointer[pageDir]
	under atomic.Uint32 // the underflow bucket
	over  atomic.Uint32 // the overflow bucket

	mu    sync.Mutex       // serialises snapshots, resets, growth and spills
	spill map[int32]uint64 // counts moved out of counters that reached spillAt; guarded by mu
}

// counter returns the counter of v's bucket and the bucket's number. v must
// not be NaN. It allocates only the first time v's octave is used. The
// updaters inline its fast path (lookup) and call it otherwise.
func (s *sketch) counter(v float64, minExp int) (*atomic.Uint32, int) {
	if !(v >= math.Float64frombits(uint64(1023+minExp)<<52)) { // below 2^minExp
		return &s.under, underflow
	}
	b := math.Float64bits(v)
	o := int(b>>52) - (1023 + minExp)
	if o >= octaves {
		return &s.over, overflow
	}
	k := int(subBucket[b>>(52-subBits)&(1<<subBits-1)])
	if c := s.lookup(o, k); c != nil {
		return c, 1 + o*perOctave + k
	}
	s.mu.Lock()
	p := s.pageLocked(o)
	s.mu.Unlock()
	return &p[k], 1 + o*perOctave + k
}

// lookup returns counter k of the page of octave o, or nil when that page
// is not allocated (or o is out of the range). It is lock-free: three
// dependent loads.
func (s *sketch) lookup(o, k int) *atomic.Uint32 {
	if d := s.dir.Load(); d != nil {
		if j := o - d.first; uint(j) < uint(len(d.pages)) {
			if p := d.pages[j].Load(); p != nil {
				return &p[k]
			}
		}
	}
	return nil
}

// pageLocked returns the page of octave o, allocating it (and a larger
// directory) if needed. s.mu must be held.
func (s *sketch) pageLocked(o int) *page {
	d := s.dir.Load()
	if d == nil || o < d.first || o >= d.first+len(d.pages) {
		first, last := o, o
		if d != nil {
			first, last = min(o, d.first), max(o, d.first+len(d.pages)-1)
		}
		nd := &pageDir{first: first, pages: make([]atomic.Pointer[page], last-first+1)}
		if d != nil {
			for j := range d.pages {
				nd.pages[d.first-first+j].Store(d.pages[j].Load())
			}
		}
		s.dir.Store(nd)
		d = nd
	}
	p := d.pages[o-d.first].Load()
	if p == nil {
		p = new(page)
		d.pages[o-d.first].Store(p)
	}
	return p
}

// spill1 moves the count of counter c of bucket i, which has reached
// spillAt, into the spill map: the updaters' slow path.
func (s *sketch) spill1(c *atomic.Uint32, i int) {
	s.mu.Lock()
	s.spillLocked(c, i)
	s.mu.Unlock()
}

// spillLocked moves the count of counter c of bucket i into the spill map.
// s.mu must be held.
func (s *sketch) spillLocked(c *atomic.Uint32, i int) {
	if n := c.Swap(0); n != 0 {
		if s.spill == nil {
			s.spill = make(map[int32]uint64)
		}
		s.spill[int32(i)] += uint64(n)
	}
}

// addNLocked adds n to bucket i without letting its counter wrap: a large n
// goes straight to the spill map. s.mu must be held.
func (s *sketch) addNLocked(i int, n uint64) {
	var c *atomic.Uint32
	switch i {
	case underflow:
		c = &s.under
	case overflow:
		c = &s.over
	default:
		o := (i - 1) / perOctave
		c = &s.pageLocked(o)[(i-1)%perOctave]
	}
	if n >= spillAt/2 {
		if s.spill == nil {
			s.spill = make(map[int32]uint64)
		}
		s.spill[int32(i)] += n
		return
	}
	if c.Add(uint32(n)) >= spillAt {
		s.spillLocked(c, i)
	}
}

// each calls fn for every bucket that may be non-empty, in ascending order
// of bucket number, with the bucket's counter (spilled counts only exist
// for buckets with a counter). It visits the underflow and overflow
// buckets and the perOctave buckets of every allocated page, so its cost
// is proportional to the octaves used, not to the range. s.mu must be
// held.
func (s *sketch) each(fn func(i int, c *atomic.Uint32)) {
	fn(underflow, &s.under)
	if d := s.dir.Load(); d != nil {
		for j := range d.pages {
			p := d.pages[j].Load()
			if p == nil {
				continue
			}
			base := 1 + (d.first+j)*perOctave
			for k := range p {
				fn(base+k, &p[k])
			}
		}
	}
	fn(overflow, &s.over)
}

// count returns the count of bucket i whose counter is c: its counter plus
// what it spilled. With reset it zeroes both, so that every add is counted
// by exactly one reset. s.mu must be held.
func (s *sketch) count(i int, c *atomic.Uint32, reset bool) uint64 {
	n := uint64(c.Load())
	if reset && n != 0 {
		n = uint64(c.Swap(0))
	}
	if len(s.spill) != 0 {
		if x, ok := s.spill[int32(i)]; ok {
			n += x
			if reset {
				delete(s.spill, int32(i))
			}
		}
	}
	return n
}

// mergeLocked adds the counts of src, not reset, to s, and returns their
// total. Both mutexes must be held (see lockPair); src may be s, whose
// counts then double.
func (s *sketch) mergeLocked(src *sketch) (n uint64) {
	src.each(func(i int, c *atomic.Uint32) {
		if x := src.count(i, c, false); x != 0 {
			n += x
			s.addNLocked(i, x)
		}
	})
	return n
}

// lockPair locks the mutexes of a and b (which may be the same sketch) in
// the order of their addresses, so that a.Merge(b) and b.Merge(a) running
// at once cannot deadlock. unlockPair undoes it.
func lockPair(a, b *sketch) {
	if a == b {
		a.mu.Lock()
		return
	}
	if uintptr(unsafe.Pointer(b)) < uintptr(unsafe.Pointer(a)) {
		a, b = b, a
	}
	a.mu.Lock()
	b.mu.Lock()
}

func unlockPair(a, b *sketch) {
	a.mu.Unlock()
	if a != b {
		b.mu.Unlock()
	}
}

// value is the value reported for bucket i of a sketch whose range starts
// at 2^minExp, clamped to [lo, hi], the exact minimum and maximum of the
// counted values.
func value(i, minExp int, lo, hi float64) float64 {
	var v float64
	switch i {
	case underflow:
		v = 0
	case overflow:
		v = hi
		if math.IsInf(hi, 1) {
			v = math.Ldexp(1, minExp+octaves) // top of the range
		}
	default:
		o, k := (i-1)/perOctave, (i-1)%perOctave
		v = subValue[k] * math.Float64frombits(uint64(1023+minExp+o)<<52) // · 2^(minExp+o), exactly
	}
	return min(max(v, lo), hi)
}

// quantiles is the fixed set a snapshot reports.
var quantiles = [...]float64{0.5, 0.75, 0.95, 0.99, 0.999}

// summary holds the statistics computed from a sketch's counts.
type summary struct {
	n      uint64 // values counted
	lo, hi float64
	stdDev float64
	p      [len(quantiles)]float64
}

// countLocked returns the number of values counted in s, the first and
// last non-empty buckets (-1 when there are none) and the set of non-empty
// pages (bit j for the page at index j of the directory, which has at most
// octaves = 62), without resetting anything: the first of the two passes
// of a snapshot, one atomic load per bucket of the allocated pages. s.mu
// must be held.
func (s *sketch) countLocked() (n uint64, first, last int, used uint64) {
	first, last = -1, -1
	spilled := len(s.spill) != 0
	note := func(i int, x uint64) {
		n += x
		if first < 0 {
			first = i
		}
		last = i
	}
	if x := s.count(underflow, &s.under, false); x != 0 {
		note(underflow, x)
	}
	if d := s.dir.Load(); d != nil {
		for j := range d.pages {
			p := d.pages[j].Load()
			if p == nil {
				continue
			}
			base := 1 + (d.first+j)*perOctave
			for k := range p {
				x := uint64(p[k].Load())
				if spilled {
					x += s.spill[int32(base+k)]
				}
				if x != 0 {
					note(base+k, x)
					used |= 1 << j
				}
			}
		}
	}
	if x := s.count(overflow, &s.over, false); x != 0 {
		note(overflow, x)
	}
	return n, first, last, used
}

// summarizeLocked is the second pass of a snapshot. Given n, first, last
// and used from countLocked, the exact sum of the values and their extremes
// lo and hi, it reads the counts of the used pages again — resetting them
// with reset — and computes the standard deviation about the mean and the
// quantiles. The q-quantile
// is the value of rank ceil(q·n) (nearest rank), within maxRelErr. An
// extreme still at ±Inf (a racing update has counted its bucket but not yet
// its extremes) is replaced by the value of the first or last non-empty
// bucket. Updates that land between the two passes are counted here (r.n
// is exact: every add is counted by exactly one reset) but may shift the
// quantiles by their number of ranks, except those in a page that was
// empty at the first pass: they are left for the next snapshot. Both passes cost in proportion to
// the octaves s uses — an atomic load per bucket of the allocated pages,
// plus a swap and a few floating-point operations per non-empty bucket —
// and allocate nothing. s.mu must be held.
func (s *sketch) summarizeLocked(reset bool, n uint64, first, last int, used uint64, sum, lo, hi float64, minExp int) summary {
	lo, hi = fixExtremes(lo, hi, first, last, minExp)
	w := newRanking(n, sum, lo, hi, minExp)
	if x := s.count(underflow, &s.under, reset); x != 0 {
		w.add(underflow, x)
	}
	if d := s.dir.Load(); d != nil {
		spilled := len(s.spill) != 0
		for jp := range d.pages {
			if used&(1<<jp) == 0 {
				continue
			}
			p := d.pages[jp].Load()
			base := 1 + (d.first+jp)*perOctave
			for k := range p {
				var x uint64
				if spilled {
					x = s.count(base+k, &p[k], reset)
				} else if x = uint64(p[k].Load()); x != 0 && reset {
					x = uint64(p[k].Swap(0))
				}
				if x != 0 {
					w.add(base+k, x)
				}
			}
		}
	}
	if x := s.count(overflow, &s.over, reset); x != 0 {
		w.add(overflow, x)
	}
	r := w.r
	if r.n == 0 {
		return summary{}
	}
	r.lo, r.hi = fixExtremes(lo, hi, w.first, w.last, minExp) // when every value arrived between the passes
	if r.n > 1 {
		r.stdDev = math.Sqrt(w.sq / float64(r.n-1))
	}
	return r
}

// fixExtremes replaces an extreme lo or hi still at ±Inf by the value of
// the first or last non-empty bucket (none when first < 0).
func fixExtremes(lo, hi float64, first, last, minExp int) (float64, float64) {
	if first < 0 {
		return lo, hi
	}
	inf := math.Inf(1)
	if math.IsInf(lo, 0) {
		lo = value(first, minExp, -inf, inf)
	}
	if math.IsInf(hi, 0) {
		hi = value(last, minExp, -inf, inf)
	}
	return min(lo, hi), max(lo, hi)
}

// ranking is the second pass of a snapshot as it reads the non-empty
// buckets in order: the values counted, their squared deviations from the
// mean, and each quantile's value once its rank is reached.
type ranking struct {
	minExp      int
	clo, chi    float64 // the range bucket values are clamped to
	mean        float64
	ranks       [len(quantiles)]uint64
	j           int // the next quantile to reach
	first, last int // the first and last non-empty buckets read
	sq          float64
	r           summary // n and p
}

// newRanking starts the second pass of n values of sum sum between lo
// and hi (lo > hi: none yet).
func newRanking(n uint64, sum, lo, hi float64, minExp int) ranking {
	w := ranking{minExp: minExp, clo: lo, chi: hi, first: -1, last: -1}
	for j, q := range quantiles {
		w.ranks[j] = max(1, uint64(math.Ceil(q*float64(n))))
	}
	if n != 0 {
		w.mean = min(max(sum/float64(n), lo), hi)
	}
	if lo > hi { // still empty: every value arrived after the first pass
		w.clo, w.chi = math.Inf(-1), math.Inf(1)
	}
	return w
}

// add reads bucket i, holding x values.
func (w *ranking) add(i int, x uint64) {
	if w.first < 0 {
		w.first = i
	}
	w.last = i
	v := value(i, w.minExp, w.clo, w.chi)
	d := v - w.mean
	w.sq += float64(x) * d * d
	w.r.n += x
	for w.j < len(w.ranks) && w.ranks[w.j] <= w.r.n {
		w.r.p[w.j] = v
		w.j++
	}
}
