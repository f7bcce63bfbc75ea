package apptuittest

import (
	"unicode/utf8"

	"github.com/apptuit-go/apptuit/internal/ql"
)

// seriesView is what the introspection endpoints read of a series.
type seriesView struct {
	metric    string
	key       string // canonical tags, for sorting
	tags      map[string]string
	points    int
	first     int64 // Unix ms
	last      int64 // Unix ms of the newest point
	lastValue float64
}

// eachSeries calls f, under the store's lock, for each series that match
// accepts (every series when match is nil), and returns the points, series
// and metrics stored. It costs a pass over the points.
func (m *memStore) eachSeries(match func(string, map[string]string) bool, f func(seriesView)) (points, series, metrics int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for metric, byTags := range m.index {
		metrics++
		for k, idx := range byTags {
			series++
			tags := m.points[idx[0]].tags
			if match != nil && !match(metric, tags) {
				continue
			}
			v := seriesView{metric: metric, key: k, tags: tags, points: len(idx), first: m.points[idx[0]].ms, last: m.points[idx[0]].ms}
			for _, i := range idx {
				p := m.points[i]
				v.first = min(v.first, p.ms)
				if p.ms >= v.last {
					v.last, v.lastValue = p.ms, p.value
				}
			}
			f(v)
		}
	}
	_ = ql.TagKey
	return len(m.points), series, metrics
}

// requestLog returns the records kept, oldest first, the number of
// requests received and the number of records the log keeps.
func (s *Server) requestLog() ([]Request, uint64, int) {
	log := s.Requests()
	return log, uint64(len(log)), len(log)
}

// cut returns s cut to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
