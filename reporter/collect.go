package reporter

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// Field names of each kind of metric, as apptuit-py's pyformance reporter
// sends them: a metric "m" becomes the series "m.count", "m.value", ...
var (
	counterFields   = []string{"count"}
	gaugeFields     = []string{"value"}
	meterFields     = []string{"count", "mean_rate", "1m_rate", "5m_rate", "15m_rate"}
	histogramFields = []string{"count", "sum", "min", "max", "avg", "std_dev",
		"50_percentile", "75_percentile", "95_percentile", "99_percentile", "999_percentile"}
	timerFields = append(append([]string(nil), histogramFields...), meterFields[1:]...)
)

// series is what a report needs to know about one metric, computed the
// first time the metric is seen: the full name of each field, the merged
// tags (shared by all its points, never modified), or why it cannot be sent.
type series struct {
	names []string
	tags  map[string]string
	err   error
}

// newSeries merges the reporter's base tags under tags, names the fields
// and checks the result the way the client will, once.
func (r *Reporter) newSeries(name string, tags map[string]string, fields []string) *series {
	s := &series{tags: r.base}
	if len(tags) > 0 {
		s.tags = maps.Clone(r.base)
		if s.tags == nil {
			s.tags = make(map[string]string, len(tags))
		}
		maps.Copy(s.tags, tags)
	}
	s.names = make([]string, len(fields))
	for i, f := range fields {
		if f == "" {
			s.names[i] = r.cfg.prefix + name
		} else {
			s.names[i] = r.cfg.prefix + name + "." + f
		}
	}
	if err := r.check(s.names[0], s.tags); err != nil {
		s.err = &MetricError{Metric: s.names[0], Err: &apptuit.ValidationError{Index: -1, Point: -1, Metric: s.names[0], Rule: err.Error()}}
	}
	return s
}

// check applies the client's rules for a point's name and tags (after its
// sanitizer and with its global tags), so that one bad metric is left out
// of a report instead of making the client refuse the whole batch. It
// returns the rule broken.
func (r *Reporter) check(name string, tags map[string]string) error {
	var ve *apptuit.ValidationError
	if err := r.client.ValidateMetric(name, tags); errors.As(err, &ve) {
		return errors.New(ve.Rule)
	} else if err != nil {
		return err
	}
	return nil
}

// seriesFor returns the cached series of metric m.
func (r *Reporter) seriesFor(m any, name string, tags map[string]string, fields []string) *series {
	s := r.cache[m]
	if s == nil {
		s = r.newSeries(name, tags, fields)
		r.cache[m] = s
	}
	return s
}

// appendPoints appends one point per finite value; non-finite values (a
// gauge function's NaN) are left out of the report.
func appendPoints(dst []apptuit.DataPoint, names []string, tags map[string]string, ts time.Time, vals ...float64) []apptuit.DataPoint {
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		dst = append(dst, apptuit.DataPoint{Metric: names[i], Tags: tags, Timestamp: ts, Value: v})
	}
	return dst
}

// collectRegistry appends the points of every metric of reg at ts, and the
// errors of metrics that cannot be sent. Histograms and timers are read with
// SnapshotAndReset.
func (r *Reporter) collectRegistry(dst []apptuit.DataPoint, errs []error, reg *metrics.Registry, ts time.Time) ([]apptuit.DataPoint, []error) {
	reg.Each(func(name string, tags map[string]string, m any) {
		var fields []string
		switch m.(type) {
		case *metrics.Counter:
			fields = counterFields
		case *metrics.Gauge, *metrics.GaugeFunc:
			fields = gaugeFields
		case *metrics.Meter:
			fields = meterFields
		case *metrics.Histogram:
			fields = histogramFields
		case *metrics.Timer:
			fields = timerFields
		default:
			return
		}
		s := r.seriesFor(m, name, tags, fields)
		if s.err != nil {
			errs = append(errs, s.err)
			return
		}
		switch m := m.(type) {
		case *metrics.Counter:
			dst = appendPoints(dst, s.names, s.tags, ts, float64(m.Count()))
		case *metrics.Gauge:
			dst = appendPoints(dst, s.names, s.tags, ts, m.Value())
		case *metrics.GaugeFunc:
			dst = appendPoints(dst, s.names, s.tags, ts, m.Value())
		case *metrics.Meter:
			ms := m.Snapshot()
			dst = appendPoints(dst, s.names, s.tags, ts, float64(ms.Count), ms.MeanRate, ms.Rate1, ms.Rate5, ms.Rate15)
		case *metrics.Histogram:
			h := m.SnapshotAndReset()
			dst = appendHistogram(dst, s, ts, &h)
		case *metrics.Timer:
			t := m.SnapshotAndReset()
			dst = appendHistogram(dst, s, ts, &t.Histogram)
			dst = appendPoints(dst, s.names[len(histogramFields):], s.tags, ts,
				t.Meter.MeanRate, t.Meter.Rate1, t.Meter.Rate5, t.Meter.Rate15)
		}
	})
	return dst, errs
}

func appendHistogram(dst []apptuit.DataPoint, s *series, ts time.Time, h *metrics.HistogramSnapshot) []apptuit.DataPoint {
	return appendPoints(dst, s.names, s.tags, ts, float64(h.Count), h.Sum, h.Min, h.Max, h.Mean, h.StdDev,
		h.P50, h.P75, h.P95, h.P99, h.P999)
}

// MetricError reports a metric left out of reports because the client
// would refuse its points: a name or tag key outside Apptuit's rule (after
// the client's sanitizer), an empty tag value, no tags or too many. It
// unwraps to an *apptuit.ValidationError (whose Index and Point are -1).
type MetricError struct {
	Metric string // the name of its first point, e.g. "cpu.count"
	Err    error
}

func (e *MetricError) Error() string {
	var ve *apptuit.ValidationError
	if errors.As(e.Err, &ve) {
		return fmt.Sprintf("reporter: metric %q not sent: %s", e.Metric, ve.Rule)
	}
	return fmt.Sprintf("reporter: metric %q not sent: %v", e.Metric, e.Err)
}

func (e *MetricError) Unwrap() error { return e.Err }
