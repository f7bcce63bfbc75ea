package store

import (
	"math"
	"sort"
)

// This file is the store's read API for the query endpoints (the Apptuit
// query language here, PromQL and a web page later). Everything reads the
// stored columns in place, under the store's read lock, without copying:
//
//	st.Read(func(r Reader) {
//		r.EachSeries("http.requests", func(metric string, tags map[string]string) bool {
//			return tags["code"] == "500"
//		}, func(v View) bool {
//			v.samples(fromMs, toMs, func(ms int64, val float64) bool {
//				... // in timestamp order, one sample per millisecond
//				return true
//			})
//			return true
//		})
//	})
//
// Views are valid only inside the read callback; f must not retain them, nor
// modify the tag maps it is shown, nor call back into the store's writing
// methods (Commit, Reset), which would deadlock. Points older than the
// retention are invisible even before they are evicted.

// Read runs f with the store read-locked. Writers (puts) wait until f
// returns, so f should not block.
func (st *Store) Read(f func(r Reader)) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	f(Reader{st: st, cutoff: st.cutoff()})
}

// Reader reads the store inside (*Store).read.
type Reader struct {
	st     *Store
	cutoff int64
}

// EachSeries calls f for each series of metric (every series when metric is
// "") that has a point within the retention and whose metric and tags
// satisfy match (every series when match is nil), in no particular order,
// until f returns false. Its cost is one map lookup plus one call of match
// per series of metric (per series stored when metric is "").
func (r Reader) EachSeries(metric string, match func(metric string, tags map[string]string) bool, f func(v View) bool) {
	visit := func(s *series) bool {
		v, ok := r.view(s)
		if !ok || (match != nil && !match(s.metric, s.tags)) {
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
	lo := 0
	if r.cutoff != math.MinInt64 && s.ms[0] < r.cutoff {
		lo = sort.Search(len(s.ms), func(i int) bool { return s.ms[i] >= r.cutoff })
	}
	return View{s: s, lo: lo}, lo < len(s.ms)
}

// View is one stored series seen inside (*Store).read.
type View struct {
	s  *series
	lo int // first point within the retention
}

// Key returns the series' key (opentsdb.SeriesKeyOf): its identity, and a
// stable order among the series of a metric.
func (v View) Key() string { return v.s.key }

// Metric returns the series' metric name.
func (v View) Metric() string { return v.s.metric }

// Tags returns the series' tags: shared, not to be modified.
func (v View) Tags() map[string]string { return v.s.tags }

// Len returns the number of points stored (two points at the same
// timestamp count twice).
func (v View) Len() int { return len(v.s.ms) - v.lo }

// First returns the oldest timestamp, in Unix milliseconds.
func (v View) First() int64 { return v.s.ms[v.lo] }

// Last returns the newest timestamp (Unix milliseconds) and its value: of
// several points at that timestamp, the one that arrived last.
func (v View) Last() (ms int64, val float64) {
	n := len(v.s.ms) - 1
	return v.s.ms[n], v.s.val[n]
}

// Samples calls f for each point with fromMs <= ms <= toMs in timestamp
// order, one per millisecond (of several points at one timestamp, the one
// that arrived last), until f returns false. Its cost is a binary search
// plus the points visited.
func (v View) Samples(fromMs, toMs int64, f func(ms int64, val float64) bool) {
	s := v.s
	i := v.lo + sort.Search(len(s.ms)-v.lo, func(i int) bool { return s.ms[v.lo+i] >= fromMs })
	for ; i < len(s.ms) && s.ms[i] <= toMs; i++ {
		if i+1 < len(s.ms) && s.ms[i+1] == s.ms[i] {
			continue // a later arrival at the same timestamp follows
		}
		if !f(s.ms[i], s.val[i]) {
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
	s := v.s
	lo, hi := secToMs(start), satAdd(secToMs(end), 999)
	i := v.lo + sort.Search(len(s.ms)-v.lo, func(i int) bool { return s.ms[v.lo+i] >= lo })
	for i < len(s.ms) && s.ms[i] <= hi {
		t := floorDiv(s.ms[i], 1000)
		for i+1 < len(s.ms) && s.ms[i+1] <= hi && floorDiv(s.ms[i+1], 1000) == t {
			i++ // sorted by (ms, arrival): the last of the run is the one
		}
		if !f(t, s.val[i]) {
			return
		}
		i++
	}
}

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
