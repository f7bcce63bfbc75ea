package apptuittest

import (
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/internal/ql"
)

// memStore keeps every accepted point, in arrival order, and indexes them
// by series: simple rather than compact (about 40 bytes a point), as
// befits a fake that lives for one test. It is safe for concurrent use.
type memStore struct {
	mu       sync.RWMutex
	pts      []storedPoint
	byKey    map[string]*memSeries
	byMetric map[string][]*memSeries
}

type storedPoint struct {
	s  *memSeries
	ms int64 // Unix milliseconds
	v  float64
}

type memSeries struct {
	metric string
	tags   map[string]string // never modified after creation
	idx    []int             // its points' positions in pts, in arrival order
}

func (st *memStore) init() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.pts, st.byKey, st.byMetric = nil, map[string]*memSeries{}, map[string][]*memSeries{}
}

// add stores the points of b (opentsdb.Put's Commit); it evicts nothing.
func (st *memStore) add(b *opentsdb.Batch) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	refs := make([]*memSeries, b.NumSeries())
	for i := range refs {
		key, _ := b.Series(i)
		s := st.byKey[key]
		if s == nil {
			metric, tags, err := opentsdb.ParseSeriesKey(key)
			if err != nil {
				continue // the batch made the key: cannot happen
			}
			s = &memSeries{metric: metric, tags: tags}
			st.byKey[key] = s
			st.byMetric[metric] = append(st.byMetric[metric], s)
		}
		refs[i] = s
	}
	b.Each(func(i int, ms int64, v float64) {
		if s := refs[i]; s != nil {
			s.idx = append(s.idx, len(st.pts))
			st.pts = append(st.pts, storedPoint{s, ms, v})
		}
	})
	return 0, nil
}

func (st *memStore) counts() (points, series int) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.pts), len(st.byKey)
}

func (st *memStore) points() []apptuit.DataPoint {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]apptuit.DataPoint, len(st.pts))
	for i, p := range st.pts {
		out[i] = apptuit.DataPoint{Metric: p.s.metric, Tags: maps.Clone(p.s.tags), Timestamp: time.UnixMilli(p.ms).UTC(), Value: p.v}
	}
	return out
}

// SeriesInfo describes one stored series.
type SeriesInfo struct {
	Metric    string
	Tags      map[string]string // a copy
	Points    int               // points stored (two at the same timestamp count twice)
	First     time.Time         // timestamp of the oldest point, UTC
	Last      time.Time         // timestamp of the newest point, UTC
	LastValue float64           // value at Last (of several points there, the last to arrive)
}

func (st *memStore) series() []SeriesInfo {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]SeriesInfo, 0, len(st.byKey))
	for _, s := range st.byKey {
		info := SeriesInfo{Metric: s.metric, Tags: maps.Clone(s.tags), Points: len(s.idx)}
		first, last := st.pts[s.idx[0]], st.pts[s.idx[0]]
		for _, i := range s.idx[1:] {
			p := st.pts[i]
			if p.ms < first.ms {
				first = p
			}
			if p.ms >= last.ms { // of several at Last, the last to arrive
				last = p
			}
		}
		info.First, info.Last, info.LastValue = time.UnixMilli(first.ms).UTC(), time.UnixMilli(last.ms).UTC(), last.v
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Metric != out[j].Metric {
			return out[i].Metric < out[j].Metric
		}
		return ql.TagKey(out[i].Tags) < ql.TagKey(out[j].Tags)
	})
	return out
}

// Fetch implements ql.Store. A point's time is its timestamp truncated to
// the second; of several points of a series in the same second the one with
// the latest timestamp wins (of several at that timestamp, the one that
// arrived last), so that the answer does not depend on the order in which
// concurrent puts arrived. It stops, returning false, once it has seen
// more than max points in the range.
func (st *memStore) Fetch(metric string, start, end int64, max int) ([]ql.Series, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []ql.Series
	n := 0
	for _, s := range st.byMetric[metric] {
		var in []storedPoint // in arrival order
		for _, i := range s.idx {
			if p := st.pts[i]; floorDiv(p.ms, 1000) >= start && floorDiv(p.ms, 1000) <= end {
				if n++; n > max {
					return out, false
				}
				in = append(in, p)
			}
		}
		sort.SliceStable(in, func(i, j int) bool { return in[i].ms < in[j].ms })
		var pts []ql.Point
		for i, p := range in {
			if i+1 < len(in) && floorDiv(in[i+1].ms, 1000) == floorDiv(p.ms, 1000) {
				continue // a later point of the same second follows
			}
			pts = append(pts, ql.Point{T: floorDiv(p.ms, 1000), V: p.v})
		}
		if len(pts) > 0 {
			out = append(out, ql.Series{Metric: metric, Tags: maps.Clone(s.tags), Points: pts})
		}
	}
	return out, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
