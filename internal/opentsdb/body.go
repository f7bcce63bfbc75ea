package opentsdb

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// capReader reads at most max bytes from r: a read past that fails with
// errOverCap and sets over. It remembers the first error of r other than
// io.EOF, so that the judgement of a body can name what failed first.
type capReader struct {
	r    io.Reader
	max  int64
	n    int64
	over bool
	err  error
}

var errOverCap = errors.New("over the size limit")

func (c *capReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errOverCap
	}
	if rem := c.max - c.n + 1; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.over = true
		n -= int(c.n - c.max)
		c.n = c.max
		return n, errOverCap
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// readPut reads a put body as a stream, decompressing it and parsing it as
// it arrives, and hands each data point to col. Memory stays bounded
// whatever the body: the parser's buffers and one point at a time (col
// keeps the accepted points compactly). It returns the decompressed size read
// (0 when the body failed before decompression) and the whole-body error,
// if any, judged as if the body had been read in full before being looked
// at (a point with an object where a scalar belongs is a JSON error like a
// syntax error), in this order: a failed read (400, or 408 past the body timeout), the
// body over the size limit (413), an empty body (400), an unsupported
// Content-Encoding (415), a bad compression header (400), the decompressed
// body over its limit (413), a decompression error (400), then the JSON's
// own errors (400). So, to be judged, a body is read to its end (within
// both limits) even after its JSON has failed.
func (h *Put) read(w http.ResponseWriter, r *http.Request, col *putCollector) (int64, *bodyError) {
	maxBody, maxDec := h.MaxBody, h.MaxDecompressed
	tooBig := &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Request Entity Too Large: the body exceeds %d bytes", maxBody)}
	if r.ContentLength > maxBody {
		return 0, tooBig
	}
	body := NewBodyReader(w, r.Body, h.BodyTimeout)
	defer body.Clear()
	raw := &capReader{r: body, max: maxBody}
	var (
		src       io.Reader // what the parser reads
		dec       *capReader
		headerErr error
		enc       = strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	)
	switch enc {
	case "", "identity":
		src = raw
	case "gzip", "x-gzip":
		if zr, err := gzip.NewReader(raw); err != nil {
			headerErr = err
		} else {
			dec = &capReader{r: zr, max: maxDec}
			src = dec
		}
	case "deflate":
		// HTTP's "deflate" is zlib (RFC 1950); raw deflate fails here with
		// "zlib: invalid header", as on VictoriaMetrics.
		if zr, err := zlib.NewReader(raw); err != nil {
			headerErr = err
		} else {
			dec = &capReader{r: zr, max: maxDec}
			src = dec
		}
	}
	outcome := parseOK
	if src != nil {
		outcome = newPutParser(src, col.point).parse()
		if col.unparsable && outcome != parseRead {
			outcome = parseUnparsable
		}
		io.Copy(io.Discard, src) // to the end: the checksum, the limits
	}
	io.Copy(io.Discard, raw)

	switch {
	case raw.err != nil:
		// Closed unread, the body is not drained before the answer (as
		// net/http would do for up to 256 KiB): the connection is closed
		// after it.
		r.Body.Close()
		var ne net.Error
		if errors.As(raw.err, &ne) && ne.Timeout() {
			return 0, &bodyError{http.StatusRequestTimeout, fmt.Sprintf("Request Timeout: the body was not received within %v", h.BodyTimeout)}
		}
		return 0, &bodyError{http.StatusBadRequest, "reading the body: " + raw.err.Error()}
	case raw.over:
		return 0, tooBig
	case raw.n == 0:
		return 0, &bodyError{http.StatusBadRequest, msgMissingContent}
	case src == nil && headerErr == nil:
		return 0, &bodyError{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Encoding %q (want gzip, deflate or identity)", enc)}
	case headerErr != nil:
		return 0, &bodyError{http.StatusBadRequest, headerErr.Error()}
	}
	size := raw.n
	if dec != nil {
		size = dec.n
		if dec.over {
			return size, &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Request Entity Too Large: the decompressed body exceeds %d bytes", maxDec)}
		}
		if dec.err != nil {
			return size, &bodyError{http.StatusBadRequest, dec.err.Error()}
		}
	}
	return size, outcome.err()
}

// err returns the whole-body error of a parse outcome, nil for parseOK.
func (o parseOutcome) err() *bodyError {
	switch o {
	case parseMissing:
		return &bodyError{http.StatusBadRequest, msgMissingContent}
	case parseMustStart:
		return &bodyError{http.StatusBadRequest, msgMustStart}
	case parseUnparsable, parseRead:
		return &bodyError{http.StatusBadRequest, msgUnparsable}
	case parseNoPoints:
		return &bodyError{http.StatusBadRequest, msgNoDatapoints}
	case parseTooLarge:
		return &bodyError{http.StatusBadRequest, fmt.Sprintf("Data point too large: its metric, timestamp, value and tags exceed %d bytes", maxPointText)}
	}
	return nil
}

// BodyReader reads a request body within a budget of waiting: the time
// spent blocked on the client, summed over reads, may not pass the body
// timeout (the connection's read deadline is set to what is left before
// each read). Time the server spends on what it read does not count, so a
// busy server does not fail a client that sends at a fair pace.
type BodyReader struct {
	r    io.Reader
	rc   *http.ResponseController
	left time.Duration
	ok   bool // the connection takes deadlines
}

// NewBodyReader returns a reader of body that may wait for the client at
// most timeout in all (0: no bound). Call Clear once the body is read.
func NewBodyReader(w http.ResponseWriter, body io.Reader, timeout time.Duration) *BodyReader {
	b := &BodyReader{r: body, rc: http.NewResponseController(w), left: timeout}
	// Not on, e.g., a ResponseRecorder.
	b.ok = timeout > 0 && b.rc.SetReadDeadline(time.Now().Add(b.left)) == nil
	return b
}

func (b *BodyReader) Read(p []byte) (int, error) {
	if !b.ok {
		return b.r.Read(p)
	}
	start := time.Now()
	b.rc.SetReadDeadline(start.Add(max(b.left, time.Millisecond)))
	n, err := b.r.Read(p)
	b.left -= time.Since(start)
	return n, err
}

// Clear removes the deadline: once the body is read, a deadline left
// behind would cancel the request's context.
func (b *BodyReader) Clear() {
	if b.ok {
		b.rc.SetReadDeadline(time.Time{})
	}
}

// acquire takes one of the slots for request bodies being read and
// stored (Slots), waiting up to SlotWait. It returns the function that
// gives the slot back, or the 503 to answer.
func (h *Put) acquire(r *http.Request) (func(), *bodyError) {
	if h.Slots == nil {
		return func() {}, nil
	}
	release := func() { <-h.Slots }
	select {
	case h.Slots <- struct{}{}:
		return release, nil
	default:
	}
	busy := &bodyError{http.StatusServiceUnavailable, fmt.Sprintf("Service Unavailable: %d request bodies are being read already (the limit); retry later", cap(h.Slots))}
	if h.SlotWait <= 0 {
		return nil, busy
	}
	t := time.NewTimer(h.SlotWait)
	defer t.Stop()
	select {
	case h.Slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, busy
	case <-r.Context().Done():
		return nil, busy // the client left; nobody reads the answer
	case <-h.Done:
		return nil, &bodyError{http.StatusServiceUnavailable, "server closed"}
	}
}
