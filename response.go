package apptuit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reads responses: successful query bodies within their cap, and
// error bodies into an *HTTPError with the server's message.

// fetch sends the query req and reads the body of a 2xx answer (readBody,
// within the client's cap on responses); another status is an
// *HTTPError. It also returns the response, closed, and the attempts made,
// for the caller's own judgement of the body.
func (c *Client) fetch(ctx context.Context, req *request) (body []byte, resp *http.Response, attempts int, err error) {
	resp, attempts, err = c.do(ctx, *req)
	if err != nil {
		return nil, nil, 0, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp, attempts, c.httpError(req, resp, attempts, readErrorBody(resp.Body))
	}
	if body, err = readBody(resp, c.cfg.maxResponse); err != nil {
		return nil, resp, attempts, fmt.Errorf("apptuit: %s: %w", req.op, readError(err))
	}
	return body, resp, attempts, nil
}

// readBody reads the whole body of a successful response, at most limit
// bytes, and closes it. A Content-Length above limit fails at once, before
// anything is read. A body that turns out larger than limit fails with a
// *sizeError once limit bytes are read, and at that point the memory held is
// limit bytes: the body is read into chunks (32 KiB, doubling up to 4 MiB,
// the last one cut to what the cap leaves), which are joined only when the
// body ended within the cap. A body of known length is read into one buffer
// of exactly that size.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, &sizeError{limit: limit, declared: resp.ContentLength}
	}
	if n := resp.ContentLength; n >= 0 {
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, err
		}
		// A body longer than it declared is cut short by net/http itself.
		return b, nil
	}
	return readChunked(resp.Body, limit)
}

const (
	firstChunk = 32 << 10
	maxChunk   = 4 << 20
)

func readChunked(r io.Reader, limit int64) ([]byte, error) {
	var chunks [][]byte
	var total int64
	size := int64(firstChunk)
	for {
		if total == limit {
			// Full: one more byte means too large.
			var one [1]byte
			n, err := io.ReadFull(r, one[:])
			switch {
			case n > 0 || errors.Is(err, ErrResponseTooLarge):
				return nil, &sizeError{limit: limit}
			case err != io.EOF:
				return nil, err
			}
			break
		}
		c := make([]byte, min(size, limit-total))
		n, err := io.ReadFull(r, c)
		total += int64(n)
		chunks = append(chunks, c[:n])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			if errors.Is(err, ErrResponseTooLarge) {
				return nil, &sizeError{limit: limit}
			}
			return nil, err
		}
		size = min(2*size, maxChunk)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for i, c := range chunks {
		out = append(out, c...)
		chunks[i] = nil
	}
	return out, nil
}

// readErrorBody reads the start of a non-2xx body, at most
// defaultMaxErrorBody bytes, and closes it. A body cut there, or by a
// broken connection, is kept as far as it was read: it is only quoted.
func readErrorBody(body io.ReadCloser) []byte {
	defer body.Close()
	b, _ := io.ReadAll(io.LimitReader(body, defaultMaxErrorBody))
	return b
}

// httpError builds the *HTTPError of a non-2xx answer to r.
func (c *Client) httpError(r *request, resp *http.Response, attempts int, body []byte) *HTTPError {
	msg, prom := serverMessage(body)
	e := &HTTPError{
		Op:         r.op,
		Method:     r.method,
		URL:        displayURL(resp.Request.URL.String()), // where a same-origin redirect led, if one did
		StatusCode: resp.StatusCode,
		Attempts:   attempts,
		Message:    msg,
		Body:       string(body),
		noAuth:     c.auth == "",
	}
	if prom != nil && r.op == "promql" {
		prom.StatusCode = resp.StatusCode
		e.cause = prom
	}
	return e
}

// displayURL is u without its query string and with any password
// redacted: what an error may show.
func displayURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			return u[:i]
		}
		return u
	}
	p.RawQuery, p.ForceQuery, p.Fragment = "", false, ""
	return p.Redacted()
}

// serverMessage extracts the message of an error body: Apptuit/OpenTSDB's
// {"error":{"message":…,"details":…}}, Prometheus' {"status":"error",
// "errorType":…,"error":…} (also returned as a *PromQLError), an "error"
// or "message" string, an HTML page's title, or the text on one line.
func serverMessage(body []byte) (string, *PromQLError) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", nil
	}
	switch body[0] {
	case '{':
		var d struct {
			Status    string          `json:"status"`
			ErrorType string          `json:"errorType"`
			Error     json.RawMessage `json:"error"`
			Message   string          `json:"message"`
		}
		if json.Unmarshal(body, &d) != nil {
			break
		}
		var s string
		if json.Unmarshal(d.Error, &s) == nil && s != "" {
			if d.Status == "error" {
				return oneLine(s), &PromQLError{ErrorType: d.ErrorType, Message: s}
			}
			return oneLine(s), nil
		}
		var o struct {
			Message string `json:"message"`
			Details string `json:"details"`
		}
		if json.Unmarshal(d.Error, &o) == nil && o.Message != "" {
			if o.Details != "" && !strings.Contains(o.Message, o.Details) {
				return oneLine(o.Message + " (" + o.Details + ")"), nil
			}
			return oneLine(o.Message), nil
		}
		if d.Message != "" {
			return oneLine(d.Message), nil
		}
	case '<':
		return htmlTitle(body), nil
	}
	return oneLine(string(body)), nil
}

// htmlTitle returns the text of an HTML page's <title>, or "".
func htmlTitle(page []byte) string {
	lower := asciiLower(page) // same length as page, unlike bytes.ToLower
	i := bytes.Index(lower, []byte("<title>"))
	if i < 0 {
		return ""
	}
	i += len("<title>")
	j := bytes.Index(lower[i:], []byte("</title>"))
	if j < 0 {
		return ""
	}
	return oneLine(string(page[i : i+j]))
}

func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// oneLine makes s printable on one line: runs of white space and control
// characters become one space, invalid UTF-8 becomes U+FFFD (a server may
// quote the binary body it could not read).
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToValidUTF8(s, string(utf8.RuneError)) {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// refusal reads a 400 answer to a batch of n points: Apptuit/OpenTSDB
// details JSON, or any other body (VictoriaMetrics and InfluxDB answer in
// plain text). Counts that cannot be right (negative, not adding up to n,
// or none failed) are not trusted: the batch counts as failed, so that
// Success + Failed is always n.
func (c *Client) refusal(body []byte, n int) *SendError {
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
		msg, _ := serverMessage(body)
		se := &SendError{StatusCode: http.StatusBadRequest, Failed: n, Message: msg}
		if c.cfg.compression == Deflate {
			se.Hint = "the server may not accept Content-Encoding: deflate (InfluxDB and VictoriaMetrics 1.79 do not); send with gzip, the default (WithCompression(apptuit.Gzip))"
		}
		return se
	}
	se := &SendError{StatusCode: http.StatusBadRequest, Success: *d.Success, Failed: *d.Failed}
	if s, f := se.Success, se.Failed; s < 0 || f < 1 || s+f != n {
		// Negative, more than the batch, not adding up to it, or no point
		// failed although the answer is an error.
		se.Success, se.Failed = 0, n
		se.Hint = fmt.Sprintf("the server's counts (success %d, failed %d) cannot be those of a 400 answer to %d points, so all of them count as failed", s, f, n)
	}
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

// tooLarge is a 413 answer to a batch of n points that is not split further.
func (c *Client) tooLarge(body []byte, n int) *SendError {
	msg, _ := serverMessage(body)
	return &SendError{
		StatusCode: http.StatusRequestEntityTooLarge,
		Failed:     n,
		Message:    msg,
		Hint:       fmt.Sprintf("too large even as %d points, below which batches are not split (%d)", n, c.cfg.minSplit),
	}
}

// joinRefusals adds up two refusals, either of which may be nil; a and b are
// not modified.
func joinRefusals(a, b *SendError) *SendError {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	merged := *a
	merged.Errors = append([]PointError(nil), a.Errors...)
	merged.add(b)
	return &merged
}

// failed is e.Failed, 0 for nil.
func (e *SendError) failed() int {
	if e == nil {
		return 0
	}
	return e.Failed
}

// undelivered sets the counts of a send call on its failure: an
// *HTTPError, *NetworkError or *RedirectError gets them as fields, ctx's error a message.
func (c *Client) undelivered(ctx context.Context, err error, undelivered, total int) error {
	var he *HTTPError
	var ne *NetworkError
	var re *RedirectError
	switch {
	case errors.As(err, &he):
		he.Undelivered, he.Total = undelivered, total
	case errors.As(err, &ne):
		ne.Undelivered, ne.Total = undelivered, total
	case errors.As(err, &re):
		re.Undelivered, re.Total = undelivered, total
	case ctx.Err() != nil:
		var b strings.Builder
		writeUndelivered(&b, undelivered, total)
		return fmt.Errorf("apptuit: send: %s%w", b.String(), ctx.Err())
	}
	return err
}

// readError words an error of readBody for "apptuit: <op>: %w".
func readError(err error) error {
	var se *sizeError
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("reading the response: %w", err)
}
