package apptuittest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/ql"
	"github.com/apptuit-go/apptuit/internal/wal"
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
	// DefaultMaxPoints is how many points are stored before the oldest are
	// evicted (about 24 bytes each: 240 MB).
	DefaultMaxPoints = 10_000_000
	// DefaultSyncInterval is how often, at most, the data directory's log is
	// flushed to disk with fsync (WithDataDir).
	DefaultSyncInterval = time.Second
)

// Server is an in-memory fake of the Apptuit API: POST /api/put stores
// points, GET /api/query evaluates queries over them, and
// /api/v1/query_range and /api/v1/query (also under /prometheus) evaluate
// PromQL. All methods are safe for concurrent use.
type Server struct {
	cfg    config
	store  *store
	faults faultQueue
	reqs   requestLog
	bodies chan struct{} // a slot per put body being read and stored
	// a slot per PromQL query being evaluated
	promqlSlots chan struct{}
	handler     http.Handler
	loaded      loadReport // what the data directory held at the start

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
	retention       time.Duration
	maxPoints       int
	dataDir         string
	syncInterval    time.Duration
	logger          func(format string, args ...any)
	extra           []extraHandler
	promql          PromQLLimits
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
// ones get 413. The default is DefaultMaxDecompressedSize (256 MiB). Bodies
// are decompressed and parsed as they arrive, so this bounds the time spent
// on a body, not the memory: that is a few hundred kilobytes per body plus
// about 3 to 19 bytes per accepted point until the body has been read.
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
// most about 8 KiB (see Request.Header), so the log is bounded whatever the
// clients send.
func WithRequestLogSize(n int) Option { return func(c *config) { c.logSize = n } }

// WithClock sets the clock used for a query without end=, for relative
// times like "1h-ago" and for WithRetention. The default is time.Now.
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

// WithRetention evicts points older than d (by their timestamp, against the
// clock of WithClock), including points that are already that old when they
// arrive: they are accepted, counted as evicted and not stored. The default,
// 0, keeps points of any age. Evicted points are counted in Stats and in
// each put's Request.Evicted.
func WithRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithMaxPoints bounds the points stored to n (default DefaultMaxPoints,
// 10 million, about 240 MB; 0: no bound): beyond it the points with the
// oldest timestamps are evicted, counted in Stats and in each put's
// Request.Evicted.
func WithMaxPoints(n int) Option { return func(c *config) { c.maxPoints = n } }

// WithDataDir keeps the accepted points in dir (created if missing) as
// well as in memory, so that a Server opened on the same dir later starts
// with them. See the package documentation ("Data directory") for the file
// format and what survives a crash. Without it the server keeps nothing on
// disk. One Server at a time holds a directory (a lock file in it, released
// by Close or when the process dies): Open on a directory in use, by this
// process or another, fails with an error matching ErrDataDirLocked.
func WithDataDir(dir string) Option { return func(c *config) { c.dataDir = dir } }

// ErrDataDirLocked is matched (errors.Is) by the error of Open when another
// Server, in this process or another, holds its WithDataDir directory. The
// error names the lock file and the holder's pid.
var ErrDataDirLocked = wal.ErrLocked

// WithSyncInterval sets how often, at most, the data directory's log is
// flushed to stable storage with fsync (default DefaultSyncInterval, 1 s).
// Every accepted put is written to the log before it is answered, so a
// crash of the process loses nothing answered; an operating-system crash or
// power loss may lose the puts of the last interval. 0 syncs every put
// before answering it (safest, slowest).
func WithSyncInterval(d time.Duration) Option { return func(c *config) { c.syncInterval = d } }

// WithLogger sets where the server reports what it did on its own: points
// loaded from the data directory at the start, torn or corrupt records
// dropped, compactions. The default discards these messages.
func WithLogger(f func(format string, args ...any)) Option { return func(c *config) { c.logger = f } }

// Request records one request the server received.
type Request struct {
	Time     time.Time     // when it arrived
	Method   string        // e.g. "POST"
	Path     string        // URL path, e.g. "/api/put" (cut at 2 KiB)
	RawQuery string        // URL query, e.g. "details" (cut at 2 KiB)
	Header   http.Header   // a copy, at most 4 KiB, each value cut at 1 KiB; Authorization and Proxy-Authorization values are replaced by "<scheme> [redacted]" (or "[redacted]"), Cookie values by "[redacted]"
	BodySize int64         // decompressed body bytes read by /api/put (0 for other paths)
	Status   int           // status answered; 0 when the connection was dropped or the client left
	Accepted int           // points accepted: stored, or already past WithRetention (then counted in Evicted)
	Failed   int           // points rejected
	Evicted  int           // points evicted by WithRetention or WithMaxPoints when this put was stored (its own or older ones)
	Fault    string        // injected fault applied: "", "fail", "stall" or "drop"
	Errors   []string      // what went wrong, at most 5 messages of 512 bytes: the error answered, or the first rejected points' ("metric: message")
	Duration time.Duration // from arrival to answer
}

// Stats counts what a Server holds and has done since it started (or since
// Reset).
type Stats struct {
	Points         int    // points stored now
	Series         int    // series stored now
	Accepted       uint64 // points accepted by puts: Points + EvictedByAge + EvictedByCount
	EvictedByAge   uint64 // points evicted by WithRetention, including those too old on arrival
	EvictedByCount uint64 // points evicted by WithMaxPoints
	Requests       uint64 // requests received (Requests keeps the newest)
	// With WithDataDir, what the directory held at the start: points
	// loaded, and torn or corrupt log records dropped (with their bytes).
	Loaded         int
	DroppedRecords int
	DroppedBytes   int64
}

// NewServer returns a started Server on a loopback listener (127.0.0.1 on a
// random port, or the listener given by WithListener). Call Close when done.
// Like httptest.NewServer, it panics if it cannot listen; it also panics on
// an invalid option or a data directory it cannot open (Open returns those
// as errors).
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
// or an error for an invalid option (a negative size, count or duration) or
// a data directory (WithDataDir) that cannot be opened or read; then a
// listener given with WithListener is left open, the caller's to close. Its
// cost is that of loading the data directory, if any.
func Open(opts ...Option) (*Server, error) {
	cfg := config{
		maxBody: DefaultMaxBodySize, maxDecompressed: DefaultMaxDecompressedSize,
		maxBodies: DefaultMaxConcurrentBodies, bodyWait: DefaultBodyWait,
		logSize: DefaultRequestLogSize, maxPoints: DefaultMaxPoints,
		syncInterval: DefaultSyncInterval, now: time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, done: make(chan struct{}), bodies: make(chan struct{}, cfg.maxBodies)}
	s.reqs.init(cfg.logSize)
	if s.cfg.promql.MaxConcurrent == 0 {
		s.cfg.promql.MaxConcurrent = DefaultPromQLConcurrency
	}
	s.promqlSlots = make(chan struct{}, s.cfg.promql.MaxConcurrent)
	s.store = newStore(cfg.retention, cfg.maxPoints, cfg.now)
	if cfg.dataDir != "" {
		rep, err := openDataLog(s.store, cfg.dataDir, cfg.syncInterval, cfg.messages())
		if err != nil {
			return nil, err
		}
		s.loaded = rep
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/put", s.servePut)
	mux.HandleFunc("/api/query", s.serveQuery)
	for _, p := range promqlPaths {
		mux.HandleFunc(p.path, s.servePromQL(p.instant))
	}
	s.handler = mux
	return s, nil
}

// messages returns the logger for the server's own messages.
func (c *config) messages() func(string, ...any) {
	if c.logger != nil {
		return c.logger
	}
	return func(string, ...any) {}
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
	case c.retention < 0:
		return fmt.Errorf("WithRetention(%v): the duration must not be negative", c.retention)
	case c.maxPoints < 0:
		return fmt.Errorf("WithMaxPoints(%d): the count must not be negative", c.maxPoints)
	case c.syncInterval < 0:
		return fmt.Errorf("WithSyncInterval(%v): the interval must not be negative", c.syncInterval)
	case c.timeouts.ReadHeader < 0 || c.timeouts.Body < 0 || c.timeouts.Write < 0 || c.timeouts.Idle < 0:
		return fmt.Errorf("WithTimeouts(%+v): timeouts must not be negative", c.timeouts)
	case c.promql.MaxSeries < 0 || c.promql.MaxSamples < 0 || c.promql.MaxPoints < 0 || c.promql.Timeout < 0 || c.promql.MaxConcurrent < 0:
		return fmt.Errorf("WithPromQLLimits(%+v): bounds must not be negative", c.promql)
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

// Close releases stalled requests, shuts the listener down, waits for
// requests in flight to finish and, with WithDataDir, flushes and closes the
// data directory's log. It is safe to call more than once.
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
		s.store.close()
	})
}

// Points returns a copy of every point stored so far, in arrival order
// (within a request, in body order), with UTC timestamps. It costs one
// allocation per point plus the tag maps.
func (s *Server) Points() []apptuit.DataPoint { return s.store.dataPoints() }

// Requests returns a copy of the log of requests received, oldest first:
// the newest WithRequestLogSize of them (1000 by default). Requests to the
// introspection endpoints (/apptuittest/...) and to a WithHandler are not
// in it.
func (s *Server) Requests() []Request { return s.reqs.snapshot() }

// Stats returns the counts of what the server holds and has done. Its cost
// is constant.
func (s *Server) Stats() Stats {
	st := Stats{Requests: s.reqs.count(), Loaded: s.loaded.points, DroppedRecords: s.loaded.droppedRecords, DroppedBytes: s.loaded.droppedBytes}
	s.store.read(func(r storeReader) {
		st.Points, st.Series = r.counts()
		st.Accepted, st.EvictedByAge, st.EvictedByCount = r.st.accepted, r.st.evictAge, r.st.evictMax
	})
	return st
}

// SeriesInfo describes one stored series.
type SeriesInfo struct {
	Metric    string
	Tags      map[string]string // a copy
	Points    int               // points stored (two at the same timestamp count twice)
	First     time.Time         // timestamp of the oldest point, UTC
	Last      time.Time         // timestamp of the newest point, UTC
	LastValue float64           // value at Last (of several points there, the last to arrive)
}

// Series returns every stored series, sorted by metric, then by tags. It
// copies the tags, not the points: its cost is proportional to the number
// of series, whatever their points.
func (s *Server) Series() []SeriesInfo {
	type entry struct {
		info SeriesInfo
		tk   string
	}
	var es []entry
	s.store.read(func(r storeReader) {
		r.eachSeries("", nil, func(v seriesView) bool {
			ms, val := v.last()
			es = append(es, entry{SeriesInfo{
				Metric: v.metric(), Tags: maps.Clone(v.tags()), Points: v.len(),
				First: time.UnixMilli(v.first()).UTC(), Last: time.UnixMilli(ms).UTC(), LastValue: val,
			}, ql.TagKey(v.tags())})
			return true
		})
	})
	sort.Slice(es, func(i, j int) bool {
		if es[i].info.Metric != es[j].info.Metric {
			return es[i].info.Metric < es[j].info.Metric
		}
		return es[i].tk < es[j].tk
	})
	out := make([]SeriesInfo, len(es))
	for i, e := range es {
		out[i] = e.info
	}
	return out
}

// Reset forgets all stored points (with WithDataDir, on disk too), the
// request log, the counts of Stats and pending faults.
func (s *Server) Reset() {
	if err := s.store.reset(); err != nil {
		s.cfg.messages()("apptuittest: resetting the data directory: %v", err)
	}
	s.faults.reset()
	s.reqs.reset()
}

// statusWriter remembers the status written and bounds the time writing
// the response may take.
type statusWriter struct {
	http.ResponseWriter
	status       int
	writeTimeout time.Duration
	errBody      []byte // the start of an error answer, for Request.Errors
}

func (w *statusWriter) started(code int) {
	if w.status == 0 {
		w.status = code
		http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(w.writeTimeout))
	}
}

func (w *statusWriter) WriteHeader(code int) {
	w.started(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.started(http.StatusOK)
	w.keepError(b)
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
	io.Copy(io.Discard, io.LimitReader(s.waitBudget(w, r.Body), s.cfg.maxBody))
	conn, _, err := http.NewResponseController(w).Hijack()
	rec.Duration = time.Since(rec.Time)
	s.record(*rec)
	if err != nil {
		panic(http.ErrAbortHandler) // no hijacking (HTTP/2): abort the stream
	}
	conn.Close()
}

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	if s.serveExtra(rw, r) {
		return
	}
	if strings.HasPrefix(r.URL.Path, introspectPrefix) {
		s.serveIntrospect(rw, r)
		return
	}
	rec := &Request{
		Time:     time.Now(),
		Method:   r.Method,
		Path:     cut(r.URL.Path, maxLoggedURL),
		RawQuery: cut(r.URL.RawQuery, maxLoggedURL),
		Header:   loggedHeader(r.Header),
	}
	w := &statusWriter{ResponseWriter: rw, writeTimeout: s.cfg.timeouts.Write}
	recorded := false // a dropped request is recorded before its connection closes
	defer func() {
		if recorded {
			return
		}
		rec.Status = w.status
		rec.Duration = time.Since(rec.Time)
		if len(rec.Errors) == 0 {
			if msg := w.errorMessage(); msg != "" {
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
		body := s.waitBudget(w, r.Body)
		buf, err := io.ReadAll(io.LimitReader(body, s.cfg.maxBody+1))
		body.clear()
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

	if !s.ownPath(r) {
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

// ownPath reports whether the fake serves the URL path of r itself: the
// path of one of the routes of its mux.
func (s *Server) ownPath(r *http.Request) bool {
	mux, ok := s.handler.(*http.ServeMux)
	if !ok {
		return true
	}
	_, pattern := mux.Handler(r)
	return pattern != "" && pattern == r.URL.Path
}

func (s *Server) record(rec Request) {
	s.reqs.add(rec)
	if s.cfg.logf != nil {
		s.cfg.logf(rec)
	}
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
