package reporter

import (
	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// MetaOverflowed is the meta counter of the lookups (a getter's or a
// vector's With) and source points that went to overflow series because a
// metric reached its series limit (metrics.WithSeriesLimit). It is sent
// from the report after the first overflow on, and, like the other meta
// metrics, counts what happened up to the report before.
const MetaOverflowed = "apptuit.reporter.series.overflowed"

// Sources get the registry's series limit (metrics.Registry.SeriesLimit;
// metrics.DefaultSeriesLimit without a registry) per metric name and
// report. The series kept are those of the report before that the source
// emits again, then the first new ones; the points of the others are added
// up into one point of the series name{"overflow": "true"}, so that sums
// over the metric stay right, its series do not come and go with the order
// of emission, and the reporter's memory stays bounded. (A source whose
// series are all new at every report therefore has them all in the
// overflow series every other report.) Each metric that overflowed gives
// the error handler one *metrics.LimitError per report, and the points are
// counted in MetaOverflowed.

// countOverflowed adds n to MetaOverflowed, registering it the first time.
func (r *Reporter) countOverflowed(n int64) {
	if n == 0 {
		return
	}
	if r.overflowed == nil {
		r.overflowed, _ = r.metaReg.Counter(MetaOverflowed)
	}
	r.overflowed.Add(n)
}

// endInterval ends the registry's interval (see metrics.Registry.EndInterval)
// after a report has read it: its limit and values errors go to the
// report's errors, its overflows to MetaOverflowed.
func (r *Reporter) endInterval(reg *metrics.Registry, errs *reportErrors) {
	st := reg.EndInterval()
	for _, err := range st.Errors {
		errs.metric(err)
	}
	r.countOverflowed(st.Overflowed)
}

// sourceName is what a source collector knows of one metric name: how many
// of its series it keeps, and the points of this report beyond the limit.
type sourceName struct {
	name   string
	n      int           // series kept (in the collector's cache)
	over   *sourceSeries // the overflow series, prepared the first time
	sum    float64       // of the points beyond the limit in this report
	points int64         // how many
}

// overflow adds the point v of a series beyond the limit of nm.
func (c *sourceCollector) overflow(nm *sourceName, v float64) {
	if nm.points == 0 {
		c.over = append(c.over, nm)
	}
	nm.sum += v
	nm.points++
}

// flushOverflows appends the overflow points of the report, one per metric
// name that overflowed, and reports each name once.
func (c *sourceCollector) flushOverflows() {
	for _, nm := range c.over {
		if nm.over == nil {
			nm.over = &sourceSeries{}
			nm.over.ps, nm.over.err = c.r.prepare(c.r.cfg.prefix+nm.name, map[string]string{metrics.OverflowTag: "true"})
		}
		c.errs.metric(&metrics.LimitError{Metric: c.r.cfg.prefix + nm.name, Limit: c.r.sourceLimit, Overflowed: nm.points, Option: "metrics.WithSeriesLimit (of the registry given to reporter.New)"})
		c.r.countOverflowed(nm.points)
		if nm.over.err != nil {
			c.errs.metric(nm.over.err)
		} else {
			c.b.pts = append(c.b.pts, apptuit.PreparedPoint{Series: nm.over.ps, UnixMilli: c.ms, Value: nm.sum})
		}
		nm.sum, nm.points = 0, 0
	}
	clear(c.over)
	c.over = c.over[:0]
}

// sweep forgets the series the report did not emit, and the names left
// without series; like the registry collector's, it rebuilds a cache left
// with under a quarter of the most it held.
func (c *sourceCollector) sweep() {
	c.peak = max(c.peak, len(c.cache))
	if c.seen == len(c.cache) {
		return
	}
	for k, s := range c.cache {
		if s.seen != c.gen {
			delete(c.cache, k)
			if s.name.n--; s.name.n == 0 {
				delete(c.names, s.name.name)
			}
		}
	}
	if len(c.cache) < c.peak/4 {
		c.cache, c.names = rebuilt(c.cache), rebuilt(c.names)
		c.peak = len(c.cache)
	}
}
