package gometricsbridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"sync"
	"time"

	metrics "github.com/rcrowley/go-metrics"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/reporter"
)

// A Registry is what a Source walks at every report: every
// rcrowley/go-metrics Registry (metrics.DefaultRegistry,
// metrics.NewRegistry(), metrics.NewPrefixedRegistry(...)) satisfies it.
type Registry interface {
	Each(func(name string, metric interface{}))
}

// Field names, as the apptuit reporter sends its own metrics of the same
// kinds (apptuit-py's pyformance names): "m" becomes "m.count", ...
var (
	counterFields   = []string{"count"}
	gaugeFields     = []string{"value"}
	meterFields     = []string{"count", "mean_rate", "1m_rate", "5m_rate", "15m_rate"}
	histogramFields = []string{"count", "min", "max", "avg", "std_dev",
		"50_percentile", "75_percentile", "95_percentile", "99_percentile", "999_percentile"}
	timerFields = append(append([]string(nil), histogramFields...), meterFields[1:]...)
)

// percentiles are the quantiles of histogramFields' percentile fields.
var percentiles = []float64{0.5, 0.75, 0.95, 0.99, 0.999}

// Source is a reporter.Source over a go-metrics Registry (see the package
// documentation for the mapping). Create one with New. It is safe for
// concurrent use, also by several reporters, and while the instrumented
// code keeps updating the registry: go-metrics' metrics are safe for
// concurrent use and Collect reads their snapshots.
type Source struct {
	r    Registry
	tags map[string]string // never modified after New

	mu    sync.Mutex // guards what follows: one Collect at a time
	names map[string]*series
	gen   uint64
	vals  []float64 // one metric's values, reused
}

// series holds the full names of one metric's fields, computed once.
type series struct {
	fields []string // which list names was built from
	names  []string
	gen    uint64
}

// An Option configures a Source in New.
type Option func(*Source) error

// WithTags adds tags to every point of the Source (go-metrics has no tags;
// these tell two registries apart, e.g. the clients of two Kafka clusters).
// They win over the reporter's tags with the same key. The map is copied.
func WithTags(tags map[string]string) Option {
	return func(s *Source) error {
		for k, v := range tags {
			if k == "" || v == "" {
				return fmt.Errorf("gometricsbridge: tag %q=%q: keys and values must not be empty", k, v)
			}
		}
		s.tags = maps.Clone(tags)
		return nil
	}
}

// New returns a Source that walks r at every report. It returns an error
// if r is nil or an option is invalid.
func New(r Registry, opts ...Option) (*Source, error) {
	if r == nil {
		return nil, errors.New("gometricsbridge: nil Registry")
	}
	s := &Source{r: r, names: make(map[string]*series)}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// String describes the Source in the reporter's errors (*reporter.SourceError):
// "gometricsbridge.Source(*metrics.StandardRegistry)".
func (s *Source) String() string { return fmt.Sprintf("gometricsbridge.Source(%T)", s.r) }

// Collect walks the registry with Each and emits the fields of every
// counter, gauge, meter, histogram and timer (see the package
// documentation); healthchecks, EWMAs and values of other types are
// skipped. It returns ctx's error, without emitting more, when ctx ends.
//
// Apart from what go-metrics allocates (Each copies the registry's list,
// a histogram's or timer's Snapshot copies its sample and Percentiles
// sorts a copy), Collect allocates only the first time it sees a metric
// (its field names).
func (s *Source) Collect(ctx context.Context, emit reporter.Emit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	seen := 0
	var ctxErr error
	s.r.Each(func(name string, m interface{}) {
		if ctxErr != nil {
			return
		}
		if ctxErr = ctx.Err(); ctxErr != nil {
			return
		}
		v := s.vals[:0]
		var fields []string
		switch m := m.(type) {
		case metrics.Counter:
			fields = counterFields
			v = append(v, float64(m.Count()))
		case metrics.Gauge:
			fields = gaugeFields
			v = append(v, float64(m.Value()))
		case metrics.GaugeFloat64:
			fields = gaugeFields
			v = append(v, m.Value())
		case metrics.Histogram:
			fields = histogramFields
			h := m.Snapshot()
			v = append(v, float64(h.Count()))
			if h.Count() == 0 { // go-metrics' zeros stand for no value: NaN leaves them out
				v = appendNaN(v, len(histogramFields)-1)
				break
			}
			v = append(v, float64(h.Min()), float64(h.Max()), h.Mean(), h.StdDev())
			v = append(v, h.Percentiles(percentiles)...)
		case metrics.Meter:
			fields = meterFields
			ms := m.Snapshot()
			v = append(v, float64(ms.Count()), ms.RateMean(), ms.Rate1(), ms.Rate5(), ms.Rate15())
		case metrics.Timer:
			fields = timerFields
			t := m.Snapshot()
			v = append(v, float64(t.Count()))
			if t.Count() == 0 {
				v = appendNaN(v, len(histogramFields)-1)
			} else {
				v = append(v, seconds(float64(t.Min())), seconds(float64(t.Max())), seconds(t.Mean()), seconds(t.StdDev()))
				for _, p := range t.Percentiles(percentiles) {
					v = append(v, seconds(p))
				}
			}
			v = append(v, t.RateMean(), t.Rate1(), t.Rate5(), t.Rate15())
		default: // metrics.Healthcheck, metrics.EWMA, anything else
			return
		}
		s.vals = v
		seen++
		names := s.namesOf(name, fields)
		for i, val := range v {
			emit(names[i], s.tags, val)
		}
	})
	s.prune(seen)
	return ctxErr
}

// appendNaN appends n NaNs: values the reporter leaves out.
func appendNaN(v []float64, n int) []float64 {
	for range n {
		v = append(v, math.NaN())
	}
	return v
}

// seconds converts go-metrics' timer values, in nanoseconds, to seconds,
// the unit of the apptuit reporter's timers.
func seconds(ns float64) float64 { return ns / float64(time.Second) }

// namesOf returns the full names of the fields of the metric called name.
func (s *Source) namesOf(name string, fields []string) []string {
	sr := s.names[name]
	if sr == nil || &sr.fields[0] != &fields[0] { // new, or re-registered as another kind
		base := apptuit.CleanName(name)
		sr = &series{fields: fields, names: make([]string, len(fields))}
		for i, f := range fields {
			sr.names[i] = base + "." + f
		}
		s.names[name] = sr
	}
	sr.gen = s.gen
	return sr.names
}

// prune forgets the names of metrics that were not in the registry this
// time, once they are more than half of those cached.
func (s *Source) prune(seen int) {
	if len(s.names) <= 2*seen+16 {
		return
	}
	for k, sr := range s.names {
		if sr.gen != s.gen {
			delete(s.names, k)
		}
	}
}
