package apptuittest

import (
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/ql"
)

// stored is one accepted point.
type stored struct {
	metric string
	tags   map[string]string
	ms     int64 // Unix milliseconds
	value  float64
}

// memStore keeps every accepted point in arrival order and an index of series
// by metric and tag set for queries. It is safe for concurrent use.
type memStore struct {
	mu     sync.Mutex
	points []stored
	// index: metric -> canonical tag key -> positions in points
	index map[string]map[string][]int
}

func (m *memStore) add(ps []stored) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.index == nil {
		m.index = map[string]map[string][]int{}
	}
	for _, p := range ps {
		byTags := m.index[p.metric]
		if byTags == nil {
			byTags = map[string][]int{}
			m.index[p.metric] = byTags
		}
		k := ql.TagKey(p.tags)
		byTags[k] = append(byTags[k], len(m.points))
		m.points = append(m.points, p)
	}
}

func (m *memStore) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.points = nil
	m.index = nil
}

func (m *memStore) dataPoints() []apptuit.DataPoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]apptuit.DataPoint, len(m.points))
	for i, p := range m.points {
		out[i] = apptuit.DataPoint{
			Metric:    p.metric,
			Tags:      maps.Clone(p.tags),
			Timestamp: time.UnixMilli(p.ms).UTC(),
			Value:     p.value,
		}
	}
	return out
}

// Fetch implements ql.Store. A point's time is its timestamp truncated to
// the second; of several points of a series in the same second the one that
// arrived last wins.
func (m *memStore) Fetch(metric string, start, end int64) []ql.Series {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ql.Series
	for _, idx := range m.index[metric] {
		var pts []ql.Point
		for _, i := range idx {
			p := m.points[i]
			t := p.ms / 1000
			if p.ms < 0 && p.ms%1000 != 0 {
				t--
			}
			if t < start || t > end {
				continue
			}
			pts = append(pts, ql.Point{T: t, V: p.value})
		}
		if len(pts) == 0 {
			continue
		}
		// Stable: among equal seconds, arrival order is kept; keep the last.
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].T < pts[j].T })
		dedup := pts[:0]
		for _, p := range pts {
			if n := len(dedup); n > 0 && dedup[n-1].T == p.T {
				dedup[n-1] = p
				continue
			}
			dedup = append(dedup, p)
		}
		out = append(out, ql.Series{Metric: metric, Tags: maps.Clone(m.points[idx[0]].tags), Points: dedup})
	}
	return out
}
