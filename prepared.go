package apptuit

import (
	"slices"
	"strings"
)

// PreparedSeries is a metric name and its tags, checked and encoded once by
// (*Client).PrepareSeries, so that sending one of its points with
// SendPrepared costs only the encoding of its timestamp and value. It is
// meant for callers that send the same series again and again, such as a
// reporter, which keep their PreparedSeries between sends.
//
// A PreparedSeries belongs to the client that prepared it: its encoding
// holds that client's sanitizer, global tags and wire format. It never
// changes and is safe for concurrent use.
//
// Every send turns its points into PreparedPoints of such series, made
// for the call when they come from Send or SendTimeSeries: a point is
// written as head, pre, its timestamp, a separator (`,"value":` in JSON, '
// ' in a line), its value and post. In JSON, head is {"metric":"<name>"
// and the tags go in pre (send_timeseries()'s key order: metric, tags,
// timestamp, value) or post (send()'s: metric, timestamp, value, tags); in
// a line, head is "[put ]<name>", pre " " and post " <k>=<v> ...\n".
type PreparedSeries struct {
	metric string      // as given to PrepareSeries or WithMetric
	head   []byte      // never modified
	tags   *seriesTags // shared by the series derived with WithMetric
}

// seriesTags are the tags of one or more series and their encoding: the
// series' parts but for its head.
type seriesTags struct {
	c         *Client
	given     []kv   // the tags as given, sorted by key
	pre, post []byte // never modified
}

// PrepareSeries checks metric and tags as Send checks a point's, once, and
// encodes them for SendPrepared: the client's sanitizer rewrites the name
// and tag keys, its global tags are merged under tags, and then the name
// and keys must follow Apptuit's rule, no tag value may be empty, the
// merged tags must number 1 to MaxTags and the client's line transport, if
// any, must be able to carry them. A breach returns a *ValidationError
// (Index and Point -1) naming the rule, as ValidateMetric does. tags is
// copied.
//
// Cost: the checks of one Send point and 4 allocations (the series, its
// encoded name, its encoded tags and the copy of tags; none for no tags),
// O(len(metric) + the tags' length) bytes. Series that share tags are
// cheaper made with WithMetric.
func (c *Client) PrepareSeries(metric string, tags map[string]string) (*PreparedSeries, error) {
	if err := c.made(); err != nil {
		return nil, err
	}
	var buf [8 + MaxTags]kv
	name, merged, err := c.checkSeries(metric, tags, buf[:0])
	if err != nil {
		return nil, &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	// One allocation for the series and its tags.
	both := &struct {
		s PreparedSeries
		t seriesTags
	}{}
	both.t.c = c
	if len(tags) > 0 {
		both.t.given = make([]kv, 0, len(tags))
		for k, v := range tags {
			both.t.given = append(both.t.given, kv{k, v})
		}
		slices.SortFunc(both.t.given, cmpKV)
	}
	size := len(`,"tags":{},"timestamp":}`)
	for _, t := range merged {
		size += len(t.k) + len(t.v) + 6
	}
	enc, pre := c.appendTagParts(make([]byte, 0, size), merged, false)
	both.t.pre, both.t.post = enc[:pre:pre], enc[pre:]
	both.s = PreparedSeries{metric: metric, head: c.encodeHead(name), tags: &both.t}
	return &both.s, nil
}

// encodeHead returns a series' head, in an allocation of its own.
func (c *Client) encodeHead(name string) []byte {
	return c.appendHead(make([]byte, 0, len(`{"metric":""`)+len(name)+len(name)/2), name)
}

// WithMetric returns a series with s's tags and another metric name,
// checked as PrepareSeries checks it (a name the sanitized form of which
// breaks Apptuit's rule is a *ValidationError). The new series shares s's
// encoded tags, so it costs 2 allocations: the series and its encoded
// name. It is how one metric's fields (m.count, m.sum, ...) are best
// prepared.
func (s *PreparedSeries) WithMetric(metric string) (*PreparedSeries, error) {
	c := s.tags.c
	name := c.sanitizeName(metric)
	err := checkName("metric name", name)
	if err == nil && c.cfg.line != nil {
		err = c.cfg.line.checkName("metric name", name)
	}
	if err != nil {
		return nil, &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	return &PreparedSeries{metric: metric, head: c.encodeHead(name), tags: s.tags}, nil
}

// Metric returns the metric name as given to PrepareSeries or WithMetric
// (before the client's sanitizer).
func (s *PreparedSeries) Metric() string { return s.metric }

// Tags returns a copy of the tags as given to PrepareSeries (without the
// client's global tags, which are merged again when the same name and
// tags are prepared again). It allocates the map.
func (s *PreparedSeries) Tags() map[string]string {
	m := make(map[string]string, len(s.tags.given))
	for _, t := range s.tags.given {
		m[t.k] = t.v
	}
	return m
}

// String returns the metric name and the given tags, sorted by key, as
// name{k1=v1,k2=v2}.
func (s *PreparedSeries) String() string {
	var b strings.Builder
	b.WriteString(s.metric)
	b.WriteByte('{')
	for i, t := range s.tags.given {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t.k)
		b.WriteByte('=')
		b.WriteString(t.v)
	}
	b.WriteByte('}')
	return b.String()
}

// PreparedPoint is one value of a prepared series at one instant: what
// SendPrepared sends. UnixMilli is sent in Unix seconds when it is a whole
// second, else in milliseconds, as Send sends DataPoint.Timestamp.
type PreparedPoint struct {
	Series    *PreparedSeries
	UnixMilli int64 // Unix time in milliseconds
	Value     float64
}
