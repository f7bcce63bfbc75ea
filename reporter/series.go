package reporter

import (
	"maps"
	"slices"

	"github.com/apptuit-go/apptuit"
)

// series is what a report needs to know about one registered metric,
// worked out the first time the metric is seen: the prepared series of
// each of its fields (named and tagged once, see prepareFields), or why it
// cannot be sent.
type series struct {
	metric any // the registry's metric
	fields []*apptuit.PreparedSeries
	err    *MetricError
	seen   uint64 // the last report that collected it
}

// prepare returns the prepared series named name (the prefix included)
// with the reporter's base tags under tags. Series without tags of their
// own share the encoding of the base tags.
func (r *Reporter) prepare(name string, tags map[string]string) (*apptuit.PreparedSeries, *MetricError) {
	var ps *apptuit.PreparedSeries
	var err error
	switch {
	case len(tags) == 0 && r.bare != nil:
		ps, err = r.bare.WithMetric(name)
	case len(tags) == 0:
		ps, err = r.client.PrepareSeries(name, r.base)
	default:
		merged := make(map[string]string, len(r.base)+len(tags))
		maps.Copy(merged, r.base)
		maps.Copy(merged, tags)
		ps, err = r.client.PrepareSeries(name, merged)
	}
	if err != nil {
		return nil, &MetricError{Metric: name, Err: err}
	}
	return ps, nil
}

// prepareFields prepares the series of a metric's fields: prefix+name,
// then "."+field for each non-empty field. They share one encoding of the
// tags. The first field that cannot be sent makes the whole metric fail.
func (r *Reporter) prepareFields(name string, tags map[string]string, fields []string) *series {
	s := &series{fields: make([]*apptuit.PreparedSeries, len(fields))}
	for i, f := range fields {
		full := r.cfg.prefix + name
		if f != "" {
			full += "." + f
		}
		var merr *MetricError
		if i == 0 {
			s.fields[0], merr = r.prepare(full, tags)
		} else {
			var err error
			if s.fields[i], err = s.fields[0].WithMetric(full); err != nil {
				merr = &MetricError{Metric: full, Err: err}
			}
		}
		if merr != nil {
			return &series{err: merr}
		}
	}
	return s
}

// sweep forgets the series of the collector's cache that the report of
// generation gen did not see (a metric unregistered or expired). When it
// is all of them, there is nothing to look for. A cache left with less
// than a quarter of the most it held is rebuilt, since Go maps do not
// shrink, and so is the order of the last walk.
func (c *registryCollector) sweep(gen uint64) {
	c.peak = max(c.peak, len(c.cache))
	if c.seen == len(c.cache) {
		return
	}
	for k, v := range c.cache {
		if v.seen != gen {
			delete(c.cache, k)
		}
	}
	if len(c.cache) < c.peak/4 {
		c.cache = rebuilt(c.cache)
		c.order = slices.Clone(c.order)
		c.peak = len(c.cache)
	}
}

// rebuilt returns a copy of m in a map sized for its entries (maps.Clone
// may keep m's capacity).
func rebuilt[K comparable, V any](m map[K]V) map[K]V {
	n := make(map[K]V, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}
