package apptuit

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit/internal/env"
)

// Defaults used by New when an option is not given.
const (
	DefaultEndpoint       = "https://api.apptuit.ai"
	DefaultTimeout        = 30 * time.Second
	DefaultRetries        = 2
	DefaultBackoffBase    = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultBatchSize      = 50000
	DefaultConcurrency    = 2
	minSplitSize          = 100       // the smallest batch split in halves on a 413
	DefaultMaxResponse    = 256 << 20 // bytes of a query response
	DefaultPromQLPath     = "/prometheus/api/v1/query_range"
	defaultMaxErrorBody   = 1 << 20 // bytes of a non-2xx response or a put response
	defaultRetryAfterCeil = 5 * time.Minute
)

// Environment variables read by New.
const (
	EnvToken         = "APPTUIT_API_TOKEN"
	EnvTokenPy       = "APPTUIT_PY_TOKEN"
	EnvTags          = env.TagsVar                // "APPTUIT_TAGS"
	EnvTagsPy        = env.TagsPyVar              // "APPTUIT_PY_TAGS"
	EnvDisableHostPy = "APPTUIT_DISABLE_HOST_TAG" // read by package reporter
)

// Compression selects how request bodies sent by Send and SendTimeSeries are
// encoded.
type Compression int

const (
	// Gzip compresses bodies with gzip (Content-Encoding: gzip). The default.
	Gzip Compression = iota
	// Deflate compresses bodies with zlib-wrapped deflate (RFC 1950), which
	// is what servers mean by Content-Encoding: deflate; raw RFC 1951
	// deflate is rejected by real servers and is never sent.
	Deflate
	// NoCompression sends bodies as plain JSON.
	NoCompression
)

func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Deflate:
		return "deflate"
	case NoCompression:
		return "none"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// Sanitizer rewrites a metric name or tag key into a valid one. It is applied
// by Send and SendTimeSeries before validation, and by Send again while
// encoding, from several goroutines at once: it must be safe for concurrent
// use (a pure function of its argument is). See SanitizeApptuit and
// SanitizePrometheus.
type Sanitizer func(string) string

// An Option configures a Client in New.
type Option func(*config) error

type config struct {
	token          string
	tokenSet       bool
	noAuth         bool
	endpoint       string
	globalTags     map[string]string
	globalTagsSet  bool
	ignoreEnvTags  bool
	sanitizer      Sanitizer
	httpClient     *http.Client
	timeout        time.Duration
	retries        int
	backoffBase    time.Duration
	backoffMax     time.Duration
	compression    Compression
	level          int
	batchSize      int
	concurrency    int
	minSplit       int
	maxResponse    int64
	promPath       string
	denyPartial    bool
	userAgentExtra string
	precision      Precision
	line           *LineTransport // WithLineTransport (line.go)

	// Set by WithCompressor (compressor.go); compressionSet and levelSet
	// record that WithCompression or WithCompressionLevel was given, which
	// conflict with it.
	newCompressor      func(io.Writer) (Compressor, error)
	compressorEncoding string
	compressionSet     bool
	levelSet           bool
}

// WithToken sets the API token sent as "Authorization: Bearer <token>". It
// overrides APPTUIT_API_TOKEN and APPTUIT_PY_TOKEN.
func WithToken(token string) Option {
	return func(c *config) error {
		if token == "" {
			return errors.New("WithToken: token is empty")
		}
		c.token, c.tokenSet = token, true
		return nil
	}
}

// WithNoAuth makes the client send no Authorization header, for servers
// without authentication (a local OpenTSDB, VictoriaMetrics, InfluxDB or
// apptuittest). The token variables are then not read. New fails when
// WithToken is given too, and for Apptuit's own endpoints (apptuit.ai and
// its subdomains), which always need a token (the error matches
// ErrNoToken).
func WithNoAuth() Option {
	return func(c *config) error { c.noAuth = true; return nil }
}

// WithEndpoint sets the base URL of the API (default
// https://api.apptuit.ai). A trailing '/' is stripped; it must be an http or
// https URL.
func WithEndpoint(endpoint string) Option {
	return func(c *config) error {
		e := strings.TrimRight(strings.TrimSpace(endpoint), "/")
		if e == "" {
			return errors.New("WithEndpoint: endpoint is empty")
		}
		if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			return fmt.Errorf("WithEndpoint: endpoint %q must start with http:// or https://", endpoint)
		}
		c.endpoint = e
		return nil
	}
}

// WithGlobalTags sets tags added to every point sent; a point's own tag with
// the same key wins. When given, APPTUIT_TAGS and APPTUIT_PY_TAGS are not
// read. The map is copied.
func WithGlobalTags(tags map[string]string) Option {
	return func(c *config) error {
		c.globalTags, c.globalTagsSet = maps.Clone(tags), true
		return nil
	}
}

// WithIgnoreEnvTags stops New from reading global tags from APPTUIT_TAGS and
// APPTUIT_PY_TAGS.
func WithIgnoreEnvTags() Option {
	return func(c *config) error { c.ignoreEnvTags = true; return nil }
}

// WithSanitizer makes Send and SendTimeSeries rewrite metric names and tag
// keys with s before validating them (for example SanitizePrometheus). By
// default names are validated and never renamed.
func WithSanitizer(s Sanitizer) Option {
	return func(c *config) error { c.sanitizer = s; return nil }
}

// WithHTTPClient sets the http.Client used for every request (default: a
// client of its own with http.DefaultTransport's settings). New takes a
// copy of it, which uses its Transport, Jar and Timeout but not its
// CheckRedirect: the client follows redirects itself, and only within the
// endpoint's origin (see RedirectError). hc is not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: client is nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each HTTP attempt (default 30s); 0 means no bound other
// than the caller's context. With TelnetTCP it bounds each attempt of a Send
// (connecting, writing, waiting for the server's acknowledgement) together
// with the backoff pause after it, so that a Send takes at most
// timeout × (retries+1); with XCollectorUDP, its writes.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithTimeout: %v is negative", d)
		}
		c.timeout = d
		return nil
	}
}

// WithRetries sets how many times a request is retried after a connection
// error, a 429 or a 5xx answer (default 2); with TelnetTCP, how many times
// a failed Send writes all its lines again on a new connection (see
// TelnetTCP); XCollectorUDP does not retry. Waits grow exponentially from
// the backoff base with full jitter, up to the backoff maximum; a
// Retry-After header is honoured; the context ends the waiting.
func WithRetries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("WithRetries: %d is negative", n)
		}
		c.retries = n
		return nil
	}
}

// WithBackoff sets the base and the cap of the retry backoff (defaults 500ms
// and 30s): before retry i the client waits a random duration in
// [0, min(max, base·2^i)).
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) error {
		if base <= 0 || max < base {
			return fmt.Errorf("WithBackoff: want 0 < base <= max, got base %v, max %v", base, max)
		}
		c.backoffBase, c.backoffMax = base, max
		return nil
	}
}

// WithCompression selects the body encoding of sends (default Gzip).
func WithCompression(comp Compression) Option {
	return func(c *config) error {
		if comp != Gzip && comp != Deflate && comp != NoCompression {
			return fmt.Errorf("WithCompression: unknown compression %d", int(comp))
		}
		c.compression, c.compressionSet = comp, true
		return nil
	}
}

// WithCompressionLevel sets the gzip/zlib level, from 1 (BestSpeed, the
// default: the least CPU per byte) to 9 (the smallest bodies), or -1 for
// the library default (6).
func WithCompressionLevel(level int) Option {
	return func(c *config) error {
		if level != -1 && (level < 1 || level > 9) {
			return fmt.Errorf("WithCompressionLevel: %d is not -1 or 1..9", level)
		}
		c.level, c.levelSet = level, true
		return nil
	}
}

// WithBatchSize sets how many points one request carries at most (default
// 50,000). Larger inputs are split into several requests.
func WithBatchSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithBatchSize: %d is not positive", n)
		}
		c.batchSize = n
		return nil
	}
}

// WithConcurrency sets how many batches of one send are in flight at once
// (default 2: one batch is compressed while another is on the wire); a
// reporter's sends share the same bound. 1 sends batches strictly one after
// the other, on the caller's goroutine. With GOMAXPROCS > 1 even 1 uses
// several cores: a gzip batch of 8,192 points or more is encoded and
// compressed by up to four goroutines at once, other batches larger than
// 64 KiB of JSON have a goroutine encoding them ahead of their compressor.
// Each batch in flight holds its pooled buffers and compressors (a few MiB:
// bench/RESULTS.md), kept while the client lives.
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithConcurrency: %d is not positive", n)
		}
		c.concurrency = n
		return nil
	}
}

// WithMaxResponseBytes caps how much of a query response is read (default
// 256 MiB); a larger response is an error, never silently truncated.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("WithMaxResponseBytes: %d is not positive", n)
		}
		c.maxResponse = n
		return nil
	}
}

// WithPromQLPath sets the path of the Prometheus range-query API below the
// endpoint (default /prometheus/api/v1/query_range; a Prometheus or
// VictoriaMetrics server serves /api/v1/query_range).
func WithPromQLPath(path string) Option {
	return func(c *config) error {
		if !strings.HasPrefix(path, "/") {
			return fmt.Errorf("WithPromQLPath: %q must start with '/'", path)
		}
		c.promPath = path
		return nil
	}
}

// WithDenyPartial makes QueryRange refuse partial answers, for callers
// that prefer no answer to one that may lack data (alerting, billing).
// The request carries deny_partial_response=1, so that a VictoriaMetrics
// cluster answers 503 while a vmstorage node is down (retried as any 503,
// then an *HTTPError, retryable); an answer still marked partial
// ("isPartial": true, from a server that ignores the parameter) is
// returned as a *PartialError, also retryable. Servers without partial
// answers ignore the parameter. Query is unaffected: Apptuit's answers
// carry no such flag that is known.
func WithDenyPartial() Option {
	return func(c *config) error { c.denyPartial = true; return nil }
}

// WithUserAgent appends a product token to the User-Agent header, e.g.
// "orderservice/1.2".
func WithUserAgent(product string) Option {
	return func(c *config) error { c.userAgentExtra = product; return nil }
}

// WithCompressor makes Send and SendTimeSeries compress bodies with writers
// made by newWriter instead of the standard library's, sent with
// "Content-Encoding: encoding", which must be "gzip" (RFC 1952) or
// "deflate" (zlib, RFC 1950: what servers mean by deflate). It replaces
// WithCompression and WithCompressionLevel; giving either as well is an
// error. It lets a faster implementation be plugged in without this module
// depending on it, for example:
//
//	apptuit.WithCompressor("gzip", func(w io.Writer) (apptuit.Compressor, error) {
//		return gzip.NewWriterLevel(w, gzip.BestSpeed) // github.com/klauspost/compress/gzip
//	})
//
// New does not try the writer: newWriter is first called by a send, and
// an error it returns, or a nil Compressor, makes that send fail with an
// error that is not retried (nor is a writer's failure while a body is
// sent). The client calls newWriter once per body in flight (the writers
// are pooled and reused with Reset), so its cost is that of the writers'
// state, held while the client lives. Such a writer compresses each body
// as one stream on one goroutine; the client's own gzip compresses a large
// body on several cores (see "What goes on the wire" in the README), so
// with more than one CPU it may send large batches faster than a faster
// single-stream writer.
func WithCompressor(encoding string, newWriter func(w io.Writer) (Compressor, error)) Option {
	return func(c *config) error {
		if encoding != "gzip" && encoding != "deflate" {
			return fmt.Errorf("WithCompressor: encoding %q is not \"gzip\" or \"deflate\"", encoding)
		}
		if newWriter == nil {
			return errors.New("WithCompressor: newWriter is nil")
		}
		c.newCompressor, c.compressorEncoding = newWriter, encoding
		return nil
	}
}
