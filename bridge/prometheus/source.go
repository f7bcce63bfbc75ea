package prombridge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"

	dto "github.com/prometheus/client_model/go"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/reporter"
)

// A Gatherer is what a Source reads at every report: *prometheus.Registry,
// prometheus.Gatherers, prometheus.DefaultGatherer and
// prometheus.GathererFunc from client_golang all satisfy it. A Gatherer may
// return families together with an error (a partial gather, as
// prometheus.Gatherers does when one of its gatherers fails).
type Gatherer interface {
	Gather() ([]*dto.MetricFamily, error)
}

// Source is a reporter.Source over a Gatherer (see the package
// documentation for the mapping). Create one with New. It is safe for
// concurrent use, also by several reporters, and while the instrumented code
// keeps updating its metrics (Gather reads them consistently).
type Source struct {
	g Gatherer

	mu     sync.Mutex // guards what follows: one Collect at a time
	tags   map[string]string
	names  map[string]*familyNames // by family name as gathered
	keys   map[string]string       // label names that needed cleaning
	floats map[float64]string      // le and quantile values
	gen    uint64                  // Collect calls so far
}

// familyNames are the names of a family's series, cleaned, computed once.
type familyNames struct {
	base               string
	bucket, sum, count string // histograms and summaries
	gsum, gcount       string // gauge histograms
	gen                uint64 // the last Collect that saw the family
}

// Bounds of the caches of a Source: past them a cache is emptied, so a
// Gatherer whose label names or bucket bounds never repeat cannot make a
// Source grow without bound.
const (
	maxKeys   = 4096
	maxFloats = 4096
)

// New returns a Source that gathers g at every report. It returns an error
// if g is nil.
func New(g Gatherer) (*Source, error) {
	if g == nil {
		return nil, errors.New("prombridge: nil Gatherer")
	}
	return &Source{
		g:      g,
		tags:   make(map[string]string),
		names:  make(map[string]*familyNames),
		keys:   make(map[string]string),
		floats: make(map[float64]string),
	}, nil
}

// String describes the Source in the reporter's errors (*reporter.SourceError):
// "prombridge.Source(*prometheus.Registry)".
func (s *Source) String() string { return fmt.Sprintf("prombridge.Source(%T)", s.g) }

// Collect gathers the Source's Gatherer and emits one point per sample, as
// the package documentation describes. When Gather returns an error along
// with families (a partial gather), the families are emitted and the error
// is returned, wrapped; a metric whose value does not match its family's
// type is left out and reported the same way. Collect returns ctx's error,
// without emitting more, when ctx ends.
//
// Apart from what Gather allocates (client_golang builds a new
// dto.MetricFamily tree at every call), Collect allocates only the first
// time it sees a histogram or summary family (its suffixed names), a
// label name or value Apptuit does not accept as is, or a new bucket bound.
func (s *Source) Collect(ctx context.Context, emit reporter.Emit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	mfs, gerr := s.g.Gather()
	var errs []error
	if gerr != nil {
		errs = append(errs, fmt.Errorf("prombridge: gather: %w", gerr))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	if len(s.keys) > maxKeys {
		clear(s.keys)
	}
	if len(s.floats) > maxFloats {
		clear(s.floats)
	}
	for _, mf := range mfs {
		if mf == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := s.family(mf, emit); err != nil {
			errs = append(errs, err)
		}
	}
	s.prune(len(mfs))
	return errors.Join(errs...)
}

// family emits the points of one family.
func (s *Source) family(mf *dto.MetricFamily, emit reporter.Emit) error {
	typ := mf.GetType()
	n := s.namesOf(mf.GetName(), typ)
	var malformed int
	for _, m := range mf.Metric {
		if m == nil {
			continue
		}
		s.setLabels(m.Label)
		switch typ {
		case dto.MetricType_COUNTER:
			if m.Counter == nil {
				malformed++
				continue
			}
			emit(n.base, s.tags, m.Counter.GetValue())
		case dto.MetricType_GAUGE:
			if m.Gauge == nil {
				malformed++
				continue
			}
			emit(n.base, s.tags, m.Gauge.GetValue())
		case dto.MetricType_UNTYPED:
			if m.Untyped == nil {
				malformed++
				continue
			}
			emit(n.base, s.tags, m.Untyped.GetValue())
		case dto.MetricType_SUMMARY:
			if m.Summary == nil {
				malformed++
				continue
			}
			s.summary(n, m.Summary, emit)
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			if m.Histogram == nil {
				malformed++
				continue
			}
			s.histogram(n, typ == dto.MetricType_GAUGE_HISTOGRAM, m.Histogram, emit)
		default:
			return fmt.Errorf("prombridge: family %q: unknown type %v", mf.GetName(), typ)
		}
	}
	if malformed > 0 {
		return fmt.Errorf("prombridge: family %q of type %v: %d metrics without a %v value left out",
			mf.GetName(), typ, malformed, typ)
	}
	return nil
}

func (s *Source) summary(n *familyNames, sm *dto.Summary, emit reporter.Emit) {
	for _, q := range sm.Quantile {
		v := q.GetValue()
		if math.IsNaN(v) { // a quantile of no observations
			continue
		}
		s.tags["quantile"] = s.float(q.GetQuantile())
		emit(n.base, s.tags, v)
	}
	delete(s.tags, "quantile")
	emit(n.sum, s.tags, sm.GetSampleSum())
	emit(n.count, s.tags, float64(sm.GetSampleCount()))
}

// histogram emits the classic buckets (cumulative, with the +Inf bucket
// the text format adds when the histogram lacks one), the sum and the
// count. The buckets of a native histogram are not sent (see the package
// documentation).
func (s *Source) histogram(n *familyNames, gauge bool, h *dto.Histogram, emit reporter.Emit) {
	count := float64(h.GetSampleCount())
	if h.SampleCountFloat != nil && h.GetSampleCount() == 0 { // a float histogram
		count = h.GetSampleCountFloat()
	}
	inf := false
	for _, b := range h.Bucket {
		ub := b.GetUpperBound()
		inf = inf || math.IsInf(ub, +1)
		c := float64(b.GetCumulativeCount())
		if b.CumulativeCountFloat != nil && b.GetCumulativeCount() == 0 {
			c = b.GetCumulativeCountFloat()
		}
		s.tags["le"] = s.float(ub)
		emit(n.bucket, s.tags, c)
	}
	if !inf {
		s.tags["le"] = "+Inf"
		emit(n.bucket, s.tags, count)
	}
	delete(s.tags, "le")
	if gauge {
		emit(n.gsum, s.tags, h.GetSampleSum())
		emit(n.gcount, s.tags, count)
		return
	}
	emit(n.sum, s.tags, h.GetSampleSum())
	emit(n.count, s.tags, count)
}

// setLabels makes s.tags the metric's labels, without those whose value is
// empty (Prometheus treats an empty label as an absent one; Apptuit refuses
// empty values).
func (s *Source) setLabels(labels []*dto.LabelPair) {
	clear(s.tags)
	for _, l := range labels {
		v := l.GetValue()
		if v == "" {
			continue
		}
		s.tags[s.key(l.GetName())] = v
	}
}

// key returns the label name k as a tag key Apptuit accepts.
func (s *Source) key(k string) string {
	if apptuit.CheckName(k) == nil {
		return k
	}
	c, ok := s.keys[k]
	if !ok {
		c = apptuit.CleanName(k)
		s.keys[k] = c
	}
	return c
}

// float returns f formatted as an le or quantile label value.
func (s *Source) float(f float64) string {
	if str, ok := s.floats[f]; ok {
		return str
	}
	str := formatFloat(f)
	if !math.IsNaN(f) { // NaN never equals a key: it would be stored anew each time
		s.floats[f] = str
	}
	return str
}

// namesOf returns the cached names of the family called name, of type
// typ.
func (s *Source) namesOf(name string, typ dto.MetricType) *familyNames {
	n := s.names[name]
	if n == nil {
		n = &familyNames{base: apptuit.CleanName(name)}
		s.names[name] = n
	}
	switch typ {
	case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM:
		if n.sum == "" {
			n.bucket, n.sum, n.count = n.base+"_bucket", n.base+"_sum", n.base+"_count"
		}
	case dto.MetricType_GAUGE_HISTOGRAM:
		if n.gsum == "" {
			n.bucket, n.gsum, n.gcount = n.base+"_bucket", n.base+"_gsum", n.base+"_gcount"
		}
	}
	n.gen = s.gen
	return n
}

// prune forgets the names of families not gathered this time, once they
// are more than half of those cached: families come and go (an
// unregistered collector) without the cache growing.
func (s *Source) prune(gathered int) {
	if len(s.names) <= 2*gathered+16 {
		return
	}
	for k, n := range s.names {
		if n.gen != s.gen {
			delete(s.names, k)
		}
	}
}

// formatFloat formats a bucket bound or a quantile as Prometheus' text
// exposition format writes the le and quantile labels: the shortest
// representation that reads back exactly ("0.005", "1", "2.5e-05"), and
// "+Inf", "-Inf", "NaN".
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
