package apptuit

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
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
// finite and the timestamp one the client's Precision can write (after
// 1970; see WithTimestampPrecision). A breach returns a *ValidationError and
// sends nothing. Empty input sends nothing.
//
// A 400 answer returns a *SendError with the server's per-point errors (or
// its plain-text message); batches after a refused one are still sent and
// their outcomes added up. A 413 answer splits the batch in halves, down to
// the minimum split size, below which it is a refusal too. Connection
// errors, 429 and 5xx answers are retried as configured; when they persist,
// or on any other answer (401, 403, 404, ...), the call stops: batches not
// started are not sent, and the *HTTPError or *NetworkError says how many
// points were not delivered. Cost: one pass to validate, one to encode; the
// per-point tag merge reuses one scratch slice. With WithLineTransport,
// points are written as text lines instead (see LineTransport).
func (c *Client) Send(ctx context.Context, points []DataPoint) error {
	if c.cfg.line != nil {
		return c.sendLinePoints(ctx, points) // line_encode.go
	}
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
	if err := checkName("metric name", c.sanitizeName(p.Metric)); err != nil {
		return scratch, err
	}
	scratch, err := c.mergeTags(scratch, p.Tags)
	if err != nil {
		return scratch, err
	}
	if err := checkTagCount(len(scratch)); err != nil {
		return scratch, err
	}
	return scratch, c.checkSample(p.Value, p.Timestamp.UnixMilli())
}

func checkValue(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("value %v is not a finite number (NaN and ±Inf are not JSON; servers reject the whole batch)", v)
	}
	return nil
}

// SendTimeSeries sends every point of every series, like Send. Each series'
// name and merged tags are sanitized, validated and encoded once; its
// points then cost no allocation: encoding a point appends its timestamp
// and value to a reused buffer.
func (c *Client) SendTimeSeries(ctx context.Context, series []*TimeSeries) error {
	if c.cfg.line != nil {
		return c.sendLineSeries(ctx, series) // line_encode.go
	}
	src := &seriesSource{
		series: make([]*TimeSeries, 0, len(series)),
		starts: make([]int, 0, len(series)+1),
		offs:   make([]int, 1, len(series)+1),
		prec:   c.cfg.precision,
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
		if err := checkName("metric name", metric); err != nil {
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
			if err := c.checkSample(v, s.ts[j]); err != nil {
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
		b = appendDataPoint(b, s.c.sanitizeName(p.Metric), p.Timestamp, p.Value, *tags, s.c.cfg.precision)
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
	prec     Precision
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
		b = appendTimestamp(b, ser.ts[j], s.prec)
		b = append(b, `,"value":`...)
		b = appendPyFloat(b, ser.vals[j])
		b = append(b, '}')
	}
	return b, i
}

// sendSource sends points [0, n) of src in batches, up to the configured
// number at a time, and adds up the outcomes. Refused points (400, 413 at
// the smallest split) do not stop the call: they make a *SendError whose
// Success counts every point accepted by the call. Any other failure stops
// batches not yet started and is returned with the call's counts.
func (c *Client) sendSource(ctx context.Context, src source, n int) error {
	size := c.cfg.batchSize
	nb := (n + size - 1) / size
	type result struct {
		ok      int
		refused *SendError
		err     error
	}
	results := make([]result, nb)
	send := func(k int) bool {
		ok, refused, err := c.sendBatch(ctx, src, k*size, min((k+1)*size, n))
		results[k] = result{ok, refused, err}
		return err == nil
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

	var refused *SendError
	var fatal error
	accepted := 0
	for _, r := range results {
		accepted += r.ok
		refused = joinRefusals(refused, r.refused)
		if fatal == nil {
			fatal = r.err
		}
	}
	if fatal != nil {
		return c.undelivered(ctx, fatal, n-accepted-refused.failed(), n)
	}
	if refused != nil {
		refused.Success = accepted
		return refused
	}
	return nil
}

// body returns the request body of points [from, to) of src: compressed on
// several cores when it is large (body_parallel.go), else streamed by one
// goroutine and an encoder (body.go).
func (c *Client) body(src source, from, to int) (io.ReadCloser, error) {
	if c.parallelGzip(to - from) {
		b, err := c.newParBody(src, from, to)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := c.newBody(src, from, to)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// sendBatch posts points [from, to), splitting on 413. It returns how many
// points the server accepted, the points it refused (nil if none), and a
// failure that stops the call (an *HTTPError, a *NetworkError or ctx's
// error); the second half of a split batch is not sent after a failure of
// the first.
func (c *Client) sendBatch(ctx context.Context, src source, from, to int) (int, *SendError, error) {
	req := request{
		op:       "send",
		method:   http.MethodPost,
		url:      c.endpoint + "/api/put?details",
		header:   c.fixedHeaders.put,
		body:     func() (io.ReadCloser, error) { return c.body(src, from, to) },
		maxBytes: defaultMaxErrorBody,
	}
	resp, attempts, err := c.do(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	if code := resp.StatusCode; code >= 200 && code <= 299 {
		io.Copy(io.Discard, resp.Body) // a capped summary at most: keep the connection
		resp.Body.Close()
		return to - from, nil, nil
	}
	body := readErrorBody(resp.Body)
	switch n := to - from; resp.StatusCode {
	case http.StatusRequestEntityTooLarge:
		if n > c.cfg.minSplit {
			mid := from + n/2
			ok1, r1, err := c.sendBatch(ctx, src, from, mid)
			if err != nil {
				return ok1, r1, err
			}
			ok2, r2, err := c.sendBatch(ctx, src, mid, to)
			return ok1 + ok2, joinRefusals(r1, r2), err
		}
		return 0, c.tooLarge(body, n), nil
	case http.StatusBadRequest:
		se := c.refusal(body, n)
		return se.Success, se, nil
	}
	return 0, nil, c.httpError(&req, resp, attempts, body)
}
