package apptuit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apptuit-go/apptuit/internal/metricname"
)

// Send validates points and POSTs them to {endpoint}/api/put?details as a
// compressed JSON array, in batches of at most the configured batch size
// (default 50,000), each streamed: encoded and compressed while it is
// written to the connection. Up to two batches are in flight at once (see
// WithConcurrency).
//
// The client's global tags are merged under each point's tags. Every point
// is checked before anything is sent: the metric name and tag keys must
// follow Apptuit's rule (after the sanitizer, if one is set), the merged
// tags must number 1 to 25, tag values must not be empty, the value must be
// finite and the timestamp after 1970. A breach returns a *ValidationError
// and sends nothing. Empty input sends nothing.
//
// A 400 answer returns a *SendError with the server's per-point errors (or
// its plain-text message); batches after a failed one are still sent and
// their outcomes added up. A 413 answer splits the batch in halves, down to
// the minimum split size. Connection errors, 429 and 5xx answers are
// retried as configured. Cost: one pass to validate, one to encode; the
// per-point tag merge reuses one scratch slice.
func (c *Client) Send(ctx context.Context, points []DataPoint) error {
	if len(points) == 0 {
		return nil
	}
	var scratch []kv
	for i := range points {
		p := &points[i]
		var err error
		scratch, err = c.checkPoint(scratch, p)
		if err != nil {
			return &ValidationError{Index: i, Point: -1, Metric: p.Metric, Rule: err.Error()}
		}
	}
	return c.sendSource(ctx, &pointsSource{c: c, points: points}, len(points))
}

func (c *Client) checkPoint(scratch []kv, p *DataPoint) ([]kv, error) {
	if err := validateName("metric name", c.sanitizeName(p.Metric)); err != nil {
		return scratch, err
	}
	scratch, err := c.mergeTags(scratch, p.Tags)
	if err != nil {
		return scratch, err
	}
	if err := checkTagCount(len(scratch)); err != nil {
		return scratch, err
	}
	if err := checkValue(p.Value); err != nil {
		return scratch, err
	}
	return scratch, checkTime(p.Timestamp.UnixMilli())
}

func checkValue(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("value %v is not a finite number (NaN and ±Inf are not JSON; servers reject the whole batch)", v)
	}
	return nil
}

func checkTime(ms int64) error {
	if ms <= 0 {
		return fmt.Errorf("timestamp %s is not after the Unix epoch", time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
	}
	if ms%1000 != 0 && ms < 1<<32 {
		// Servers read a timestamp below 2^32 as seconds, so this one cannot
		// be sent in milliseconds.
		return fmt.Errorf("timestamp %s has a sub-second part but is before 1970-02-19T17:02:47Z, below which servers read timestamps as seconds", time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
	}
	if ms > 9999999999999 {
		return fmt.Errorf("timestamp %s is past what the API accepts (9999999999999 ms)", time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// SendTimeSeries sends every point of every series, like Send. Each series'
// name and merged tags are sanitized, validated and encoded once; its
// points then cost no allocation: encoding a point appends its timestamp
// and value to a reused buffer.
func (c *Client) SendTimeSeries(ctx context.Context, series []*TimeSeries) error {
	src := &seriesSource{
		series: make([]*TimeSeries, 0, len(series)),
		starts: make([]int, 0, len(series)+1),
		offs:   make([]int, 1, len(series)+1),
	}
	total := 0
	var scratch []kv
	for i, s := range series {
		if s == nil {
			return &ValidationError{Index: i, Point: -1, Rule: "series is nil"}
		}
		if s.Len() == 0 {
			continue
		}
		metric := c.sanitizeName(s.metric)
		if err := validateName("metric name", metric); err != nil {
			return &ValidationError{Index: i, Point: -1, Metric: s.metric, Rule: err.Error()}
		}
		var err error
		scratch, err = c.mergeTags(scratch, s.tags)
		if err == nil {
			err = checkTagCount(len(scratch))
		}
		if err != nil {
			return &ValidationError{Index: i, Point: -1, Metric: s.metric, Rule: err.Error()}
		}
		for j, v := range s.vals {
			if err := checkValue(v); err != nil {
				return &ValidationError{Index: i, Point: j, Metric: s.metric, Rule: err.Error()}
			}
			if err := checkTime(s.ts[j]); err != nil {
				return &ValidationError{Index: i, Point: j, Metric: s.metric, Rule: err.Error()}
			}
		}
		src.add(s, metric, scratch, total)
		total += s.Len()
	}
	if total == 0 {
		return nil
	}
	src.starts = append(src.starts, total)
	return c.sendSource(ctx, src, total)
}

// pointsSource encodes DataPoints, merging tags again in scratch space.
type pointsSource struct {
	c      *Client
	points []DataPoint
}

func (s *pointsSource) appendFrom(b []byte, i, end, limit int, first bool, tags *[]kv) ([]byte, int) {
	for ; i < end && len(b) < limit; i++ {
		if !first {
			b = append(b, ',')
		}
		first = false
		p := &s.points[i]
		*tags, _ = s.c.mergeTags(*tags, p.Tags) // validated in Send
		b = appendDataPoint(b, s.c.sanitizeName(p.Metric), p.Timestamp, p.Value, *tags)
	}
	return b, i
}

// seriesSource encodes the points of several series as one sequence;
// starts[k] is the index of series k's first point, starts[len] the total.
// The encoded prefixes of all series are kept one after the other in one
// slice (a few allocations for any number of series): series k's is
// prefixes[offs[k]:offs[k+1]].
type seriesSource struct {
	series   []*TimeSeries
	prefixes []byte
	offs     []int
	starts   []int
}

// add appends series s, named metric with the merged tags, whose first
// point is the sequence's point start.
func (s *seriesSource) add(ts *TimeSeries, metric string, tags []kv, start int) {
	if len(s.offs) == 0 {
		s.offs = append(s.offs, 0)
	}
	s.prefixes = appendSeriesPrefix(s.prefixes, metric, tags)
	s.offs = append(s.offs, len(s.prefixes))
	s.series = append(s.series, ts)
	s.starts = append(s.starts, start)
}

func (s *seriesSource) appendFrom(b []byte, i, end, limit int, first bool, _ *[]kv) ([]byte, int) {
	k := sort.Search(len(s.series), func(k int) bool { return s.starts[k+1] > i })
	for ; i < end && len(b) < limit; i++ {
		for i >= s.starts[k+1] {
			k++
		}
		ser, j := s.series[k], i-s.starts[k]
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, s.prefixes[s.offs[k]:s.offs[k+1]]...)
		b = appendTimestampMillis(b, ser.ts[j])
		b = append(b, `,"value":`...)
		b = appendPyFloat(b, ser.vals[j])
		b = append(b, '}')
	}
	return b, i
}

// sendSource sends points [0, n) of src in batches, up to the configured
// number at a time, and adds up failures. A *SendError's Success counts
// every point accepted by the call. A failure other than a per-point
// refusal (400, 413 at the smallest split) stops batches not yet started.
func (c *Client) sendSource(ctx context.Context, src source, n int) error {
	size := c.cfg.batchSize
	nb := (n + size - 1) / size
	type result struct {
		ok   int
		err  error
		done bool
	}
	results := make([]result, nb)
	send := func(k int) bool {
		ok, err := c.sendBatch(ctx, src, k*size, min((k+1)*size, n))
		results[k] = result{ok, err, true}
		return err == nil || isRefusal(err)
	}
	if workers := min(c.cfg.concurrency, nb); workers <= 1 {
		for k := 0; k < nb && send(k); k++ {
		}
	} else {
		var next atomic.Int64
		var stop atomic.Bool
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					k := int(next.Add(1) - 1)
					if k >= nb {
						return
					}
					if !send(k) {
						stop.Store(true)
					}
				}
			}()
		}
		wg.Wait()
	}

	var agg *SendError
	var fatal error
	fatalAt, accepted := 0, 0
	for k, r := range results {
		accepted += r.ok
		var se *SendError
		switch {
		case r.err == nil:
		case isRefusal(r.err) && errors.As(r.err, &se):
			if agg == nil {
				agg = &SendError{}
			}
			agg.add(se)
		case fatal == nil:
			fatal, fatalAt = r.err, k*size
		}
	}
	if fatal != nil {
		if nb == 1 {
			return fatal
		}
		return fmt.Errorf("apptuit: send stopped at point %d of %d (%d accepted): %w", fatalAt, n, accepted, fatal)
	}
	if agg != nil {
		agg.Success = accepted
		return agg
	}
	return nil
}

// isRefusal reports whether err is the server refusing points (400, or 413
// at the smallest split) rather than failing to take the batch at all.
func isRefusal(err error) bool {
	var se *SendError
	return errors.As(err, &se) && (se.StatusCode == http.StatusBadRequest || se.StatusCode == http.StatusRequestEntityTooLarge)
}

// sendBatch posts points [from, to), splitting on 413. It returns how many
// points the server accepted.
func (c *Client) sendBatch(ctx context.Context, src source, from, to int) (int, error) {
	resp, err := c.do(ctx, request{
		op:       "send",
		method:   http.MethodPost,
		url:      c.endpoint + "/api/put?details",
		header:   c.fixedHeaders.put,
		body:     func() (io.ReadCloser, error) { return c.newBody(src, from, to) },
		maxBytes: defaultMaxErrorBody,
	})
	if err != nil {
		return 0, err
	}
	body, rerr := readCapped(resp.Body)
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return to - from, nil
	case code == http.StatusRequestEntityTooLarge:
		if n := to - from; n > c.cfg.minSplit {
			mid := from + n/2
			ok1, err1 := c.sendBatch(ctx, src, from, mid)
			if err1 != nil && !isRefusal(err1) {
				return ok1, err1 // the second half is not tried: the batch failed
			}
			ok2, err2 := c.sendBatch(ctx, src, mid, to)
			if err2 != nil && !isRefusal(err2) {
				return ok1 + ok2, err2
			}
			return ok1 + ok2, joinRefusals(err1, err2)
		}
		return 0, &SendError{StatusCode: code, Failed: to - from, Message: "payload too large even at " + strconv.Itoa(to-from) + " points: " + string(body)}
	case code == http.StatusBadRequest:
		if rerr != nil {
			return 0, &SendError{StatusCode: code, Failed: to - from, Message: rerr.Error()}
		}
		se := parseSendError(body, to-from)
		return se.Success, se
	case code == http.StatusUnauthorized:
		return 0, &HTTPError{Op: "send", StatusCode: code, Body: string(body)}
	default:
		return 0, &SendError{StatusCode: code, Failed: to - from, Message: string(body)}
	}
}

// joinRefusals adds up two per-point refusals (nil or *SendError with 400
// or 413).
func joinRefusals(a, b error) error {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	var sa, sb *SendError
	errors.As(a, &sa)
	errors.As(b, &sb)
	merged := *sa
	merged.Errors = append([]PointError(nil), sa.Errors...)
	merged.add(sb)
	return &merged
}

// parseSendError reads a 400 body: Apptuit/OpenTSDB details JSON, or any
// other text (VictoriaMetrics and InfluxDB answer in plain text).
func parseSendError(body []byte, batch int) *SendError {
	var d struct {
		Success *int `json:"success"`
		Failed  *int `json:"failed"`
		Errors  []struct {
			Datapoint struct {
				Metric    string            `json:"metric"`
				Timestamp json.Number       `json:"timestamp"`
				Value     json.RawMessage   `json:"value"`
				Tags      map[string]string `json:"tags"`
			} `json:"datapoint"`
			Error string `json:"error"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.Success == nil || d.Failed == nil {
		return &SendError{StatusCode: http.StatusBadRequest, Failed: batch, Message: string(body)}
	}
	se := &SendError{StatusCode: http.StatusBadRequest, Success: *d.Success, Failed: *d.Failed}
	for _, e := range d.Errors {
		ts, _ := e.Datapoint.Timestamp.Int64()
		val := string(e.Datapoint.Value)
		if s, err := strconv.Unquote(val); err == nil {
			val = s
		}
		se.Errors = append(se.Errors, PointError{
			Datapoint: EchoedPoint{Metric: e.Datapoint.Metric, Timestamp: ts, Value: val, Tags: e.Datapoint.Tags},
			Message:   e.Error,
		})
	}
	return se
}

// EncodeMetric returns name with tags in apptuit-py's encoded form,
// name{"k1": "v1", "k2": "v2"}: keys sorted, JSON-escaped as Python does.
// Registries and reporters use it to carry tags inside a metric name. An
// empty name is an error.
func EncodeMetric(name string, tags map[string]string) (string, error) {
	s, err := metricname.Encode(name, tags)
	if err != nil {
		return "", fmt.Errorf("apptuit: encode metric: %w", err)
	}
	return s, nil
}

// DecodeMetric splits an encoded metric name (see EncodeMetric) into the
// name and its tags. Whitespace between name and '{' is allowed; a string
// without '{' is all name (trimmed) with nil tags. Empty input and a tag
// part that is not a JSON object of strings are errors. For repeated
// decoding of the same names, use a MetricDecoder.
func DecodeMetric(s string) (name string, tags map[string]string, err error) {
	name, tags, err = metricname.Decode(s)
	if err != nil {
		return "", nil, fmt.Errorf("apptuit: decode metric: %w", err)
	}
	return name, tags, nil
}

// MetricDecoder is DecodeMetric with a bounded cache: a name seen before
// costs one map lookup and no allocation. The returned tags map is shared
// and must not be modified. Safe for concurrent use.
type MetricDecoder struct{ c *metricname.Cache }

// NewMetricDecoder returns a decoder caching up to size names (at least 1;
// when full, the cache is emptied and refilled).
func NewMetricDecoder(size int) *MetricDecoder {
	return &MetricDecoder{c: metricname.NewCache(size)}
}

// Decode is DecodeMetric, cached.
func (d *MetricDecoder) Decode(s string) (string, map[string]string, error) {
	name, tags, err := d.c.Decode(s)
	if err != nil {
		return "", nil, fmt.Errorf("apptuit: decode metric: %w", err)
	}
	return name, tags, nil
}
