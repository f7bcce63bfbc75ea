package apptuit

import (
	"context"
	"slices"
	"strings"

	"github.com/apptuit-go/apptuit/internal/metricname"
)

// PreparedSeries is a metric name and its tags, checked and encoded once by
// (*Client).PrepareSeries, so that sending one of its points with
// SendPrepared costs only the encoding of its timestamp and value. It is
// meant for callers that send the same series again and again, such as a
// reporter, which keep their PreparedSeries between sends.
//
// A PreparedSeries belongs to the client that prepared it: its encoding
// holds that client's sanitizer and global tags. It never changes and is
// safe for concurrent use.
type PreparedSeries struct {
	c *Client
	// The metric name as given to PrepareSeries or WithMetric, followed by
	// the series' encoded head, {"metric":"<sanitized name>": one string,
	// one allocation.
	s    string
	m    int           // len of the metric name in s
	tags *preparedTags // shared by the series derived with WithMetric
}

func newPrepared(c *Client, metric, name string, tags *preparedTags) PreparedSeries {
	var buf [128]byte
	head := appendHead(buf[:0], name)
	return PreparedSeries{c: c, s: metric + string(head), m: len(metric), tags: tags}
}

func (s *PreparedSeries) metric() string { return s.s[:s.m] }
func (s *PreparedSeries) head() string   { return s.s[s.m:] }

// preparedTags are the tags of one or more prepared series.
type preparedTags struct {
	given []kv   // the tags as given, sorted by key
	enc   []byte // ,"tags":{<merged, sanitized, sorted>},"timestamp":
}

// PrepareSeries checks metric and tags as Send checks a point's, once, and
// encodes them for SendPrepared: the client's sanitizer rewrites the name
// and tag keys, its global tags are merged under tags, and then the name
// and keys must follow Apptuit's rule, no tag value may be empty and the
// merged tags must number 1 to MaxTags. A breach returns a
// *ValidationError (Index and Point -1) naming the rule, as ValidateMetric
// does. tags is copied.
//
// Cost: the merge and checks of one Send point, plus 4 allocations: the
// series (96 bytes), its name with its encoding (14 bytes plus twice the
// name's length), its encoded tags (23 bytes plus about 6 plus the length
// of each tag) and a copy of tags (32 bytes a tag; none without tags).
// Series that share tags are cheaper made with WithMetric.
func (c *Client) PrepareSeries(metric string, tags map[string]string) (*PreparedSeries, error) {
	name := c.sanitizeName(metric)
	if err := checkName("metric name", name); err != nil {
		return nil, &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	var buf [8 + MaxTags]kv
	merged, err := c.mergeTags(buf[:0], tags)
	if err == nil {
		err = checkTagCount(len(merged))
	}
	if err != nil {
		return nil, &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	// One allocation for the series and its tags, one for the encoded tags,
	// one for the given tags, one for the name and its encoding.
	both := &struct {
		s PreparedSeries
		t preparedTags
	}{}
	if len(tags) > 0 {
		both.t.given = make([]kv, 0, len(tags))
		for k, v := range tags {
			both.t.given = append(both.t.given, kv{k, v})
		}
		slices.SortFunc(both.t.given, cmpKV)
	}
	size := len(`,"tags":{},"timestamp":`)
	for _, t := range merged {
		size += len(t.k) + len(t.v) + 6
	}
	b := append(make([]byte, 0, size), `,"tags":`...)
	b = appendTags(b, merged)
	both.t.enc = append(b, `,"timestamp":`...)
	both.s = newPrepared(c, metric, name, &both.t)
	return &both.s, nil
}

// WithMetric returns a series with s's tags and another metric name,
// checked as PrepareSeries checks it (a name the sanitized form of which
// breaks Apptuit's rule is a *ValidationError). The new series shares s's
// encoded tags, so it costs 2 allocations: the series (48 bytes) and its
// name with its encoding (14 bytes plus twice the name's length).
// It is how one metric's fields (m.count, m.sum, ...) are best prepared.
func (s *PreparedSeries) WithMetric(metric string) (*PreparedSeries, error) {
	name := s.c.sanitizeName(metric)
	if err := checkName("metric name", name); err != nil {
		return nil, &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	p := newPrepared(s.c, metric, name, s.tags)
	return &p, nil
}

func appendHead(b []byte, name string) []byte {
	b = append(b, `{"metric":`...)
	return metricname.AppendPyString(b, name)
}

// Metric returns the metric name as given to PrepareSeries or WithMetric
// (before the client's sanitizer).
func (s *PreparedSeries) Metric() string { return s.metric() }

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
	b.WriteString(s.metric())
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

// SendPrepared sends points of series made by c.PrepareSeries, as Send sends
// DataPoints: in batches of at most the configured batch size, streamed,
// with the same retries, 413 splits and errors (see Send). The series were
// checked when they were prepared; each point is only checked for a series
// (not nil, prepared by c), a finite value and a timestamp the client's
// Precision can write (after 1970; see WithTimestampPrecision). A
// breach returns a *ValidationError whose Index is the point's position and
// sends nothing. Empty input sends nothing.
//
// Cost: a point is encoded by copying its series' encoded name and tags and
// appending its timestamp and value; no allocation per point, and per batch
// the HTTP exchange's allocations (see Send). points is only read, during
// the call.
func (c *Client) SendPrepared(ctx context.Context, points []PreparedPoint) error {
	if c.cfg.line != nil {
		return c.sendLinePrepared(ctx, points) // line_encode.go
	}
	if len(points) == 0 {
		return nil
	}
	for i := range points {
		p := &points[i]
		if p.Series == nil {
			return &ValidationError{Index: i, Point: -1, Rule: "series is nil"}
		}
		if p.Series.c != c {
			return &ValidationError{Index: i, Point: -1, Metric: p.Series.metric(), Rule: "series was prepared by another client (its encoding holds that client's sanitizer and global tags)"}
		}
		if err := c.checkSample(p.Value, p.UnixMilli); err != nil {
			return &ValidationError{Index: i, Point: -1, Metric: p.Series.metric(), Rule: err.Error()}
		}
	}
	return c.sendSource(ctx, preparedSource(points), len(points))
}

// preparedSource encodes PreparedPoints in send_timeseries()'s key order:
// metric, tags, timestamp, value.
type preparedSource []PreparedPoint

func (s preparedSource) appendFrom(b []byte, i, end, limit int, first bool, _ *[]kv) ([]byte, int) {
	for ; i < end && len(b) < limit; i++ {
		if !first {
			b = append(b, ',')
		}
		first = false
		p := &s[i]
		b = append(b, p.Series.head()...)
		b = append(b, p.Series.tags.enc...)
		b = appendTimestamp(b, p.UnixMilli, p.Series.c.cfg.precision)
		b = append(b, `,"value":`...)
		b = appendPyFloat(b, p.Value)
		b = append(b, '}')
	}
	return b, i
}
