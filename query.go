package apptuit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// QueryResult is the answer to Query or QueryRange: the outputs of the query,
// in the order the server returned them, and what the server said about
// them: whether the answer is partial, its warnings and its notes.
//
// A QueryResult is not modified by the library after it is returned; it is
// safe for concurrent reads.
type QueryResult struct {
	outputs []*Output

	// Partial is true when the server marked the answer as possibly
	// incomplete: VictoriaMetrics cluster's "isPartial": true, which
	// vmselect sets while a vmstorage node does not answer (the series and
	// points of that node are missing). WithDenyPartial makes such an
	// answer an error instead. Always false for Query: Apptuit's
	// query-language answers carry no such flag that is known.
	Partial bool

	// Warnings are the server's PromQL "warnings" (Prometheus: e.g. a
	// remote-read source that failed; Thanos reports its partial answers
	// here). Always empty for Query, whose answers carry none.
	Warnings []string

	// Infos are the server's PromQL "infos" (Prometheus 3: e.g. "metric
	// might not be a counter"): notes on the query, not on the data.
	// Always empty for Query.
	Infos []string
}

// Output is one named output of a query: for fetch('m') the id is the
// metric name, for an assignment "a = fetch(...)" it is "a"; for QueryRange
// it is the PromQL expression. Series holds its time series with their
// points, in the order the server returned them.
type Output struct {
	ID     string
	Series []*TimeSeries
}

// Len returns the number of outputs. Outputs without series (an empty
// "result") are not counted: the decoder skips them, as apptuit-py does.
func (r *QueryResult) Len() int {
	if r == nil {
		return 0
	}
	return len(r.outputs)
}

// Output returns the i-th output (0-based, in response order), or nil when
// i is out of range. It costs a bounds check.
func (r *QueryResult) Output(i int) *Output {
	if r == nil || i < 0 || i >= len(r.outputs) {
		return nil
	}
	return r.outputs[i]
}

// Get returns the first output whose ID is id, or nil when there is none.
// It scans the outputs: O(number of outputs).
func (r *QueryResult) Get(id string) *Output {
	if r == nil {
		return nil
	}
	for _, o := range r.outputs {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// Outputs returns the outputs in response order. The slice is a copy (one
// allocation); the outputs themselves are shared.
func (r *QueryResult) Outputs() []*Output {
	if r == nil {
		return nil
	}
	return append([]*Output(nil), r.outputs...)
}

// Query runs an Apptuit query-language query (for example
// "fetch('nyc.taxi.rides').downsample('1h', 'avg')") over [start, end] with
// GET {endpoint}/api/query?start=S[&end=E]&q=Q, S and E in Unix seconds and
// Q percent-encoded as apptuit-py does (everything but ASCII letters,
// digits and "_.-~"). A zero end is left out of the request: the server
// then queries up to now.
//
// Points the server returns outside [start, end] (it does return points
// before start) are dropped; with a zero end there is no upper bound.
// Outputs with no series are skipped, so a query matching nothing gives a
// result with Len() == 0 (apptuit-py returns None there). A null value
// becomes NaN, keeping its timestamp, as pandas would.
//
// The request is retried like Send (connection errors, 429 and 5xx, with
// backoff, honouring Retry-After). A non-2xx answer returns an *HTTPError
// with Op "query", the status, the server's message and the start of the
// body (401 matches ErrUnauthorized). A response larger than
// WithMaxResponseBytes (default 256 MiB) fails with an error wrapping
// ErrResponseTooLarge: at once when its Content-Length says so, else once
// the cap is read, holding no more than the cap in memory.
//
// Cost: the body is read whole (one buffer when the server sends a
// Content-Length, else chunks joined at the end, so twice the body at the
// peak), then decoded by a scanner that allocates per series (the points'
// two slices, sized exactly, and the names and tags), never per point:
// O(response size). bench/RESULTS.md has its speed.
func (c *Client) Query(ctx context.Context, q string, start, end time.Time) (*QueryResult, error) {
	if err := c.made(); err != nil {
		return nil, err
	}
	if err := c.lineUnsupported("query"); err != nil {
		return nil, err
	}
	if start.IsZero() {
		return nil, errors.New("apptuit: query: start is the zero time")
	}
	if !end.IsZero() && end.Before(start) {
		return nil, fmt.Errorf("apptuit: query: end %v is before start %v", end, start)
	}
	u := make([]byte, 0, len(c.endpoint)+40+3*len(q))
	u = append(u, c.endpoint...)
	u = append(u, "/api/query?start="...)
	u = strconv.AppendInt(u, start.Unix(), 10)
	if !end.IsZero() {
		u = append(u, "&end="...)
		u = strconv.AppendInt(u, end.Unix(), 10)
	}
	u = append(u, "&q="...)
	u = appendPyQuote(u, q)

	req := request{
		op:       "query",
		method:   http.MethodGet,
		url:      string(u),
		header:   http.Header{"Accept": {"application/json"}},
		maxBytes: c.cfg.maxResponse,
	}
	data, _, _, err := c.fetch(ctx, &req)
	if err != nil {
		return nil, err
	}
	res, err := decodeQueryBytes(data, start, end)
	if err != nil {
		return nil, fmt.Errorf("apptuit: query: %w", err)
	}
	return res, nil
}

// appendPyQuote percent-encodes s as Python's urllib.parse.quote(s, safe="")
// does: ASCII letters, digits and "_.-~" are kept, every other byte of the
// UTF-8 encoding becomes %XX with upper-case hex digits.
func appendPyQuote(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == '-', c == '~':
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}
