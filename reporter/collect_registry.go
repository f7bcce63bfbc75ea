package reporter

import (
	"math"

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

// registryCollector collects the metrics of one registry, keeping the
// series of each metric (keyed by the metric itself) from one report to
// the next. Walk visits the metrics in the same order every time, so the
// series of the previous walk, in its order, are checked first: a metric
// found at the same place costs a comparison instead of a map lookup.
type registryCollector struct {
	reg   *metrics.Registry
	cache map[any]*series
	order []*series // the series of the last walk, in its order
	seen  int       // distinct metrics collected by the current report
	peak  int       // the most series cache has held since it was made (see sweep)
}

func newRegistryCollector(reg *metrics.Registry) *registryCollector {
	return &registryCollector{reg: reg, cache: make(map[any]*series)}
}

// collect adds to b the points of every metric of the registry at ms (Unix
// milliseconds), and to errs the errors of metrics that cannot be sent, then
// forgets the metrics no longer registered. Histograms and timers are read
// with SnapshotAndReset. A metric seen before costs a map lookup, its
// snapshot and an append per field: no allocation.
func (c *registryCollector) collect(r *Reporter, b *batcher, errs *reportErrors, ms int64, gen uint64) {
	c.seen = 0
	dst := b.pts
	i := 0
	c.reg.Walk(func(name string, tags metrics.Tags, m any) {
		var s *series
		if i < len(c.order) && c.order[i].metric == m {
			s = c.order[i]
		} else {
			s = c.cache[m]
		}
		if s == nil {
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
			s = r.prepareFields(name, tags.Map(), fields)
			s.metric = m
			c.cache[m] = s
		}
		if i < len(c.order) {
			c.order[i] = s
		} else {
			c.order = append(c.order, s)
		}
		i++
		if s.seen != gen {
			s.seen = gen
			c.seen++
		}
		if s.err != nil {
			errs.metric(s.err)
			return
		}
		f := s.fields
		switch m := m.(type) {
		case *metrics.Counter:
			dst = appendPoints(dst, f, ms, float64(m.Count()))
		case *metrics.Gauge:
			dst = appendPoints(dst, f, ms, m.Value())
		case *metrics.GaugeFunc:
			dst = appendPoints(dst, f, ms, m.Value())
		case *metrics.Meter:
			snap := m.Snapshot()
			dst = appendPoints(dst, f, ms, float64(snap.Count), snap.MeanRate, snap.Rate1, snap.Rate5, snap.Rate15)
		case *metrics.Histogram:
			h := m.SnapshotAndReset()
			dst = appendHistogram(dst, f, ms, &h)
		case *metrics.Timer:
			t := m.SnapshotAndReset()
			dst = appendHistogram(dst, f, ms, &t.Histogram)
			dst = appendPoints(dst, f[len(histogramFields):], ms,
				t.Meter.MeanRate, t.Meter.Rate1, t.Meter.Rate5, t.Meter.Rate15)
		}
		if len(dst)-b.from >= b.size {
			b.pts = dst
			b.check()
		}
	})
	b.pts = dst
	clear(c.order[i:])
	c.order = c.order[:i]
	r.endInterval(c.reg, errs) // guard.go
	c.sweep(gen)
}

// appendPoints appends one point per finite value, of series[i] for
// vals[i]; non-finite values (a gauge function's NaN) are left out.
func appendPoints(dst []apptuit.PreparedPoint, series []*apptuit.PreparedSeries, ms int64, vals ...float64) []apptuit.PreparedPoint {
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		dst = append(dst, apptuit.PreparedPoint{Series: series[i], UnixMilli: ms, Value: v})
	}
	return dst
}

// appendHistogram appends the points of a histogram's (or timer's)
// snapshot: count and sum always, the statistics of the interval only when
// values were recorded in it (never a zero standing for no value).
func appendHistogram(dst []apptuit.PreparedPoint, series []*apptuit.PreparedSeries, ms int64, h *metrics.HistogramSnapshot) []apptuit.PreparedPoint {
	if h.IntervalCount == 0 {
		return appendPoints(dst, series, ms, float64(h.Count), h.Sum)
	}
	return appendPoints(dst, series, ms, float64(h.Count), h.Sum, h.Min, h.Max, h.Mean, h.StdDev,
		h.P50, h.P75, h.P95, h.P99, h.P999)
}
