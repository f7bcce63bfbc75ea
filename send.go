package apptuit

import (
	"context"
	"io"
	"net/http"

	"github.com/apptuit-go/apptuit/internal/inflight"
)

// Send checks points and sends them: with HTTP, it POSTs them to
// {endpoint}/api/put?details as a compressed JSON array, in batches of at
// most the configured batch size (WithBatchSize), each streamed: encoded
// and compressed while it is written to the connection, up to
// WithConcurrency batches in flight at once. With WithLineTransport it
// writes them as text lines instead (see LineTransport).
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
// a minimum size, below which it is a refusal too. Connection errors, 429
// and 5xx answers are retried as configured; when they persist, or on any
// other answer (401, 403, 404, ...), the call stops: batches not started
// are not sent, and the *HTTPError or *NetworkError says how many points
// were not delivered.
//
// Cost: O(points), in constant memory: each point's series is merged with
// the global tags and checked twice (to check the call, then to send it)
// and encoded once, in reused buffers, unless the point has the metric and
// the very tags map of the point before it, whose series it shares.
// SendTimeSeries and SendPrepared do that once per series.
func (c *Client) Send(ctx context.Context, points []DataPoint) error {
	return c.send(ctx, &dataPoints{c, points})
}

// SendTimeSeries sends every point of every series, as Send does, with
// the same checks and errors (a *ValidationError's Index is the series',
// its Point the point's within it). Cost: each series' name and tags are
// checked and encoded once, in one buffer for the call; its points then
// cost no allocation.
func (c *Client) SendTimeSeries(ctx context.Context, series []*TimeSeries) error {
	if err := c.made(); err != nil {
		return err
	}
	set, err := c.newSeriesSet(series)
	if err != nil {
		return err
	}
	return c.send(ctx, set)
}

// SendPrepared sends points of series made by c.PrepareSeries, as Send sends
// DataPoints, with the same batches, retries, 413 splits and errors. The
// series were checked when they were prepared; each point is only checked
// for a series (not nil, prepared by c), a finite value and a timestamp the
// client's Precision can write. A breach returns a *ValidationError whose
// Index is the point's position and sends nothing.
//
// Cost: a point is encoded by copying its series' encoding and appending
// its timestamp and value: no allocation per point; per batch, those of
// the HTTP exchange. points is only read, during the call.
func (c *Client) SendPrepared(ctx context.Context, points []PreparedPoint) error {
	return c.send(ctx, preparedPoints(points))
}

// send checks src and sends it with the client's transport: the one place
// that chooses between HTTP and a line transport.
func (c *Client) send(ctx context.Context, src pointSet) error {
	if err := c.made(); err != nil {
		return err
	}
	if src.len() == 0 {
		return nil
	}
	if err := c.check(src); err != nil {
		return err
	}
	if t := c.cfg.line; t != nil {
		return t.send(ctx, c, src) // line_encode.go
	}
	return c.sendHTTP(ctx, src)
}

// sendHTTP sends the points of src in batches of the configured size, up
// to the configured number in flight (inflight.Window: the mechanism the
// reporter's sends share), and adds up the outcomes. Refused points (400,
// 413 at the smallest split) do not stop the call: they make a *SendError
// whose Success counts every point accepted by the call. Any other failure
// stops batches not yet started and is returned with the call's counts.
func (c *Client) sendHTTP(ctx context.Context, src pointSet) error {
	n, size := src.len(), c.cfg.batchSize
	var sum batchResult
	var fatal error
	w := inflight.Window[batchResult]{
		Limit: min(c.cfg.concurrency, (n+size-1)/size), // one batch: sent on this goroutine
		Stop:  func(r batchResult) bool { return r.err != nil },
		Done: func(r batchResult) {
			sum.ok += r.ok
			sum.refused = joinRefusals(sum.refused, r.refused)
			if fatal == nil {
				fatal = r.err
			}
		},
	}
	for from := 0; from < n; from += size {
		to := min(from+size, n)
		if !w.Add(func() batchResult { return c.sendBatch(ctx, src, from, to) }) {
			break
		}
	}
	w.Wait()
	if fatal != nil {
		return c.undelivered(ctx, fatal, n-sum.ok-sum.refused.failed(), n)
	}
	if sum.refused != nil {
		sum.refused.Success = sum.ok
		return sum.refused
	}
	return nil
}

// batchResult is the outcome of sending a batch: how many points the server
// accepted, the points it refused (nil if none), and a failure that stops
// the call (an *HTTPError, a *NetworkError or ctx's error).
type batchResult struct {
	ok      int
	refused *SendError
	err     error
}

// body returns the request body of points [from, to) of src: compressed on
// several cores when it is large (body_parallel.go), else streamed by one
// goroutine and an encoder (body.go).
func (c *Client) body(src pointSet, from, to int) (io.ReadCloser, error) {
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

// sendBatch posts points [from, to), splitting on 413; the second half of
// a split batch is not sent after a failure of the first.
func (c *Client) sendBatch(ctx context.Context, src pointSet, from, to int) batchResult {
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
		return batchResult{err: err}
	}
	if code := resp.StatusCode; code >= 200 && code <= 299 {
		io.Copy(io.Discard, resp.Body) // a capped summary at most: keep the connection
		resp.Body.Close()
		return batchResult{ok: to - from}
	}
	body := readErrorBody(resp.Body)
	switch n := to - from; resp.StatusCode {
	case http.StatusRequestEntityTooLarge:
		if n > c.cfg.minSplit {
			mid := from + n/2
			r1 := c.sendBatch(ctx, src, from, mid)
			if r1.err != nil {
				return r1
			}
			r2 := c.sendBatch(ctx, src, mid, to)
			return batchResult{r1.ok + r2.ok, joinRefusals(r1.refused, r2.refused), r2.err}
		}
		return batchResult{refused: c.tooLarge(body, n)}
	case http.StatusBadRequest:
		se := c.refusal(body, n)
		return batchResult{ok: se.Success, refused: se}
	}
	return batchResult{err: c.httpError(&req, resp, attempts, body)}
}
