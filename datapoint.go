package apptuit

import (
	"fmt"
	"iter"
	"maps"
	"time"
)

// DataPoint is one value of one series at one instant: what
// POST /api/put takes as one element of its JSON array.
//
// Tags are merged with the client's global tags when the point is sent (the
// point's own tags win). Timestamp is sent as the client's Precision says:
// by default in Unix seconds, or in Unix milliseconds when it has a
// sub-second part; Value must be finite.
type DataPoint struct {
	Metric    string
	Tags      map[string]string
	Timestamp time.Time
	Value     float64
}

// TimeSeries is a metric name, a set of tags and a sequence of points. Its
// name and tags are validated once, when it is created, so adding a point
// costs an append to two slices and no allocation beyond their growth.
//
// A TimeSeries is not safe for concurrent mutation; concurrent reads are
// safe.
type TimeSeries struct {
	metric string
	tags   map[string]string
	// Timestamps are kept as Unix milliseconds: 8 bytes a point, exact for
	// everything the wire format and the query API can carry.
	ts   []int64
	vals []float64
}

// NewTimeSeries returns an empty series for metric and tags. The metric name
// and tag keys must follow the Apptuit naming rule (Unicode letters and
// digits, '.', '-', '_', '/'); tags may be empty here and be supplied by the
// client's global tags at send time. The tags map is copied.
func NewTimeSeries(metric string, tags map[string]string) (*TimeSeries, error) {
	if err := checkName("metric name", metric); err != nil {
		return nil, fmt.Errorf("apptuit: new time series: %w", err)
	}
	for k := range tags {
		if err := checkName("tag key", k); err != nil {
			return nil, fmt.Errorf("apptuit: new time series %q: %w", metric, err)
		}
	}
	if len(tags) > MaxTags {
		return nil, fmt.Errorf("apptuit: new time series %q: %d tags, at most %d are allowed", metric, len(tags), MaxTags)
	}
	return &TimeSeries{metric: metric, tags: maps.Clone(tags)}, nil
}

// newSeriesUnchecked builds a series from trusted input (a server's query
// response) without validation.
func newSeriesUnchecked(metric string, tags map[string]string, n int) *TimeSeries {
	return &TimeSeries{metric: metric, tags: tags, ts: make([]int64, 0, n), vals: make([]float64, 0, n)}
}

// Add appends a point. Timestamps are kept to the millisecond. Values are
// checked when the series is sent: NaN and ±Inf are rejected then.
func (s *TimeSeries) Add(t time.Time, v float64) {
	s.ts = append(s.ts, t.UnixMilli())
	s.vals = append(s.vals, v)
}

// AddUnix appends a point whose timestamp is given in Unix seconds. It is Add
// without the time.Time conversion.
func (s *TimeSeries) AddUnix(sec int64, v float64) {
	s.ts = append(s.ts, sec*1000)
	s.vals = append(s.vals, v)
}

// Len returns the number of points.
func (s *TimeSeries) Len() int { return len(s.ts) }

// Metric returns the metric name.
func (s *TimeSeries) Metric() string { return s.metric }

// Tags returns a copy of the series' tags.
func (s *TimeSeries) Tags() map[string]string { return maps.Clone(s.tags) }

// At returns the i-th point. It panics if i is out of range, like a slice
// index.
func (s *TimeSeries) At(i int) (time.Time, float64) {
	return time.UnixMilli(s.ts[i]).UTC(), s.vals[i]
}

// Points iterates over the points in the order they were added.
func (s *TimeSeries) Points() iter.Seq2[time.Time, float64] {
	return func(yield func(time.Time, float64) bool) {
		for i := range s.ts {
			if !yield(time.UnixMilli(s.ts[i]).UTC(), s.vals[i]) {
				return
			}
		}
	}
}

// Reset removes all points and keeps the allocated capacity, so a series can
// be filled and sent again without allocating.
func (s *TimeSeries) Reset() {
	s.ts = s.ts[:0]
	s.vals = s.vals[:0]
}
