package store

import (
	"container/heap"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/internal/ql"
)

// Store keeps the accepted points in columns per series: for each series,
// interned once by its key, three parallel slices of Unix milliseconds,
// values and arrival numbers, sorted by (milliseconds, arrival). A point
// costs 24 bytes (up to 48 while a column's spare capacity is unused); a
// series costs its strings, a tag map and about 200 bytes.
//
// The arrival number (seq) orders points across series for Points and
// decides which of two points of a second a query keeps. Old points are
// evicted by age (retention) and count (maxPoints), oldest timestamp first,
// through a min-heap of series keyed by their oldest point.
//
// It is safe for concurrent use: writers take mu, readers its read lock.
type Store struct {
	mu        sync.RWMutex
	byKey     map[string]*series
	byMetric  map[string][]*series
	heads     seriesHeap
	points    int
	nextSeq   uint64
	accepted  uint64 // points committed since the last reset: points + evictAge + evictMax
	evictAge  uint64 // points dropped by retention (also those too old on arrival)
	evictMax  uint64 // points dropped by maxPoints
	retention time.Duration
	maxPoints int
	now       func() time.Time
	log       *dataLog // nil without a data directory
}

// series is one stored series. ms, val and seq are parallel and sorted by
// (ms, seq). tags is never modified after creation, so readers may share it.
type series struct {
	key       string
	metric    string
	tags      map[string]string
	ms        []int64
	val       []float64
	seq       []uint64
	heapIdx   int
	metricIdx int
	start     int // len(ms) before the batch being applied; -1 outside apply
}

// New returns an empty store that keeps no point older than retention
// (0: any age) by the clock now, and at most maxPoints points (0: no
// bound), evicting the points with the oldest timestamps beyond those.
func New(retention time.Duration, maxPoints int, now func() time.Time) *Store {
	return &Store{
		byKey:     map[string]*series{},
		byMetric:  map[string][]*series{},
		retention: retention,
		maxPoints: maxPoints,
		now:       now,
	}
}

// cutoff returns the oldest millisecond timestamp retention keeps, or
// math.MinInt64 without retention.
func (st *Store) cutoff() int64 {
	if st.retention <= 0 {
		return math.MinInt64
	}
	return st.now().UnixMilli() - st.retention.Milliseconds()
}

// Commit stores the points of b, numbering them in order from the next
// arrival number, then evicts what retention and maxPoints no longer allow.
// With a data directory the batch is logged first; a logging error stores
// nothing.
// It returns how many points the commit evicted (including points of the
// batch).
func (st *Store) Commit(b *opentsdb.Batch) (evicted int, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.log != nil {
		if err := st.log.appendBatch(b, st.nextSeq); err != nil {
			return 0, err
		}
	}
	before := st.evictAge + st.evictMax
	st.applyBatch(b, st.nextSeq)
	st.evict()
	if st.log != nil {
		st.log.maybeCompact(st)
	}
	return int(st.evictAge + st.evictMax - before), nil
}

// Stats counts what a Store holds and has done since it was made (or
// since Reset).
type Stats struct {
	Points         int    // points stored now
	Series         int    // series stored now
	Accepted       uint64 // points committed: Points + EvictedByAge + EvictedByCount
	EvictedByAge   uint64 // points evicted by the retention, including those too old on arrival
	EvictedByCount uint64 // points evicted by the bound on points
}

// Stats returns the store's counts. Its cost is constant.
func (st *Store) Stats() Stats {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return Stats{Points: st.points, Series: len(st.byKey), Accepted: st.accepted, EvictedByAge: st.evictAge, EvictedByCount: st.evictMax}
}

// applyBatch adds the points of b with arrival numbers base, base+1, …
// Points older than the retention are counted as evicted and not stored.
// The caller holds mu.
func (st *Store) applyBatch(b *opentsdb.Batch, base uint64) {
	refs := make([]*series, b.NumSeries())
	for i := range refs {
		key, n := b.Series(i)
		s := st.seriesFor(key)
		if s != nil && n > 0 {
			// Room for the batch at once: no garbage from growing.
			s.ms, s.val, s.seq = slices.Grow(s.ms, n), slices.Grow(s.val, n), slices.Grow(s.seq, n)
		}
		refs[i] = s
	}
	cutoff := st.cutoff()
	seq := base
	b.Each(func(i int, ms int64, v float64) {
		s := refs[i]
		if s != nil && ms >= cutoff {
			s.ms = append(s.ms, ms)
			s.val = append(s.val, v)
			s.seq = append(s.seq, seq)
			st.points++
			st.accepted++
		} else if s != nil {
			st.accepted++
			st.evictAge++
		}
		seq++
	})
	if seq > st.nextSeq {
		st.nextSeq = seq
	}
	for _, s := range refs {
		if s != nil {
			st.settle(s)
		}
	}
}

// seriesFor returns the series of key, creating it (and marking where the
// batch's points start). It returns nil for a malformed key.
func (st *Store) seriesFor(key string) *series {
	s := st.byKey[key]
	if s == nil {
		metric, tags, err := opentsdb.ParseSeriesKey(key)
		if err != nil {
			return nil
		}
		s = &series{key: key, metric: metric, tags: tags, heapIdx: -1}
		st.byKey[key] = s
		s.metricIdx = len(st.byMetric[metric])
		st.byMetric[metric] = append(st.byMetric[metric], s)
	}
	s.start = len(s.ms)
	return s
}

// settle restores the order of s after a batch appended to it, then its
// place in the heap. In-order points (the usual case) cost nothing more;
// out-of-order ones a sort of the batch's points and a merge with the
// stored points after the first of them.
func (st *Store) settle(s *series) {
	k := s.start
	s.start = -1
	n := len(s.ms)
	if n == 0 {
		st.remove(s)
		return
	}
	if k == n {
		return // nothing new (the batch's points were past the retention)
	}
	sorted := k == 0 || s.before(k-1, k)
	for i := k + 1; sorted && i < n; i++ {
		sorted = s.before(i-1, i)
	}
	if !sorted {
		sort.Sort(columns{s, k})
		if k > 0 && !s.before(k-1, k) {
			s.merge(k)
		}
	}
	if s.heapIdx < 0 {
		heap.Push(&st.heads, s)
	} else {
		heap.Fix(&st.heads, s.heapIdx)
	}
}

// before reports whether point i sorts before point j.
func (s *series) before(i, j int) bool {
	return s.ms[i] < s.ms[j] || (s.ms[i] == s.ms[j] && s.seq[i] < s.seq[j])
}

// merge merges the sorted runs [0, k) and [k, len) of s.
func (s *series) merge(k int) {
	n := len(s.ms)
	// First stored point that sorts after the first new one.
	i := sort.Search(k, func(j int) bool {
		return s.ms[j] > s.ms[k] || (s.ms[j] == s.ms[k] && s.seq[j] > s.seq[k])
	})
	ams := append([]int64(nil), s.ms[i:k]...)
	aval := append([]float64(nil), s.val[i:k]...)
	aseq := append([]uint64(nil), s.seq[i:k]...)
	a, b, d := 0, k, i
	for a < len(ams) && b < n {
		if ams[a] < s.ms[b] || (ams[a] == s.ms[b] && aseq[a] < s.seq[b]) {
			s.ms[d], s.val[d], s.seq[d] = ams[a], aval[a], aseq[a]
			a++
		} else {
			s.ms[d], s.val[d], s.seq[d] = s.ms[b], s.val[b], s.seq[b]
			b++
		}
		d++
	}
	for ; a < len(ams); a, d = a+1, d+1 {
		s.ms[d], s.val[d], s.seq[d] = ams[a], aval[a], aseq[a]
	}
}

// columns sorts the points of a series from index off on.
type columns struct {
	s   *series
	off int
}

func (c columns) Len() int           { return len(c.s.ms) - c.off }
func (c columns) Less(i, j int) bool { return c.s.before(c.off+i, c.off+j) }
func (c columns) Swap(i, j int) {
	s, i, j := c.s, c.off+i, c.off+j
	s.ms[i], s.ms[j] = s.ms[j], s.ms[i]
	s.val[i], s.val[j] = s.val[j], s.val[i]
	s.seq[i], s.seq[j] = s.seq[j], s.seq[i]
}

// evict drops points older than the retention, then the oldest points while
// there are more than maxPoints. The caller holds mu.
func (st *Store) evict() {
	if cutoff := st.cutoff(); cutoff != math.MinInt64 {
		for len(st.heads) > 0 && st.heads[0].ms[0] < cutoff {
			s := st.heads[0]
			k := sort.Search(len(s.ms), func(i int) bool { return s.ms[i] >= cutoff })
			st.evictAge += uint64(k)
			st.trim(s, k)
		}
	}
	for st.maxPoints > 0 && st.points > st.maxPoints {
		s := st.heads[0]
		// Drop the points of the oldest series up to the next series'
		// oldest point (at least one), no more than the excess.
		next := int64(math.MaxInt64)
		for _, c := range []int{1, 2} {
			if c < len(st.heads) {
				next = min(next, st.heads[c].ms[0])
			}
		}
		k := max(1, countUpTo(s.ms, next))
		k = min(k, st.points-st.maxPoints)
		st.evictMax += uint64(k)
		st.trim(s, k)
	}
}

// countUpTo returns how many of the sorted ms are <= t: a short scan (the
// usual case when series interleave), then a binary search.
func countUpTo(ms []int64, t int64) int {
	for i := 0; i < 8; i++ {
		if i == len(ms) || ms[i] > t {
			return i
		}
	}
	return 8 + sort.Search(len(ms)-8, func(i int) bool { return ms[8+i] > t })
}

// trim drops the first k points of s. The caller holds mu.
func (st *Store) trim(s *series, k int) {
	st.points -= k
	if k == len(s.ms) {
		st.remove(s)
		return
	}
	s.ms, s.val, s.seq = s.ms[k:], s.val[k:], s.seq[k:]
	if n := len(s.ms); cap(s.ms) > 64 && cap(s.ms) > 4*n {
		// Give back the space of evicted points.
		s.ms = append(make([]int64, 0, n+n/4), s.ms...)
		s.val = append(make([]float64, 0, n+n/4), s.val...)
		s.seq = append(make([]uint64, 0, n+n/4), s.seq...)
	}
	heap.Fix(&st.heads, s.heapIdx)
}

// remove forgets s (its points are already uncounted). The caller holds mu.
func (st *Store) remove(s *series) {
	delete(st.byKey, s.key)
	list := st.byMetric[s.metric]
	last := list[len(list)-1]
	list[s.metricIdx] = last
	last.metricIdx = s.metricIdx
	list[len(list)-1] = nil
	if list = list[:len(list)-1]; len(list) == 0 {
		delete(st.byMetric, s.metric)
	} else {
		st.byMetric[s.metric] = list
	}
	if s.heapIdx >= 0 {
		heap.Remove(&st.heads, s.heapIdx)
	}
	s.ms, s.val, s.seq = nil, nil, nil
}

// seriesHeap is a min-heap of series by their oldest point.
type seriesHeap []*series

func (h seriesHeap) Len() int           { return len(h) }
func (h seriesHeap) Less(i, j int) bool { return h[i].ms[0] < h[j].ms[0] }
func (h seriesHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *seriesHeap) Push(x any) {
	s := x.(*series)
	s.heapIdx = len(*h)
	*h = append(*h, s)
}
func (h *seriesHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.heapIdx = -1
	return s
}

// Points returns every stored point in arrival order, for tests: its cost
// is a sort of all the points.
func (st *Store) Points() []apptuit.DataPoint {
	st.mu.RLock()
	defer st.mu.RUnlock()
	cutoff := st.cutoff()
	type ref struct {
		seq uint64
		s   *series
		i   int
	}
	refs := make([]ref, 0, st.points)
	for _, s := range st.byKey {
		for i, seq := range s.seq {
			if s.ms[i] >= cutoff {
				refs = append(refs, ref{seq, s, i})
			}
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].seq < refs[j].seq })
	out := make([]apptuit.DataPoint, len(refs))
	for i, r := range refs {
		out[i] = apptuit.DataPoint{
			Metric:    r.s.metric,
			Tags:      maps.Clone(r.s.tags),
			Timestamp: time.UnixMilli(r.s.ms[r.i]).UTC(),
			Value:     r.s.val[r.i],
		}
	}
	return out
}

// Fetch implements ql.Store. A point's time is its timestamp truncated to
// the second; of several points of a series in the same second the one with
// the latest timestamp wins (of several at that timestamp, the one that
// arrived last). It stops, returning false, once the series hold more
// than max points.
func (st *Store) Fetch(metric string, start, end int64, max int) ([]ql.Series, bool) {
	var out []ql.Series
	n, ok := 0, true
	st.Read(func(r Reader) {
		r.EachSeries(metric, nil, func(v View) bool {
			// Counted first, so that nothing is allocated past max and
			// the points are allocated once.
			k := 0
			v.Seconds(start, end, func(int64, float64) bool { k++; return n+k <= max })
			if n += k; n > max {
				ok = false
				return false
			}
			if k == 0 {
				return true
			}
			pts := make([]ql.Point, 0, k)
			v.Seconds(start, end, func(t int64, val float64) bool {
				pts = append(pts, ql.Point{T: t, V: val})
				return true
			})
			out = append(out, ql.Series{Metric: metric, Tags: maps.Clone(v.s.tags), Points: pts})
			return true
		})
	})
	return out, ok
}
