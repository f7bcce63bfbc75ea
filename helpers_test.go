package apptuit

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/apptuit-go/apptuit/internal/leakcheck"
)

// captured is one request as a test server saw it, body decompressed.
type captured struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// recorder is an httptest server that records requests and answers with
// the responses queued in it (then 204).
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []captured
	answers []func(w http.ResponseWriter, c captured)
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) serve(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	body := raw
	switch req.Header.Get("Content-Encoding") {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			body, _ = io.ReadAll(zr)
		}
	case "deflate":
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			http.Error(w, "zlib: invalid header", 400)
			return
		}
		body, _ = io.ReadAll(zr)
	}
	c := captured{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), body}
	r.mu.Lock()
	r.reqs = append(r.reqs, c)
	var answer func(http.ResponseWriter, captured)
	if len(r.answers) > 0 {
		answer, r.answers = r.answers[0], r.answers[1:]
	}
	r.mu.Unlock()
	if answer != nil {
		answer(w, c)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// queue adds answers given as status and body.
func (r *recorder) queue(status int, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, func(w http.ResponseWriter, _ captured) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

func (r *recorder) queueFunc(f func(w http.ResponseWriter, c captured)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, f)
}

func (r *recorder) requests() []captured {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]captured(nil), r.reqs...)
}

// checkNoLeaks fails the test if goroutines started during it are still
// running shortly after it ends (idle HTTP connections are closed first, by
// the cleanups mustNew registers).
func checkNoLeaks(t *testing.T) { leakcheck.AtCleanup(t) }

func mustNew(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.hc.CloseIdleConnections() })
	return c
}

// withMinSplitSize sets the smallest batch still split in halves on a 413
// (100 otherwise): the tests' hook.
func withMinSplitSize(n int) Option {
	return func(c *config) error { c.minSplit = n; return nil }
}
