package apptuittest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
)

// Default limits on request bodies; see WithMaxBodySize and
// WithMaxDecompressedSize.
const (
	DefaultMaxBodySize         = 32 << 20
	DefaultMaxDecompressedSize = 256 << 20
)

// Server is an in-memory fake of the Apptuit API: POST /api/put stores
// points, GET /api/query evaluates queries over them. All methods are safe
// for concurrent use.
type Server struct {
	cfg     config
	store   memStore
	faults  faultQueue
	handler http.Handler

	hs        *httptest.Server // nil until Start
	startOnce sync.Once
	done      chan struct{} // closed by Close; releases stalled requests
	closeOnce sync.Once

	mu   sync.Mutex
	reqs []Request
}

type config struct {
	token           string
	maxBody         int64
	maxDecompressed int64
	listener        net.Listener
	logf            func(Request)
	now             func() time.Time
}

// Option configures a Server.
type Option func(*config)

// WithToken makes the server require "Authorization: Bearer <token>" on every
// request (compared in constant time); others get 401. Without it any
// request is accepted.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithMaxBodySize sets the largest request body accepted as sent (before
// decompression); larger bodies get 413. The default is
// DefaultMaxBodySize (32 MiB).
func WithMaxBodySize(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithMaxDecompressedSize sets the largest decompressed body accepted; larger
// ones get 413. The default is DefaultMaxDecompressedSize (256 MiB).
func WithMaxDecompressedSize(n int64) Option { return func(c *config) { c.maxDecompressed = n } }

// WithListener makes Start (and NewServer) serve on l instead of a new
// loopback listener on a random port, e.g. net.Listen("tcp",
// "127.0.0.1:4242"). The server closes l on Close.
func WithListener(l net.Listener) Option { return func(c *config) { c.listener = l } }

// WithRequestLog calls f once for every request after it has been answered
// (or dropped), with the same record Requests returns. f runs on the
// request's goroutine and must be safe for concurrent use.
func WithRequestLog(f func(Request)) Option { return func(c *config) { c.logf = f } }

// WithClock sets the clock used for a query without end= and for relative
// times like "1h-ago". The default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Request records one request the server received.
type Request struct {
	Time     time.Time     // when it arrived
	Method   string        // e.g. "POST"
	Path     string        // URL path, e.g. "/api/put"
	RawQuery string        // URL query, e.g. "details"
	Header   http.Header   // a copy; an Authorization value is replaced by "<scheme> [redacted]" (or "[redacted]")
	BodySize int64         // decompressed body bytes read by /api/put (0 for other paths)
	Status   int           // status answered; 0 when the connection was dropped or the client left
	Accepted int           // points stored
	Failed   int           // points rejected
	Fault    string        // injected fault applied: "", "fail", "stall" or "drop"
	Duration time.Duration // from arrival to answer
}

// NewServer returns a started Server on a loopback listener (127.0.0.1 on a
// random port, or the listener given by WithListener). Call Close when done.
// Like httptest.NewServer, it panics if it cannot listen.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.Start()
	return s
}

// NewUnstartedServer returns a Server that does not listen yet: call Start,
// or serve Handler with an http.Server of your own. Call Close when done
// either way (it releases stalled requests).
func NewUnstartedServer(opts ...Option) *Server {
	cfg := config{maxBody: DefaultMaxBodySize, maxDecompressed: DefaultMaxDecompressedSize, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{cfg: cfg, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/put", s.servePut)
	mux.HandleFunc("/api/query", s.serveQuery)
	s.handler = mux
	return s
}

// Start starts serving, once; later calls do nothing. It panics if it
// cannot listen.
func (s *Server) Start() {
	s.startOnce.Do(func() {
		hs := httptest.NewUnstartedServer(s.Handler())
		if s.cfg.listener != nil {
			hs.Listener.Close()
			hs.Listener = s.cfg.listener
		}
		hs.Start()
		s.mu.Lock()
		s.hs = hs
		s.mu.Unlock()
	})
}

// Handler returns the server's HTTP handler: routing, authentication, fault
// injection and request logging included. Use it to serve the fake on an
// http.Server of your own.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// URL returns the base URL, e.g. "http://127.0.0.1:40321", to pass to
// apptuit.WithEndpoint. It is "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs == nil {
		return ""
	}
	return s.hs.URL
}

// Close releases stalled requests, shuts the listener down and waits for
// requests in flight to finish. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.startOnce.Do(func() {}) // a Start after Close does nothing
		s.mu.Lock()
		hs := s.hs
		s.mu.Unlock()
		if hs != nil {
			hs.Close()
		}
	})
}

// Points returns a copy of every point stored so far, in arrival order
// (within a request, in body order), with UTC timestamps. It costs one
// allocation per point plus the tag maps.
func (s *Server) Points() []apptuit.DataPoint { return s.store.dataPoints() }

// Requests returns a copy of the log of requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	copy(out, s.reqs)
	return out
}

// Reset forgets all stored points, the request log and pending faults.
func (s *Server) Reset() {
	s.store.reset()
	s.faults.reset()
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type recordKey struct{}

func withRecord(ctx context.Context, rec *Request) context.Context {
	return context.WithValue(ctx, recordKey{}, rec)
}

// recordOf returns the record of r, for handlers to fill in.
func recordOf(r *http.Request) *Request {
	if rec, _ := r.Context().Value(recordKey{}).(*Request); rec != nil {
		return rec
	}
	return &Request{}
}

func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.token == "" {
		return true
	}
	scheme, tok, ok := cutSpace(r.Header.Get("Authorization"))
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.token)) == 1
}

// drop reads the body, records the request, then closes the connection
// without answering. The record comes first so that a client that sees its
// connection die finds the drop in Requests.
func (s *Server) drop(w http.ResponseWriter, r *http.Request, rec *Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, s.cfg.maxBody))
	conn, _, err := http.NewResponseController(w).Hijack()
	rec.Duration = time.Since(rec.Time)
	s.record(*rec)
	if err != nil {
		panic(http.ErrAbortHandler) // no hijacking (HTTP/2): abort the stream
	}
	conn.Close()
}

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	rec := &Request{
		Time:     time.Now(),
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   redact(r.Header),
	}
	w := &statusWriter{ResponseWriter: rw}
	recorded := false // a dropped request is recorded before its connection closes
	defer func() {
		if recorded {
			return
		}
		rec.Status = w.status
		rec.Duration = time.Since(rec.Time)
		s.record(*rec)
	}()

	switch f := s.faults.next(); f.kind {
	case faultFail:
		rec.Fault = "fail"
		status := f.status
		if status < 100 || status > 599 {
			status = http.StatusInternalServerError // WriteHeader panics on invalid codes
		}
		writeError(w, status, "injected fault: status "+strconv.Itoa(f.status))
		return
	case faultDrop:
		rec.Fault = "drop"
		recorded = true
		s.drop(w, r, rec)
		return
	case faultStall:
		rec.Fault = "stall"
		// Read the body first: the server notices a client that hangs up
		// (and cancels the request's context) only once the body is read.
		buf, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.maxBody+1))
		if err != nil {
			return
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		t := time.NewTimer(f.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client left: answer nothing, store nothing
		case <-s.done:
			t.Stop()
			writeError(w, http.StatusServiceUnavailable, "server closed")
			return
		}
		if r.Context().Err() != nil {
			return
		}
	}

	switch r.URL.Path {
	case "/api/put", "/api/query":
	default:
		writeError(w, http.StatusNotFound, "Endpoint not found")
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="apptuit"`)
		writeError(w, http.StatusUnauthorized, "token is invalid: a valid \"Authorization: Bearer <token>\" header is required")
		return
	}
	s.handler.ServeHTTP(w, r.WithContext(withRecord(r.Context(), rec)))
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, rec)
	s.mu.Unlock()
	if s.cfg.logf != nil {
		s.cfg.logf(rec)
	}
}

func redact(h http.Header) http.Header {
	c := h.Clone()
	if v := c.Get("Authorization"); v != "" {
		if scheme, _, ok := cutSpace(v); ok {
			c.Set("Authorization", scheme+" [redacted]")
		} else {
			c.Set("Authorization", "[redacted]")
		}
	}
	return c
}

func cutSpace(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// errorBody is OpenTSDB's error shape: {"error":{"code":400,"message":"…"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":500,"message":"encoding the response failed"}}`)
	}
	writeRawJSON(w, status, b)
}

func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: status, Message: msg}})
}
