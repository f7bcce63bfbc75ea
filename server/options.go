package server

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of the options of the same names.
const (
	// DefaultMaxMemory is the server's memory budget (WithMaxMemory):
	// 256 MiB.
	DefaultMaxMemory = 256 << 20
	// DefaultSyncInterval is how often, at most, the data directory's log
	// is flushed to disk with fsync (WithDataDir).
	DefaultSyncInterval = time.Second
	// DefaultRequestLogSize is how many requests the request log keeps.
	DefaultRequestLogSize = 1000
)

// Bounds on what clients can make the server hold or wait for; fixed, as
// no user of a local server has needed to turn them.
const (
	maxBody           = 32 << 20  // a put body as sent (413 beyond)
	maxDecompressed   = 256 << 20 // a put body decompressed (413 beyond)
	maxBodies         = 8         // put bodies read at once
	bodyWait          = time.Second
	readHeaderTimeout = 10 * time.Second
	bodyTimeout       = time.Minute
	writeTimeout      = time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

type config struct {
	token        string
	logf         func(Request)
	logSize      int
	now          func() time.Time
	retention    time.Duration
	maxMemory    int64
	dataDir      string
	syncInterval time.Duration
	logger       func(format string, args ...any)
	promql       PromQLLimits
	query        QueryLimits
	webPage      bool
	allowedHosts []string
	lineIdle     time.Duration // lineIdleTimeout; shorter in tests
}

// Option configures a Server.
type Option func(*config)

// WithToken makes the server require "Authorization: Bearer <token>" on
// every API request (compared in constant time); others get 401. Without
// it any request is accepted.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithRequestLog calls f once for every API request after it has been
// answered, with the record the request log keeps. f runs on the request's
// goroutine and must be safe for concurrent use.
func WithRequestLog(f func(Request)) Option { return func(c *config) { c.logf = f } }

// WithRequestLogSize sets how many requests the request log keeps for the
// web page, the newest (default DefaultRequestLogSize; 0 keeps none). Each
// record is at most about 8 KiB.
func WithRequestLogSize(n int) Option { return func(c *config) { c.logSize = n } }

// WithClock sets the clock for queries without an end or time, relative
// times like "1h-ago" and WithRetention. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRetention evicts points older than d (by their timestamp, against
// the clock of WithClock), including points that are already that old when
// they arrive: they are accepted, counted as evicted and not stored. The
// default, 0, keeps points of any age.
func WithRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithMaxMemory sets the server's memory budget to n bytes (default
// DefaultMaxMemory; 0: no bound). The store keeps its points (compressed, a
// few bytes each, most often 1 to 3), series and their metric and tags
// within three quarters of n, as it counts them: beyond that the oldest
// points are evicted, a chunk of up to 256 points of one series at a
// time, the chunk with the oldest first point first, and counted
// (Stats.EvictedByMemory, Request.Evicted). The last quarter is for what
// puts and queries are working on and for the garbage collector, which
// needs room to collect millions of series: the Go runtime keeps the
// process near n when its memory limit is n (runtime/debug.SetMemoryLimit),
// which "apptuit serve" sets and a program embedding a Server can set too.
func WithMaxMemory(n int64) Option { return func(c *config) { c.maxMemory = n } }

// WithDataDir keeps the accepted points in dir (created if missing) as
// well as in memory, so that a Server opened on the same dir later starts
// with them (see the package documentation). One Server at a time holds a
// directory: New on a directory in use fails with an error matching
// ErrDataDirLocked.
func WithDataDir(dir string) Option { return func(c *config) { c.dataDir = dir } }

// WithSyncInterval sets how often, at most, the data directory's log is
// flushed to stable storage with fsync (default DefaultSyncInterval; 0:
// before answering each put).
func WithSyncInterval(d time.Duration) Option { return func(c *config) { c.syncInterval = d } }

// WithLogger sets where the server reports what it does on its own: points
// loaded from the data directory, damaged parts of it moved aside,
// compactions. The default discards these messages.
func WithLogger(f func(format string, args ...any)) Option {
	return func(c *config) { c.logger = f }
}

// WithWebPage serves the web page at "/" (its files under /ui/), next to
// the API. Its files need no token; the API calls the page makes do.
func WithWebPage() Option { return func(c *config) { c.webPage = true } }

func (c *config) check() error {
	switch {
	case c.logSize < 0:
		return fmt.Errorf("WithRequestLogSize(%d): the size must not be negative", c.logSize)
	case c.retention < 0:
		return fmt.Errorf("WithRetention(%v): the duration must not be negative", c.retention)
	case c.maxMemory < 0:
		return fmt.Errorf("WithMaxMemory(%d): the budget must not be negative", c.maxMemory)
	case c.syncInterval < 0:
		return fmt.Errorf("WithSyncInterval(%v): the interval must not be negative", c.syncInterval)
	case c.now == nil:
		return errors.New("WithClock(nil): the clock must not be nil")
	}
	if err := c.query.check(); err != nil {
		return err
	}
	return c.promql.check()
}

// messages returns the logger for the server's own messages.
func (c *config) messages() func(string, ...any) {
	if c.logger != nil {
		return c.logger
	}
	return func(string, ...any) {}
}
