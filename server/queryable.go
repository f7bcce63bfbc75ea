package server

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/apptuit-go/apptuit/server/internal/store"
)

// metricName is the label of a series' metric, "__name__".
const metricName = model.MetricNameLabel

// queryable is the store seen by Prometheus's engine and HTTP API
// (storage.Queryable): a series' labels are its metric as __name__ and its
// tags; its samples are the store's, one per millisecond (of several
// points at one timestamp, the last to arrive).
//
// A querier's Select takes, under the store's read lock, the labels and the
// chunks of each matching series that meet the range (sharing the store's
// chunks, which are never written once complete, and copying only the last,
// which puts append to), and counts the samples in range (estimated from the
// chunks' time spans at its ends): past maxSeries series or maxSamples
// samples in all the selects of one query, it fails with Prometheus's
// ErrTooManySeries or ErrTooManySamplesRead. The engine then decodes the
// chunks as it iterates, without the lock.
type queryable struct {
	st         *store.Store
	maxSeries  int
	maxSamples int
}

func (q *queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{q: q, mint: mint, maxt: maxt}, nil
}

type querier struct {
	q          *queryable
	mint, maxt int64
	series     int // selected so far
	samples    int // in the ranges selected so far
}

func (*querier) Close() error { return nil }

// Select returns the series that match every matcher and have samples in
// the hinted range (the querier's without hints), with those samples.
func (qr *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := qr.mint, qr.maxt
	if hints != nil {
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	wantSamples := hints == nil || hints.Func != "series"
	var out []storage.Series
	var err error
	qr.each(ms, func(v store.View) bool {
		if err = ctx.Err(); err != nil {
			return false
		}
		it, n := v.Iter(mint, maxt)
		if n == 0 {
			return true
		}
		if !wantSamples {
			n = 1 // a series lookup reads one sample: the proof
		}
		if qr.samples += n; qr.samples > qr.q.maxSamples {
			err = promql.ErrTooManySamplesRead(fmt.Sprintf("query execution: more than %d samples read (the server's limit)", qr.q.maxSamples))
			return false
		}
		if qr.series++; qr.series > qr.q.maxSeries {
			err = promql.ErrTooManySeries(fmt.Sprintf("query execution: more than %d series selected (the server's limit)", qr.q.maxSeries))
			return false
		}
		s := &chunkSeries{labels: labelsOf(v)}
		if wantSamples {
			s.it = it
		}
		out = append(out, s)
		return true
	})
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	if sortSeries {
		slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	}
	return &seriesSet{list: out, i: -1}
}

// chunkSeries is a selected series: its labels and an iterator over the
// store's chunks in the selected range (nil for a series lookup).
type chunkSeries struct {
	labels labels.Labels
	it     *store.Iter // not started: each Iterator reads a copy
}

func (s *chunkSeries) Labels() labels.Labels { return s.labels }

// Iterator returns an iterator over the series' samples, reusing it if it
// is one of this package's.
func (s *chunkSeries) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if s.it == nil {
		return chunkenc.NewNopIterator()
	}
	si, ok := it.(*sampleIterator[int64])
	if !ok {
		si = &sampleIterator[int64]{}
	}
	si.it = *s.it
	return si
}

// sampleIterator is a store.Iter as Prometheus's chunkenc.Iterator: float
// samples only. It is generic only so that go vet's stdmethods check,
// which wants any Seek(int64) to be io.Seeker's, leaves chunkenc's
// Seek(int64) ValueType alone (Prometheus's own lint config excludes it).
type sampleIterator[T ~int64] struct{ it store.Iter }

func (s *sampleIterator[T]) Next() chunkenc.ValueType    { return valueType(s.it.Next()) }
func (s *sampleIterator[T]) Seek(t T) chunkenc.ValueType { return valueType(s.it.SeekTo(int64(t))) }
func (s *sampleIterator[T]) At() (int64, float64)        { return s.it.At() }
func (*sampleIterator[T]) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	panic("apptuit store: no histogram samples")
}
func (*sampleIterator[T]) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	panic("apptuit store: no histogram samples")
}
func (s *sampleIterator[T]) AtT() int64 { t, _ := s.it.At(); return t }
func (*sampleIterator[T]) AtST() int64  { return 0 }
func (*sampleIterator[T]) Err() error   { return nil }

func valueType(ok bool) chunkenc.ValueType {
	if ok {
		return chunkenc.ValFloat
	}
	return chunkenc.ValNone
}

// LabelNames returns the label names of the series that match ms and have
// samples in the querier's range, sorted.
func (qr *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	set := map[string]struct{}{}
	qr.each(ms, func(v store.View) bool {
		if !qr.inRange(v) {
			return true
		}
		set[metricName] = struct{}{}
		for k := range v.Tags().All() {
			set[k] = struct{}{}
		}
		return ctx.Err() == nil
	})
	return sortedLimited(set, hints), nil, ctx.Err()
}

// LabelValues returns the values of label name among the series that match
// ms and have samples in the querier's range, sorted.
func (qr *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	set := map[string]struct{}{}
	qr.each(ms, func(v store.View) bool {
		if !qr.inRange(v) {
			return true
		}
		if name == metricName {
			set[v.Metric()] = struct{}{}
		} else if val, ok := v.Tags().Get(name); ok {
			set[val] = struct{}{}
		}
		return ctx.Err() == nil
	})
	return sortedLimited(set, hints), nil, ctx.Err()
}

// each calls f for each stored series that matches every matcher, under
// the store's read lock, until f returns false. An equality matcher on
// __name__ limits the visit to that metric's series.
func (qr *querier) each(ms []*labels.Matcher, f func(v store.View) bool) {
	metric := ""
	for _, m := range ms {
		if m.Name == metricName && m.Type == labels.MatchEqual {
			if m.Value == "" {
				return // no series has an empty name
			}
			metric = m.Value
		}
	}
	match := func(metric string, tags store.Tags) bool {
		for _, m := range ms {
			v := metric
			if m.Name != metricName {
				v, _ = tags.Get(m.Name)
			}
			if !m.Matches(v) {
				return false
			}
		}
		return true
	}
	qr.q.st.Read(func(r store.Reader) { r.EachSeries(metric, match, f) })
}

// inRange reports whether v has a sample in the querier's range.
func (qr *querier) inRange(v store.View) bool {
	found := false
	v.Samples(qr.mint, qr.maxt, func(int64, float64) bool { found = true; return false })
	return found
}

// labelsOf returns the labels of a stored series: __name__ and its tags (a
// tag named __name__ is shadowed by the metric).
func labelsOf(v store.View) labels.Labels {
	b := labels.NewScratchBuilder(v.Tags().Len() + 1)
	b.Add(metricName, v.Metric())
	for k, val := range v.Tags().All() {
		if k != metricName {
			b.Add(k, val)
		}
	}
	b.Sort()
	return b.Labels()
}

func sortedLimited(set map[string]struct{}, hints *storage.LabelHints) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return out
}

// seriesSet is a storage.SeriesSet over a list.
type seriesSet struct {
	list []storage.Series
	i    int
}

func (s *seriesSet) Next() bool                      { s.i++; return s.i < len(s.list) }
func (s *seriesSet) At() storage.Series              { return s.list[s.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }
