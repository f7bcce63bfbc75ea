package store

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/internal/ql"
)

// Store keeps the accepted points of each series in compressed chunks
// (chunk.go): a few bytes a point, most often 1 to 3. A series is its key
// (opentsdb.SeriesKeyOf: metric and sorted tags, one string, which the
// tags are read from) and its chunks in time order; appending to the last
// chunk is the usual case, points earlier than a series' last are merged
// into the chunks they belong to (re-encoding those). Several points at
// one timestamp are all kept, in the order they arrived; reads see the
// last.
//
// The store counts the bytes it holds (samples, series, keys) and, beyond
// maxBytes, evicts the chunks with the oldest points first, through a
// min-heap of series keyed by their oldest point. Points older than the
// retention are evicted too, exactly (a chunk's leading points are marked
// skipped until the whole chunk goes).
//
// It is safe for concurrent use: writers take mu, readers its read lock.
type Store struct {
	mu         sync.RWMutex
	byKey      map[string]*series
	byMetric   map[string][]*series
	heads      seriesHeap
	peakSeries int   // most series held since byKey was last rebuilt (shrink)
	points     int   // visible samples stored
	bytes      int64 // bytes counted against maxBytes
	maxBytes   int64
	nextSeq    uint64 // arrival number of the next point (the data log's)
	accepted   uint64 // points committed since the store was made: points + evictAge + evictMem
	evictAge   uint64 // points dropped by retention (also those too old on arrival)
	evictMem   uint64 // points dropped by maxBytes
	retention  time.Duration
	now        func() time.Time
	log        *dataLog // nil without a data directory
	merge      mergeScratch
}

// series is one stored series: its key and its chunks, in time order
// (chunk i's last point is at or before chunk i+1's first). Only the last
// chunk is ever appended to in place; others are replaced, never written.
//
// A new series keeps its chunks' array (first) and its first chunk's bytes
// (small) inside itself, until they outgrow them: a series of a point or
// two is then two heap objects (itself and its key), less for the garbage
// collector to mark when there are millions.
type series struct {
	key       string
	chunks    []chunk
	heapIdx   int32
	metricIdx int32
	first     [1]chunk
	small     [16]byte
}

// inline reports whether the chunks' array is the series' own.
func (s *series) inline() bool { return cap(s.chunks) > 0 && &s.chunks[:1][0] == &s.first[0] }

// descBytes returns the heap bytes of the chunks' descriptors: none while
// they are in the series.
func (s *series) descBytes() int64 {
	if s.inline() {
		return 0
	}
	return int64(cap(s.chunks)) * chunkDescSize
}

// bytesOf returns the heap bytes of chunk bytes b: none while they are the
// series' small buffer.
func (s *series) bytesOf(b []byte) int64 {
	if cap(b) == 0 || &b[:1][0] == &s.small[0] {
		return 0
	}
	return int64(cap(b))
}

// setChunks replaces the chunks' slice and returns the change in heap
// bytes of the descriptors.
func (s *series) setChunks(chunks []chunk) int64 {
	before, wasInline := s.descBytes(), s.inline()
	s.chunks = chunks
	if wasInline && !s.inline() {
		s.first[0] = chunk{} // not to keep what it pointed to
	}
	return s.descBytes() - before
}

// chunk describes one chunk of a series (chunk.go).
type chunk struct {
	b    []byte
	minT int64  // timestamp of the first visible point (after skip)
	maxT int64  // timestamp of the last point
	n    uint16 // points encoded
	skip uint16 // leading points dropped by the retention, not visible
}

func (c *chunk) visible() int { return int(c.n) - int(c.skip) }

// Estimated bytes of the structures that hold a series and a metric, beyond
// their strings and chunks: the series struct, its map slot (a Go map slot,
// at its usual load), its entries in the metric's list and the heap; a
// metric's map slot and list header. Measured by TestLoadAccounting.
const (
	seriesOverhead = 112 + 48 + 40
	chunkDescSize  = 48
	metricOverhead = 96
)

// New returns an empty store that keeps no point older than retention
// (0: any age) by the clock now, and at most about maxBytes bytes of
// points, series and keys (0: no bound), evicting the chunks with the
// oldest points beyond those.
func New(retention time.Duration, maxBytes int64, now func() time.Time) *Store {
	return &Store{
		byKey:     map[string]*series{},
		byMetric:  map[string][]*series{},
		retention: retention,
		maxBytes:  maxBytes,
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

// Commit stores the points of b, then evicts what retention and the byte
// budget no longer allow. With a data directory the batch is logged first;
// a logging error stores nothing.
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
	before := st.evictAge + st.evictMem
	st.applyBatch(b, st.nextSeq)
	st.evict()
	if st.log != nil {
		st.log.maybeCompact(st)
	}
	return int(st.evictAge + st.evictMem - before), nil
}

// Stats counts what a Store holds and has done since it was made.
type Stats struct {
	Points          int    // points stored now
	Series          int    // series stored now
	Bytes           int64  // bytes stored now, as counted against the budget
	Accepted        uint64 // points committed: Points + EvictedByAge + EvictedByMemory
	EvictedByAge    uint64 // points evicted by the retention, including those too old on arrival
	EvictedByMemory uint64 // points evicted by the byte budget
}

// Stats returns the store's counts. Its cost is constant.
func (st *Store) Stats() Stats {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return Stats{Points: st.points, Series: len(st.byKey), Bytes: st.bytes, Accepted: st.accepted,
		EvictedByAge: st.evictAge, EvictedByMemory: st.evictMem}
}

// sample is one point of a series.
type sample struct {
	t int64
	v float64
}

// pending is what one commit does to one series.
type pending struct {
	s    *series
	app  int32 // its appender among the commit's; -1: none, -2: to make
	late int32 // its late points among the commit's; -1: none
}

// commit is the state of one applyBatch: appenders for the series of more
// than one point in the batch (the others share one), and the late points
// (earlier than their series' last).
type commit struct {
	apps    []appender
	scratch appender
	late    [][]sample
}

// applyBatch adds the points of b, numbered from base for the data log.
// Points older than the retention are counted as evicted and not stored.
// The caller holds mu.
func (st *Store) applyBatch(b *opentsdb.Batch, base uint64) {
	ps := make([]pending, b.NumSeries())
	var cm commit
	for i := range ps {
		key, n := b.Series(i)
		ps[i] = pending{s: st.seriesFor(key), app: -1, late: -1}
		if n > 1 {
			ps[i].app = -2
		}
	}
	cutoff := st.cutoff()
	b.Each(func(i int, ms int64, v float64) {
		p := &ps[i]
		if p.s == nil {
			return
		}
		st.accepted++
		if ms < cutoff {
			st.evictAge++
			return
		}
		st.points++
		if n := len(p.s.chunks); n > 0 && ms < p.s.chunks[n-1].maxT {
			if p.late < 0 {
				p.late = int32(len(cm.late))
				cm.late = append(cm.late, nil)
			}
			cm.late[p.late] = append(cm.late[p.late], sample{ms, v})
			return
		}
		st.appendTo(&cm, p, ms, v)
	})
	st.nextSeq = max(st.nextSeq, base+uint64(b.Len()))
	for i := range ps {
		if s := ps[i].s; s != nil {
			if ps[i].late >= 0 {
				st.mergeLate(s, cm.late[ps[i].late])
			}
			st.settle(s)
		}
	}
}

// seriesFor returns the series of key, creating it. It returns nil for a
// malformed key.
func (st *Store) seriesFor(key string) *series {
	if s := st.byKey[key]; s != nil {
		return s
	}
	metric, _, ok := splitKey(key)
	if !ok {
		return nil
	}
	s := &series{key: key, heapIdx: -1}
	s.chunks = s.first[:0]
	st.byKey[key] = s
	list, ok := st.byMetric[metric]
	if !ok {
		st.bytes += metricOverhead + int64(len(metric))
		metric = strings.Clone(metric) // not a part of this key, which may go first
	}
	s.metricIdx = int32(len(list))
	st.byMetric[metric] = append(list, s)
	st.bytes += seriesOverhead + int64(len(key))
	return s
}

// appendTo appends (t, v), at or after the series' last point, to its last
// chunk, or to a new chunk when that one is full or cannot take the value.
// The caller holds mu.
func (st *Store) appendTo(cm *commit, p *pending, t int64, v float64) {
	s := p.s
	a := &cm.scratch
	if p.app >= 0 {
		a = &cm.apps[p.app]
	} else {
		if p.app == -2 { // the first of several points: keep an appender
			p.app = int32(len(cm.apps))
			cm.apps = append(cm.apps, appender{})
			a = &cm.apps[p.app]
		}
		if n := len(s.chunks); n > 0 {
			*a = loadAppender(s.chunks[n-1].b, int(s.chunks[n-1].n))
		}
	}
	if n := len(s.chunks); n > 0 {
		c := &s.chunks[n-1]
		if !a.full() && a.add(t, v) {
			st.bytes += s.bytesOf(a.w.b) - s.bytesOf(c.b)
			c.b, c.n, c.maxT = a.w.b, uint16(a.n), t
			return
		}
		st.seal(s, c)
	}
	buf := s.small[:0]
	if len(s.chunks) > 0 {
		buf = make([]byte, 0, 32)
	}
	a.start(buf, t, v)
	st.bytes += s.setChunks(append(s.chunks, chunk{b: a.w.b, minT: t, maxT: t, n: 1}))
	st.bytes += s.bytesOf(a.w.b)
}

// seal gives back the spare capacity of a chunk that takes no more points.
func (st *Store) seal(s *series, c *chunk) {
	if heap := s.bytesOf(c.b); heap > 0 && cap(c.b)-len(c.b) > len(c.b)/8 {
		b := make([]byte, len(c.b))
		copy(b, c.b)
		st.bytes += int64(cap(b)) - heap
		c.b = b
	}
}

// mergeScratch holds buffers reused by mergeLate.
type mergeScratch struct {
	old, merged []sample
	enc         []byte
}

// mergeLate merges the late points of a commit (earlier than the series'
// last point, in arrival order) into the chunks they belong to, each
// re-encoded: a point goes to the last chunk that starts at or before it
// (the first chunk if none does), after the points already there at its
// timestamp. The cost is a decoding and an encoding of each chunk touched.
// The caller holds mu.
func (st *Store) mergeLate(s *series, late []sample) {
	slices.SortStableFunc(late, func(a, b sample) int { return cmp.Compare(a.t, b.t) })
	for p := 0; p < len(late); {
		j := max(0, sort.Search(len(s.chunks), func(i int) bool { return s.chunks[i].minT > late[p].t })-1)
		end := len(late)
		if j+1 < len(s.chunks) {
			next := s.chunks[j+1].minT
			end = p + sort.Search(len(late)-p, func(i int) bool { return late[p+i].t >= next })
		}
		repl := st.remerge(&s.chunks[j], late[p:end])
		st.bytes -= s.bytesOf(s.chunks[j].b)
		st.bytes += s.setChunks(slices.Replace(s.chunks, j, j+1, repl...))
		for _, c := range repl {
			st.bytes += s.bytesOf(c.b)
		}
		p = end
	}
	if cap(st.merge.merged) > 64<<10 { // not to keep a large commit's buffers
		st.merge = mergeScratch{}
	}
}

// remerge returns the chunks holding the visible points of c and the
// points add (sorted by time), those of c first at equal timestamps.
func (st *Store) remerge(c *chunk, add []sample) []chunk {
	m := &st.merge
	m.old = m.old[:0]
	var d decoder
	d.reset(c.b, int(c.n))
	for i := 0; d.next(); i++ {
		if i >= int(c.skip) {
			m.old = append(m.old, sample{d.t, d.value()})
		}
	}
	m.merged = m.merged[:0]
	i, j := 0, 0
	for i < len(m.old) || j < len(add) {
		if j == len(add) || (i < len(m.old) && m.old[i].t <= add[j].t) {
			m.merged = append(m.merged, m.old[i])
			i++
		} else {
			m.merged = append(m.merged, add[j])
			j++
		}
	}
	return st.encodeChunks(m.merged)
}

// encodeChunks encodes samples (in time order) into as many chunks as they
// need, each in bytes of its exact size.
func (st *Store) encodeChunks(samples []sample) []chunk {
	var out []chunk
	var a appender
	done := func() { // the last chunk is complete: its bytes, out of the scratch
		out[len(out)-1].b = append([]byte(nil), a.w.b...)
		st.merge.enc = a.w.b
	}
	for _, x := range samples {
		if len(out) > 0 && !a.full() && a.add(x.t, x.v) {
			c := &out[len(out)-1]
			c.n, c.maxT = uint16(a.n), x.t
			continue
		}
		if len(out) > 0 {
			done()
		}
		a.start(st.merge.enc, x.t, x.v)
		out = append(out, chunk{minT: x.t, maxT: x.t, n: 1})
	}
	if len(out) > 0 {
		done()
	}
	return out
}

// settle puts s back in its place after a commit: forgotten without
// chunks, else at its oldest point in the heap. The caller holds mu.
func (st *Store) settle(s *series) {
	if len(s.chunks) == 0 {
		st.remove(s)
		return
	}
	st.heads.place(s)
}

// evict drops points older than the retention, then the chunks with the
// oldest points while the store holds more than maxBytes. The caller holds
// mu.
func (st *Store) evict() {
	if cutoff := st.cutoff(); cutoff != math.MinInt64 {
		for len(st.heads) > 0 && st.heads[0].t < cutoff {
			s := st.heads[0].s
			c := &s.chunks[0]
			if c.maxT < cutoff {
				st.evictAge += uint64(c.visible())
				st.dropFirst(s)
				continue
			}
			// Skip the chunk's points before the cutoff.
			var d decoder
			d.reset(c.b, int(c.n))
			k := 0
			for i := 0; d.next(); i++ {
				if i < int(c.skip) {
					continue
				}
				if d.t >= cutoff {
					c.minT = d.t
					break
				}
				k++
			}
			c.skip += uint16(k)
			st.evictAge += uint64(k)
			st.points -= k
			st.heads.place(s)
		}
	}
	for st.maxBytes > 0 && st.bytes > st.maxBytes && len(st.heads) > 0 {
		s := st.heads[0].s
		st.evictMem += uint64(s.chunks[0].visible())
		st.dropFirst(s)
	}
	st.shrink()
}

// dropFirst drops the first chunk of s, and s with its last. The caller
// holds mu.
func (st *Store) dropFirst(s *series) {
	c := &s.chunks[0]
	st.points -= c.visible()
	st.bytes -= s.bytesOf(c.b)
	*c = chunk{}
	st.bytes += s.setChunks(s.chunks[1:]) // the slice loses a slot of its capacity
	if len(s.chunks) == 0 {
		st.remove(s)
		return
	}
	st.heads.place(s)
}

// remove forgets s (its points are already uncounted). The caller holds mu.
func (st *Store) remove(s *series) {
	delete(st.byKey, s.key)
	metric, _, _ := splitKey(s.key)
	list := st.byMetric[metric]
	last := list[len(list)-1]
	list[s.metricIdx] = last
	last.metricIdx = s.metricIdx
	list[len(list)-1] = nil
	switch list = list[:len(list)-1]; {
	case len(list) == 0:
		delete(st.byMetric, metric)
		st.bytes -= metricOverhead + int64(len(metric))
	case cap(list) > 64 && cap(list) > 4*len(list):
		st.byMetric[metric] = slices.Clip(slices.Clone(list))
	default:
		st.byMetric[metric] = list
	}
	if s.heapIdx >= 0 {
		heap.Remove(&st.heads, int(s.heapIdx))
	}
	st.bytes -= seriesOverhead + int64(len(s.key)) + s.descBytes()
	for _, c := range s.chunks {
		st.bytes -= s.bytesOf(c.b)
	}
	s.chunks = nil
}

// shrink gives back the space of the series map and the heap once they
// hold less than half of what they once did (Go maps do not shrink): a
// copy of each, whose cost is amortized over the evictions that emptied
// them. The caller holds mu.
func (st *Store) shrink() {
	n := len(st.byKey)
	if st.peakSeries < 1024 || n > st.peakSeries/2 {
		st.peakSeries = max(st.peakSeries, n)
		return
	}
	byKey := make(map[string]*series, n)
	for k, s := range st.byKey {
		byKey[k] = s
	}
	st.byKey = byKey
	st.heads = slices.Clip(slices.Clone(st.heads))
	st.peakSeries = n
}

// seriesHeap is a min-heap of series by their oldest visible point, which
// each entry keeps beside the series (comparing entries reads no series).
type seriesHeap []heapEntry

type heapEntry struct {
	t int64 // s.chunks[0].minT
	s *series
}

// place puts s in the heap, or back in its place after its oldest point
// changed.
func (h *seriesHeap) place(s *series) {
	if s.heapIdx < 0 {
		heap.Push(h, s)
		return
	}
	(*h)[s.heapIdx].t = s.chunks[0].minT
	heap.Fix(h, int(s.heapIdx))
}

func (h seriesHeap) Len() int           { return len(h) }
func (h seriesHeap) Less(i, j int) bool { return h[i].t < h[j].t }
func (h seriesHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].s.heapIdx, h[j].s.heapIdx = int32(i), int32(j)
}
func (h *seriesHeap) Push(x any) {
	s := x.(*series)
	s.heapIdx = int32(len(*h))
	*h = append(*h, heapEntry{s.chunks[0].minT, s})
}
func (h *seriesHeap) Pop() any {
	old := *h
	s := old[len(old)-1].s
	old[len(old)-1] = heapEntry{}
	*h = old[:len(old)-1]
	s.heapIdx = -1
	return s
}

// Points returns every stored point, for tests: the series in the order of
// their keys, each one's points in time order (of several at one
// timestamp, in arrival order). Its cost is a decoding of every point.
func (st *Store) Points() []apptuit.DataPoint {
	var out []apptuit.DataPoint
	st.Read(func(r Reader) {
		keys := make([]string, 0, len(st.byKey))
		for k := range st.byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, ok := r.view(st.byKey[k])
			if !ok {
				continue
			}
			v.all(func(t int64, val float64) bool {
				out = append(out, apptuit.DataPoint{Metric: v.Metric(), Tags: v.Tags().Map(), Timestamp: time.UnixMilli(t).UTC(), Value: val})
				return true
			})
		}
	})
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
			if len(pts) > 0 {
				out = append(out, ql.Series{Metric: metric, Tags: v.Tags().Map(), Points: pts})
			}
			return true
		})
	})
	return out, ok
}

// dump calls f with the key and the visible points of each series (in
// time and then arrival order, several at one timestamp included), at most
// max at a time, for a snapshot of the store (persist.go), until f fails.
// The caller holds mu.
func (st *Store) dump(max int, f func(key string, ms []int64, val []float64) error) error {
	ms, val := make([]int64, 0, max), make([]float64, 0, max)
	r := Reader{st: st, cutoff: st.cutoff()}
	for _, s := range st.byKey {
		v, ok := r.view(s)
		if !ok {
			continue
		}
		var err error
		v.all(func(t int64, x float64) bool {
			ms, val = append(ms, t), append(val, x)
			if len(ms) == max {
				err = f(s.key, ms, val)
				ms, val = ms[:0], val[:0]
			}
			return err == nil
		})
		if err == nil && len(ms) > 0 {
			err = f(s.key, ms, val)
		}
		if err != nil {
			return err
		}
		ms, val = ms[:0], val[:0]
	}
	return nil
}
