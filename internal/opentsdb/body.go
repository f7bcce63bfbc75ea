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
	tooBig := &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Request Entity Too Large: the body exceeds %d bytes", h.MaxBody)}
	if r.ContentLength > h.MaxBody {
		return 0, tooBig
	}
	body := NewBodyReader(w, r.Body, h.BodyTimeout)
	defer body.Clear()
	raw := &capReader{r: body, max: h.MaxBody}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	src, headerErr := decompressor(enc, raw, h.MaxDecompressed)
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
		return 0, h.readError(r, raw.err)
	case raw.over:
		return 0, tooBig
	case raw.n == 0:
		return 0, &bodyError{http.StatusBadRequest, msgMissingContent}
	case headerErr != nil:
		return 0, &bodyError{http.StatusBadRequest, headerErr.Error()}
	case src == nil:
		return 0, &bodyError{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Encoding %q (want gzip, deflate or identity)", enc)}
	case src.over: // decompressed (raw is not over)
		return src.n, &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Request Entity Too Large: the decompressed body exceeds %d bytes", h.MaxDecompressed)}
	case src.err != nil: // decompressed (raw has no error)
		return src.n, &bodyError{http.StatusBadRequest, src.err.Error()}
	}
	return src.n, outcome.err()
}

// decompressor returns the reader of the body of Content-Encoding enc:
// raw itself without an encoding, else its decompression capped at max
// bytes; nil for an encoding it does not know, or with the error of a bad
// compression header.
func decompressor(enc string, raw *capReader, max int64) (*capReader, error) {
	var zr io.Reader
	var err error
	switch enc {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		zr, err = gzip.NewReader(raw)
	case "deflate":
		// HTTP's "deflate" is zlib (RFC 1950); raw deflate fails here with
		// "zlib: invalid header", as on VictoriaMetrics.
		zr, err = zlib.NewReader(raw)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &capReader{r: zr, max: max}, nil
}

// readError is the answer to a body whose reading failed with err.
func (h *Put) readError(r *http.Request, err error) *bodyError {
	// Closed unread, the body is not drained before the answer (as
	// net/http would do for up to 256 KiB): the connection is closed
	// after it.
	r.Body.Close()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &bodyError{http.StatusRequestTimeout, fmt.Sprintf("Request Timeout: the body was not received within %v", h.BodyTimeout)}
	}
	return &bodyError{http.StatusBadRequest, "reading the body: " + err.Error()}
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
