package reporter

import (
	"cmp"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"github.com/apptuit-go/apptuit"
)

// sourceCollector collects one Source. Its cache holds the prepared series
// of every series the source emitted at the last report, keyed by an
// encoding of the name and tags (see appendKey), so that a point of a
// series seen before costs the key's encoding in a reused buffer and one
// map lookup: no allocation, whatever map the source passes.
type sourceCollector struct {
	r     *Reporter
	src   Source
	index int // position among the WithSource options
	emit  Emit
	cache map[string]*sourceSeries
	names map[string]*sourceName // of the series in cache (guard.go)

	// State of the report in progress.
	key  []byte
	tags []tagKV
	b    *batcher
	errs *reportErrors
	ms   int64
	gen  uint64
	seen int           // distinct series emitted so far
	peak int           // the most series cache has held (see sweep)
	over []*sourceName // names with points beyond the series limit
}

// sourceSeries is the prepared series of one name and set of tags a
// source emits, or why it cannot be sent.
type sourceSeries struct {
	ps   *apptuit.PreparedSeries
	err  *MetricError
	seen uint64      // the last report that collected it
	name *sourceName // of its metric name
}

type tagKV struct{ k, v string }

func newSourceCollector(r *Reporter, src Source, index int) *sourceCollector {
	c := &sourceCollector{r: r, src: src, index: index, cache: make(map[string]*sourceSeries), names: make(map[string]*sourceName)}
	c.emit = c.add
	return c
}

// collect runs the source's Collect and adds to b the points it emits at
// ms, then one point per metric name that went past the series limit (see
// guard.go). Its error is added to errs as a *SourceError. Then the
// series it did not emit this time are forgotten.
func (c *sourceCollector) collect(ctx context.Context, b *batcher, errs *reportErrors, ms int64, gen uint64) {
	c.b, c.errs, c.ms, c.gen, c.seen = b, errs, ms, gen, 0
	err := c.src.Collect(ctx, c.emit)
	c.flushOverflows() // guard.go
	c.b, c.errs = nil, nil
	if err != nil {
		errs.errs = append(errs.errs, &SourceError{Index: c.index, Source: c.src, Err: err})
	}
	c.sweep()
}

// add is the Emit of the source: it finds (or prepares) the series of name
// and tags and appends the point; a new series of a name at its limit
// adds its point to the name's overflow point instead.
func (c *sourceCollector) add(name string, tags map[string]string, v float64) {
	if c.errs == nil {
		return // called outside Collect
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	c.key = c.appendKey(c.key[:0], name, tags)
	s := c.cache[string(c.key)]
	if s == nil {
		nm := c.names[name]
		if nm == nil {
			nm = &sourceName{name: strings.Clone(name)} // the source may reuse name's memory
			c.names[nm.name] = nm
		}
		if limit := c.r.sourceLimit; limit > 0 && nm.n >= limit {
			c.overflow(nm, v)
			return
		}
		s = &sourceSeries{name: nm}
		s.ps, s.err = c.r.prepare(c.r.cfg.prefix+name, tags)
		c.cache[string(c.key)] = s
		nm.n++
	}
	if s.seen != c.gen {
		s.seen = c.gen
		c.seen++
		if s.err != nil {
			c.errs.metric(s.err)
		}
	}
	if s.err != nil {
		return
	}
	b := c.b
	b.pts = append(b.pts, apptuit.PreparedPoint{Series: s.ps, UnixMilli: c.ms, Value: v})
	if len(b.pts)-b.from >= b.size {
		b.check()
	}
}

// appendKey appends an encoding of name and tags that two different
// series never share: each string preceded by its length, tags sorted by
// key.
func (c *sourceCollector) appendKey(b []byte, name string, tags map[string]string) []byte {
	b = appendString(b, name)
	c.tags = c.tags[:0]
	for k, v := range tags {
		c.tags = append(c.tags, tagKV{k, v})
	}
	if len(c.tags) > 1 {
		slices.SortFunc(c.tags, func(a, b tagKV) int { return cmp.Compare(a.k, b.k) })
	}
	for _, t := range c.tags {
		b = appendString(b, t.k)
		b = appendString(b, t.v)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
