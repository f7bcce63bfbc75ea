package apptuittest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/internal/reqlog"
)

// Default limits on request bodies; see WithMaxBodySize and
// WithMaxDecompressedSize.
const (
	DefaultMaxBodySize         = 32 << 20
	DefaultMaxDecompressedSize = 256 << 20
)

// Defaults of the other bounds; see the options of the same names.
const (
	// DefaultMaxConcurrentBodies is how many put bodies are read and stored
	// at once; DefaultBodyWait how long a put waits for its turn before 503.
	DefaultMaxConcurrentBodies = 8
	DefaultBodyWait            = time.Second
	// DefaultRequestLogSize is how many requests Requests keeps.
	DefaultRequestLogSize = 1000
)

// Server is an in-memory fake of the Apptuit API: POST /api/put stores
// points, GET /api/query evaluates queries over them. All methods are safe
// for concurrent use.
type Server struct {
	cfg    config
	store  memStore
	faults faultQueue
	reqs   *reqlog.Ring[Request]
	put    opentsdb.Put
	query  opentsdb.Query
	mux    *http.ServeMux

	hs        *httptest.Server // nil until Start
	startOnce sync.Once
	done      chan struct{} // closed by Close; releases stalled requests
	closeOnce sync.Once

	mu sync.Mutex // guards hs
}

type config struct {
	token           string
	maxBody         int64
	maxDecompressed int64
	maxBodies       int
	bodyWait        time.Duration
	logSize         int
	listener        net.Listener
	logf            func(Request)
	now             func() time.Time
	timeouts        Timeouts
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

// WithMaxDecompressedSize sets the largest decompressed body accepted;
// larger ones get 413. The default is DefaultMaxDecompressedSize
// (256 MiB). Bodies are decompressed and parsed as they arrive, so this
// bounds the time spent on a body, not the memory.
func WithMaxDecompressedSize(n int64) Option { return func(c *config) { c.maxDecompressed = n } }

// WithMaxConcurrentBodies bounds how many put bodies are read and stored at
// once to n (default DefaultMaxConcurrentBodies, 8). A put that finds them
// all busy waits up to wait (default DefaultBodyWait, 1 s; 0: not at all)
// for its turn, then gets 503 with "Retry-After: 1", which the apptuit
// client retries.
func WithMaxConcurrentBodies(n int, wait time.Duration) Option {
	return func(c *config) { c.maxBodies, c.bodyWait = n, wait }
}

// WithListener makes Start (and NewServer) serve on l instead of a new
// loopback listener on a random port, e.g. net.Listen("tcp",
// "127.0.0.1:4242"). The server closes l on Close.
func WithListener(l net.Listener) Option { return func(c *config) { c.listener = l } }

// WithRequestLog calls f once for every request after it has been answered
// (or, for a dropped one, before its connection is closed), with the same
// record Requests returns. f runs on the request's goroutine and must be
// safe for concurrent use.
func WithRequestLog(f func(Request)) Option { return func(c *config) { c.logf = f } }

// WithRequestLogSize sets how many requests Requests keeps, the newest
// (default DefaultRequestLogSize, 1000; 0 keeps none). Each record is at
// most about 8 KiB (see Request.Header).
func WithRequestLogSize(n int) Option { return func(c *config) { c.logSize = n } }

// WithClock sets the clock used for a query without end= and for relative
// times like "1h-ago". The default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Timeouts bound how long the server waits on a client. A zero field takes
// its default.
type Timeouts struct {
	// ReadHeader bounds reading a request's line and headers (default
	// 10 s): a client that sends them slowly ("slowloris") is disconnected.
	ReadHeader time.Duration
	// Body bounds the time a put body may keep the server waiting for it,
	// summed over its reads (default 1 min); past it the put gets 408 and
	// stores nothing. Time the server spends on the body does not count.
	Body time.Duration
	// Write bounds writing one response (default 1 min), against clients
	// that do not read.
	Write time.Duration
	// Idle bounds how long a kept-alive connection waits for its next
	// request (default 2 min).
	Idle time.Duration
}

// The timeouts of a Server without WithTimeouts (see Timeouts).
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = time.Minute
	DefaultWriteTimeout      = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
)

// WithTimeouts sets the server's timeouts (zero fields keep their
// defaults). They apply to the server Start runs; with Handler on a server
// of your own, Body and Write still apply, ReadHeader and Idle are that
// server's business.
func WithTimeouts(t Timeouts) Option { return func(c *config) { c.timeouts = t } }

// Request records one request the server received.
type Request struct {
	Time     time.Time     // when it arrived
	Method   string        // e.g. "POST"
	Path     string        // URL path, e.g. "/api/put" (cut at 2 KiB)
	RawQuery string        // URL query, e.g. "details" (cut at 2 KiB)
	Header   http.Header   // a copy, at most 4 KiB, each value cut at 1 KiB; Authorization and Proxy-Authorization values are replaced by "<scheme> [redacted]" (or "[redacted]"), Cookie values by "[redacted]"
	BodySize int64         // decompressed body bytes read by /api/put (0 for other paths)
	Status   int           // status answered; 0 when the connection was dropped or the client left
	Accepted int           // points accepted (stored)
	Failed   int           // points rejected
	Fault    string        // injected fault applied: "", "fail", "stall" or "drop"
	Errors   []string      // what went wrong, at most 5 messages of 512 bytes: the error answered, or the first rejected points' ("metric: message")
	Duration time.Duration // from arrival to answer
}

// Stats counts what a Server holds and has received since it started (or
// since Reset).
type Stats struct {
	Points   int    // points stored
	Series   int    // series stored
	Requests uint64 // requests received (Requests keeps the newest)
}

// NewServer returns a started Server on a loopback listener (127.0.0.1 on a
// random port, or the listener given by WithListener). Call Close when done.
// Like httptest.NewServer, it panics if it cannot listen; it also panics on
// an invalid option (Open returns that as an error).
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.Start()
	return s
}

// NewUnstartedServer returns a Server that does not listen yet: call Start,
// or serve Handler with an http.Server of your own. Call Close when done
// either way (it releases stalled requests). It panics where Open returns
// an error.
func NewUnstartedServer(opts ...Option) *Server {
	s, err := Open(opts...)
	if err != nil {
		panic("apptuittest: " + err.Error())
	}
	return s
}

// Open returns a Server that does not listen yet, like NewUnstartedServer,
// or an error for an invalid option (a negative size, count or duration,
// a nil clock); then a listener given with WithListener is left open, the
// caller's to close.
func Open(opts ...Option) (*Server, error) {
	cfg := config{
		maxBody: DefaultMaxBodySize, maxDecompressed: DefaultMaxDecompressedSize,
		maxBodies: DefaultMaxConcurrentBodies, bodyWait: DefaultBodyWait,
		logSize: DefaultRequestLogSize, now: time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, done: make(chan struct{}), reqs: reqlog.NewRing[Request](cfg.logSize)}
	s.store.init()
	s.put = opentsdb.Put{
		MaxBody: cfg.maxBody, MaxDecompressed: cfg.maxDecompressed, BodyTimeout: cfg.timeouts.Body,
		Slots: make(chan struct{}, cfg.maxBodies), SlotWait: cfg.bodyWait, Done: s.done,
		Commit: s.store.add,
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/api/put", func(w http.ResponseWriter, r *http.Request) {
		res := s.put.Serve(w, r)
		rec := reqlog.RecordOf[Request](r)
		rec.BodySize, rec.Accepted, rec.Failed, rec.Errors = res.BodySize, res.Accepted, res.Failed, res.Errors
	})
	s.query = opentsdb.Query{
		MaxPoints: opentsdb.DefaultQueryMaxPoints, MaxBytes: opentsdb.DefaultQueryMaxBytes,
		Timeout: opentsdb.DefaultQueryTimeout, Slots: make(chan struct{}, opentsdb.DefaultQueryConcurrency),
	}
	s.mux.HandleFunc("/api/query", func(w http.ResponseWriter, r *http.Request) {
		s.query.Serve(w, r, &s.store, s.cfg.now())
	})
	return s, nil
}

func (c *config) check() error {
	switch {
	case c.maxBody <= 0:
		return fmt.Errorf("WithMaxBodySize(%d): the size must be positive", c.maxBody)
	case c.maxDecompressed <= 0:
		return fmt.Errorf("WithMaxDecompressedSize(%d): the size must be positive", c.maxDecompressed)
	case c.maxBodies <= 0:
		return fmt.Errorf("WithMaxConcurrentBodies(%d, …): the count must be positive", c.maxBodies)
	case c.bodyWait < 0:
		return fmt.Errorf("WithMaxConcurrentBodies(…, %v): the wait must not be negative", c.bodyWait)
	case c.logSize < 0:
		return fmt.Errorf("WithRequestLogSize(%d): the size must not be negative", c.logSize)
	case c.timeouts.ReadHeader < 0 || c.timeouts.Body < 0 || c.timeouts.Write < 0 || c.timeouts.Idle < 0:
		return fmt.Errorf("WithTimeouts(%+v): timeouts must not be negative", c.timeouts)
	case c.now == nil:
		return errors.New("WithClock(nil): the clock must not be nil")
	}
	for _, f := range []struct {
		t   *time.Duration
		def time.Duration
	}{
		{&c.timeouts.ReadHeader, DefaultReadHeaderTimeout}, {&c.timeouts.Body, DefaultBodyTimeout},
		{&c.timeouts.Write, DefaultWriteTimeout}, {&c.timeouts.Idle, DefaultIdleTimeout},
	} {
		if *f.t == 0 {
			*f.t = f.def
		}
	}
	return nil
}

// maxHeaderBytes bounds a request's line and headers on the server Start
// runs (net/http's default is 1 MiB).
const maxHeaderBytes = 64 << 10

// Start starts serving, once; later calls do nothing. It panics if it
// cannot listen.
func (s *Server) Start() {
	s.startOnce.Do(func() {
		hs := httptest.NewUnstartedServer(s.Handler())
		if s.cfg.listener != nil {
			hs.Listener.Close()
			hs.Listener = s.cfg.listener
		}
		hs.Config.ReadHeaderTimeout = s.cfg.timeouts.ReadHeader
		hs.Config.IdleTimeout = s.cfg.timeouts.Idle
		hs.Config.MaxHeaderBytes = maxHeaderBytes
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
func (s *Server) Points() []apptuit.DataPoint { return s.store.points() }

// Requests returns a copy of the log of requests received, oldest first:
// the newest WithRequestLogSize of them (1000 by default).
func (s *Server) Requests() []Request { return s.reqs.Snapshot() }

// Stats returns the counts of what the server holds and has received. Its
// cost is constant.
func (s *Server) Stats() Stats {
	p, n := s.store.counts()
	return Stats{Points: p, Series: n, Requests: s.reqs.Count()}
}

// Series returns every stored series, sorted by metric, then by tags. It
// copies the tags, not the points: its cost is proportional to the number
// of series.
func (s *Server) Series() []SeriesInfo { return s.store.series() }

// Reset forgets all stored points, the request log, the counts of Stats
// and pending faults.
func (s *Server) Reset() {
	s.store.init()
	s.faults.reset()
	s.reqs.Reset()
}

// drop reads the body, records the request, then closes the connection
// without answering. The record comes first so that a client that sees its
// connection die finds the drop in Requests.
func (s *Server) drop(w http.ResponseWriter, r *http.Request, rec *Request) {
	body := opentsdb.NewBodyReader(w, r.Body, s.cfg.timeouts.Body)
	io.Copy(io.Discard, io.LimitReader(body, s.cfg.maxBody))
	conn, _, err := http.NewResponseController(w).Hijack()
	rec.Duration = time.Since(rec.Time)
	s.record(*rec)
	if err != nil {
		panic(http.ErrAbortHandler) // no hijacking (HTTP/2): abort the stream
	}
	conn.Close()
}

// stall reads the body (the server notices a client that hangs up, and
// cancels the request's context, only once the body is read), waits d,
// and reports whether the request is still to be handled.
func (s *Server) stall(w http.ResponseWriter, r *http.Request, d time.Duration) bool {
	body := opentsdb.NewBodyReader(w, r.Body, s.cfg.timeouts.Body)
	buf, err := io.ReadAll(io.LimitReader(body, s.cfg.maxBody+1))
	body.Clear()
	if err != nil {
		return false
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return r.Context().Err() == nil
	case <-r.Context().Done():
		return false // the client left: answer nothing, store nothing
	case <-s.done:
		opentsdb.WriteError(w, http.StatusServiceUnavailable, "server closed")
		return false
	}
}

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	rec := &Request{
		Time:     time.Now(),
		Method:   r.Method,
		Path:     opentsdb.Cut(r.URL.Path, reqlog.MaxURL),
		RawQuery: opentsdb.Cut(r.URL.RawQuery, reqlog.MaxURL),
		Header:   reqlog.Header(r.Header),
	}
	w := &reqlog.Writer{ResponseWriter: rw, WriteTimeout: s.cfg.timeouts.Write}
	recorded := false // a dropped request is recorded before its connection closes
	defer func() {
		if recorded {
			return
		}
		rec.Status = w.Status()
		rec.Duration = time.Since(rec.Time)
		if len(rec.Errors) == 0 {
			if msg := w.ErrorMessage(); msg != "" {
				rec.Errors = []string{msg}
			}
		}
		s.record(*rec)
	}()

	switch f := s.faults.next(); f.kind {
	case faultFail:
		rec.Fault = "fail"
		status := f.status
		if status < 100 || status > 599 {
			status = http.StatusInternalServerError // WriteHeader panics on invalid codes
		}
		opentsdb.WriteError(w, status, "injected fault: status "+strconv.Itoa(f.status))
		return
	case faultDrop:
		rec.Fault = "drop"
		recorded = true
		s.drop(w, r, rec)
		return
	case faultStall:
		rec.Fault = "stall"
		if !s.stall(w, r, f.delay) {
			return
		}
	}

	if _, pattern := s.mux.Handler(r); pattern == "" || pattern != r.URL.Path {
		opentsdb.WriteError(w, http.StatusNotFound, "Endpoint not found")
		return
	}
	if !opentsdb.Authorized(r, s.cfg.token) {
		opentsdb.WriteUnauthorized(w)
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(reqlog.WithRecord(r.Context(), rec)))
}

func (s *Server) record(rec Request) {
	s.reqs.Add(rec)
	if s.cfg.logf != nil {
		s.cfg.logf(rec)
	}
}
