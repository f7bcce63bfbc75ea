package store

import (
	"math"
	"sort"
)

// This file is the store's read API for the query endpoints (the Apptuit
// query language, PromQL, the web page). Everything reads the stored
// chunks in place, under the store's read lock, without copying:
//
//	st.Read(func(r Reader) {
//		r.EachSeries("http.requests", func(metric string, tags Tags) bool {
//			code, _ := tags.Get("code")
//			return code == "500"
//		}, func(v View) bool {
//			v.Samples(fromMs, toMs, func(ms int64, val float64) bool {
//				... // in timestamp order, one sample per millisecond
//				return true
//			})
//			return true
//		})
//	})
//
// Views are valid only inside the read callback; f must not retain them,
// nor call back into the store's writing methods (Commit), which would
// deadlock. An Iter taken from a view (View.Iter) is the exception: it is
// read after the callback, without the lock. Points older than the
// retention are invisible even before they are evicted.

// Read runs f with the store read-locked. Writers (puts) wait until f
// returns, so f should not block.
func (st *Store) Read(f func(r Reader)) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	f(Reader{st: st, cutoff: st.cutoff()})
}

// Reader reads the store inside (*Store).Read.
type Reader struct {
	st     *Store
	cutoff int64
}

// EachSeries calls f for each series of metric (every series when metric is
// "") that has a point within the retention and whose metric and tags
// satisfy match (every series when match is nil), in no particular order,
// until f returns false. Its cost is one map lookup plus one call of match
// per series of metric (per series stored when metric is "").
func (r Reader) EachSeries(metric string, match func(metric string, tags Tags) bool, f func(v View) bool) {
	visit := func(s *series) bool {
		v, ok := r.view(s)
		if !ok || (match != nil && !match(v.Metric(), v.Tags())) {
			return true
		}
		return f(v)
	}
	if metric != "" {
		for _, s := range r.st.byMetric[metric] {
			if !visit(s) {
				return
			}
		}
		return
	}
	for _, list := range r.st.byMetric {
		for _, s := range list {
			if !visit(s) {
				return
			}
		}
	}
}

// Metrics calls f with each metric name and its number of series (including
// series whose points are all past the retention but not yet evicted), in no
// particular order, until f returns false.
func (r Reader) Metrics(f func(metric string, series int) bool) {
	for m, list := range r.st.byMetric {
		if !f(m, len(list)) {
			return
		}
	}
}

// Counts returns the points and series stored.
func (r Reader) Counts() (points, series int) { return r.st.points, len(r.st.byKey) }

func (r Reader) view(s *series) (View, bool) {
	return View{s: s, cutoff: r.cutoff}, s.chunks[len(s.chunks)-1].maxT >= r.cutoff
}

// View is one stored series seen inside (*Store).Read.
type View struct {
	s      *series
	cutoff int64 // the retention's: older points are invisible
}

// Key returns the series' key (opentsdb.SeriesKeyOf): its identity, and a
// stable order among the series of a metric.
func (v View) Key() string { return v.s.key }

// Metric returns the series' metric name.
func (v View) Metric() string {
	m, _, _ := nextString(v.s.key)
	return m
}

// Tags returns the series' tags.
func (v View) Tags() Tags {
	_, rest, _ := nextString(v.s.key)
	return Tags{rest}
}

// Len returns the number of points stored (two points at the same
// timestamp count twice). Its cost is a count per chunk, plus the decoding
// of one chunk when the retention cuts through it.
func (v View) Len() int {
	n := 0
	for i := range v.s.chunks {
		n += v.s.chunks[i].visible()
	}
	for i := range v.s.chunks {
		c := &v.s.chunks[i]
		if c.minT >= v.cutoff {
			break
		}
		if c.maxT < v.cutoff {
			n -= c.visible()
			continue
		}
		it := Iter{chunks: v.s.chunks[i : i+1], mint: math.MinInt64, maxt: v.cutoff - 1}
		for _, ok := it.raw(); ok; _, ok = it.raw() {
			n--
		}
		break
	}
	return n
}

// First returns the oldest timestamp, in Unix milliseconds.
func (v View) First() int64 {
	it := v.iter(v.cutoff, math.MaxInt64)
	it.Next()
	return it.t
}

// Last returns the newest timestamp (Unix milliseconds) and its value: of
// several points at that timestamp, the one that arrived last. Its cost is
// the decoding of one chunk.
func (v View) Last() (ms int64, val float64) {
	c := &v.s.chunks[len(v.s.chunks)-1]
	var d decoder
	d.reset(c.b, int(c.n))
	for d.next() {
	}
	return d.t, d.value()
}

// Samples calls f for each point with fromMs <= ms <= toMs in timestamp
// order, one per millisecond (of several points at one timestamp, the one
// that arrived last), until f returns false. Its cost is a binary search
// plus the decoding of the chunks visited.
func (v View) Samples(fromMs, toMs int64, f func(ms int64, val float64) bool) {
	it := v.iter(fromMs, toMs)
	for it.Next() {
		if !f(it.t, it.v) {
			return
		}
	}
}

// all calls f for every visible point, including several at one
// timestamp, in time and then arrival order, until f returns false.
func (v View) all(f func(ms int64, val float64) bool) {
	it := v.iter(math.MinInt64, math.MaxInt64)
	for t, ok := it.raw(); ok; t, ok = it.raw() {
		if !f(t, it.d.value()) {
			return
		}
	}
}

// Seconds calls f for each second t with start <= t <= end (Unix seconds)
// that has a point, in order, with the value of the last point of that
// second: the latest timestamp, and of several there the one that arrived
// last (the Apptuit query language's reading of the store), until f
// returns false.
func (v View) Seconds(start, end int64, f func(t int64, val float64) bool) {
	it := v.iter(secToMs(start), satAdd(secToMs(end), 999))
	if !it.Next() {
		return
	}
	for {
		sec, val := floorDiv(it.t, 1000), it.v
		more := it.Next()
		for more && floorDiv(it.t, 1000) == sec {
			val = it.v // deduplicated by millisecond, in time order: the last is the one
			more = it.Next()
		}
		if !f(sec, val) || !more {
			return
		}
	}
}

// iter returns an iterator over the visible points in [mint, maxt] that
// reads the store's chunks in place: for use under the read lock.
func (v View) iter(mint, maxt int64) Iter {
	mint = max(mint, v.cutoff)
	cs := v.s.chunks
	lo := sort.Search(len(cs), func(i int) bool { return cs[i].maxT >= mint })
	hi := sort.Search(len(cs), func(i int) bool { return cs[i].minT > maxt })
	if lo >= hi {
		return Iter{}
	}
	return Iter{chunks: cs[lo:hi], mint: mint, maxt: maxt}
}

// Iter returns an iterator over the points with mint <= ms <= maxt, one per
// millisecond as Samples, that may be used after Read returns (it holds
// the chunks it needs; the last chunk of the series, the only one written
// in place, is copied). It also returns an estimate of the points stored in
// that range, the cost of reading it: those of the chunks within it, and a
// share of those at its ends in proportion to the time they span in it (at
// least one a chunk: 0 only when no chunk's time span meets the range).
// Its cost is a binary search and the copy of the chunks' descriptors and
// of at most one chunk.
func (v View) Iter(mint, maxt int64) (it *Iter, points int) {
	in := v.iter(mint, maxt)
	it = &in
	if len(in.chunks) == 0 {
		return it, 0
	}
	head := &in.chunks[len(in.chunks)-1] == &v.s.chunks[len(v.s.chunks)-1]
	in.chunks = append([]chunk(nil), in.chunks...)
	if head {
		last := &in.chunks[len(in.chunks)-1]
		last.b = append([]byte(nil), last.b...)
	}
	for i := range in.chunks {
		c := &in.chunks[i]
		if c.minT >= in.mint && c.maxT <= in.maxt {
			points += c.visible()
			continue
		}
		span := float64(c.maxT) - float64(c.minT) + 1
		in := float64(min(c.maxT, in.maxt)) - float64(max(c.minT, in.mint)) + 1
		points += max(1, int(float64(c.visible())*in/span))
	}
	return it, points
}

// Iter iterates over the points of one series in time order, one per
// millisecond: of several points at one timestamp, the last to arrive.
type Iter struct {
	chunks     []chunk // chunks left; the first is being decoded when started
	started    bool
	d          decoder
	mint, maxt int64
	t          int64   // the current point
	v          float64 //
	nt         int64   // the next raw point, if pending
	nv         float64 //
	pending    bool
	valid      bool // t, v hold a point
	eof        bool
}

// raw reads the next point in [mint, maxt], of any timestamp.
func (it *Iter) raw() (int64, bool) {
	for len(it.chunks) > 0 {
		c := &it.chunks[0]
		if c.maxT < it.mint {
			it.chunks, it.started = it.chunks[1:], false
			continue
		}
		if !it.started {
			if c.minT > it.maxt {
				break
			}
			it.d.reset(c.b, int(c.n))
			for range c.skip {
				it.d.next()
			}
			it.started = true
		}
		if !it.d.next() {
			it.chunks, it.started = it.chunks[1:], false
			continue
		}
		if it.d.t < it.mint {
			continue
		}
		if it.d.t > it.maxt {
			break
		}
		return it.d.t, true
	}
	it.chunks = nil
	return 0, false
}

// Next moves to the next point and reports whether there is one.
func (it *Iter) Next() bool {
	if !it.pending {
		if it.eof {
			it.valid = false
			return false
		}
		t, ok := it.raw()
		if !ok {
			it.eof, it.valid = true, false
			return false
		}
		it.nt, it.nv = t, it.d.value()
	}
	it.t, it.v, it.pending, it.valid = it.nt, it.nv, false, true
	for !it.eof {
		t, ok := it.raw()
		if !ok {
			it.eof = true
			break
		}
		if t != it.t {
			it.nt, it.nv, it.pending = t, it.d.value(), true
			break
		}
		it.v = it.d.value() // a later arrival at the same timestamp
	}
	return true
}

// SeekTo moves to the first point at or after t, unless the current point
// already is, and reports whether there is one.
func (it *Iter) SeekTo(t int64) bool {
	if it.valid && it.t >= t {
		return true
	}
	if it.pending && it.nt < t {
		it.pending = false
	}
	it.mint = max(it.mint, t)
	for it.Next() {
		if it.t >= t {
			return true
		}
	}
	return false
}

// At returns the current point.
func (it *Iter) At() (int64, float64) { return it.t, it.v }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// secToMs converts Unix seconds to milliseconds, saturating.
func secToMs(s int64) int64 {
	switch {
	case s > math.MaxInt64/1000:
		return math.MaxInt64
	case s < math.MinInt64/1000:
		return math.MinInt64
	}
	return s * 1000
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
