package apptuit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// request describes one logical API call; do turns it into one or more HTTP
// attempts.
type request struct {
	op     string // for errors: "send", "query", "promql"
	method string
	url    string
	header http.Header
	// body returns a fresh body per attempt; nil for none. Its Close must be
	// idempotent and safe while another goroutine reads: the transport
	// closes it, and so does attempt when the request fails or its
	// response is closed, so that a streamed body's encoder has stopped
	// reading the caller's points once the call returns.
	body     func() (io.ReadCloser, error)
	maxBytes int64 // cap on the successful response body
}

// do performs r, retrying connection errors, 429 and 5xx answers up to the
// configured count with exponential backoff and full jitter, honouring
// Retry-After and ctx. It returns the last response, whatever its status,
// with a body that fails once more than r.maxBytes are read (non-2xx bodies
// are capped at 1 MiB), and the number of attempts made. The caller closes
// the body. A request that never got an answer returns a *NetworkError (or
// ctx's error); one redirected where the client does not follow (another
// origin, see redirect.go) a *RedirectError, at once.
func (c *Client) do(ctx context.Context, r request) (*http.Response, int, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.follow(ctx, r) // redirect.go
		if ce := (*compressError)(nil); errors.As(err, &ce) {
			return nil, attempt + 1, fmt.Errorf("apptuit: %s: %w", r.op, ce)
		}
		if re := (*RedirectError)(nil); errors.As(err, &re) {
			return nil, attempt + 1, re
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, attempt + 1, fmt.Errorf("apptuit: %s: %w", r.op, ctxErr)
		}
		retry := err != nil || retryableStatus(resp.StatusCode)
		if !retry || attempt >= c.cfg.retries {
			if err != nil {
				return nil, attempt + 1, &NetworkError{Op: r.op, Attempts: attempt + 1, Err: err}
			}
			return resp, attempt + 1, nil
		}
		wait := c.backoff(attempt)
		if resp != nil {
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				wait = ra
			}
			// Drain a little so the connection can be reused.
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, attempt + 1, fmt.Errorf("apptuit: %s: %w", r.op, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) attempt(ctx context.Context, r request) (*http.Response, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if c.cfg.timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
	}
	var body io.ReadCloser
	if r.body != nil {
		b, err := r.body()
		if err != nil {
			cancel()
			return nil, err
		}
		body = b
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.url, body)
	if err != nil {
		cancel()
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	if r.body != nil {
		req.GetBody = r.body
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	// Shared, never modified: no allocation per request.
	if c.auth != "" { // empty with WithNoAuth
		req.Header["Authorization"] = c.fixedHeaders.auth
	}
	req.Header["User-Agent"] = c.fixedHeaders.userAgent
	resp, err := c.hc.Do(req)
	if err != nil {
		if body != nil {
			body.Close()
		}
		cancel()
		return nil, err
	}
	if resp.Request == nil { // a RoundTripper of WithHTTPClient may leave it out
		resp.Request = req
	}
	limit := r.maxBytes
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = defaultMaxErrorBody
	}
	resp.Body = &cappedBody{rc: resp.Body, left: limit, limit: limit, cancel: cancel, reqBody: body}
	return resp, nil
}

// backoff returns a random wait in [0, min(max, base·2^attempt)).
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.cfg.backoffMax
	if attempt < 30 {
		if d := c.cfg.backoffBase << attempt; d > 0 && d < ceil {
			ceil = d
		}
	}
	return rand.N(ceil)
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(defaultRetryAfterCeil/time.Second) {
			return defaultRetryAfterCeil, true // and no overflow below
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, defaultRetryAfterCeil), true
}

// ErrResponseTooLarge is returned while reading a response body that is
// larger than the configured cap.
var ErrResponseTooLarge = errors.New("apptuit: response body exceeds the size limit")

// cappedBody reads at most limit bytes and then fails with
// ErrResponseTooLarge instead of truncating silently.
type cappedBody struct {
	rc      io.ReadCloser
	left    int64
	limit   int64
	cancel  context.CancelFunc
	reqBody io.Closer // the request's body, closed with the response's; may be nil
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte to tell "exactly at the cap" from "over".
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w (%d bytes)", ErrResponseTooLarge, b.limit)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	if b.reqBody != nil {
		b.reqBody.Close()
	}
	return err
}

// fixedHeaders are header values made once per client; requests share
// them (net/http does not modify header values).
type fixedHeaders struct {
	auth, userAgent []string
	put             http.Header // of POST /api/put; copied into each request
}

func (c *Client) initHeaders() {
	c.fixedHeaders.auth = []string{c.auth}
	c.fixedHeaders.userAgent = []string{c.userAgent}
	c.fixedHeaders.put = http.Header{"Content-Type": {"application/json"}}
	if c.encoding != "" {
		c.fixedHeaders.put["Content-Encoding"] = []string{c.encoding}
	}
}
