package apptuit

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/apptuit-go/apptuit/internal/env"
)

// Client sends points to and queries an Apptuit (or OpenTSDB-compatible)
// API. Create one with New and reuse it: it holds pooled compressors and
// the HTTP client's connections. A Client is safe for concurrent use.
type Client struct {
	cfg        config
	endpoint   string
	auth       string // "Bearer <token>", or "" with WithNoAuth; never logged or put in an error
	userAgent  string
	globalTags map[string]string
	// globalKV is globalTags after the sanitizer, sorted by key.
	globalKV []kv
	hc       *http.Client

	compressors sync.Pool                           // of *compressor
	parSets     sync.Pool                           // of *parSet (body_parallel.go)
	newZW       func(io.Writer) (Compressor, error) // nil: no compression
	parGzip     bool                                // large bodies compressed on several cores (body_parallel.go)
	encoding    string                              // Content-Encoding of bodies; "" for none
	fixedHeaders
}

// New returns a Client configured by opts and the environment.
//
// The token comes from WithToken, else APPTUIT_API_TOKEN, else
// APPTUIT_PY_TOKEN, and is sent as "Authorization: Bearer <token>"; without
// one New fails with an error matching ErrNoToken. With WithNoAuth no
// token is read or sent (not allowed with WithToken, nor for Apptuit's own
// endpoints). Global tags come from
// WithGlobalTags, else (unless WithIgnoreEnvTags) APPTUIT_TAGS, else
// APPTUIT_PY_TAGS, written "k1: v1, k2: v2". The environment is read here
// and nowhere else.
func New(opts ...Option) (*Client, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:        cfg,
		endpoint:   cfg.endpoint,
		globalTags: cfg.globalTags,
	}
	if !cfg.noAuth {
		c.auth = "Bearer " + cfg.token
	}
	hc := cfg.httpClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Bodies are streamed in 32 KiB chunks: write them in few syscalls.
		t.WriteBufferSize = 64 << 10
		hc = &http.Client{Transport: t}
	}
	// A copy, so that the caller's client is not modified: redirects come
	// back to the client, which follows them only within the endpoint's
	// origin (redirect.go).
	own := *hc
	own.CheckRedirect = stopRedirects
	c.hc = &own
	c.userAgent = fmt.Sprintf("apptuit-go/%s (%s)", Version, runtime.Version())
	if cfg.userAgentExtra != "" {
		c.userAgent += " " + cfg.userAgentExtra
	}
	gkv, err := c.mergeTags(nil, c.globalTags)
	if err != nil {
		return nil, fmt.Errorf("apptuit: global tags: %w", err)
	}
	if len(gkv) > MaxTags {
		return nil, fmt.Errorf("apptuit: %d global tags, at most %d are allowed", len(gkv), MaxTags)
	}
	c.globalKV = gkv
	if err := c.initCompression(); err != nil {
		return nil, fmt.Errorf("apptuit: %w", err)
	}
	c.initHeaders()
	return c, nil
}

// newConfig applies opts to the defaults and reads what they leave to the
// environment: the token and the global tags. Its errors say "apptuit:".
func newConfig(opts []Option) (config, error) {
	cfg := config{
		endpoint:    DefaultEndpoint,
		timeout:     DefaultTimeout,
		retries:     DefaultRetries,
		backoffBase: DefaultBackoffBase,
		backoffMax:  DefaultBackoffMax,
		compression: Gzip,
		level:       gzip.BestSpeed,
		batchSize:   DefaultBatchSize,
		concurrency: DefaultConcurrency,
		minSplit:    minSplitSize,
		maxResponse: DefaultMaxResponse,
		promPath:    DefaultPromQLPath,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return cfg, fmt.Errorf("apptuit: %w", err)
		}
	}
	if err := cfg.readToken(); err != nil {
		return cfg, err
	}
	if !cfg.globalTagsSet && !cfg.ignoreEnvTags {
		tags, err := env.LookupTags()
		if err != nil {
			return cfg, fmt.Errorf("apptuit: %w", err)
		}
		if tags != nil {
			cfg.globalTags = tags
		}
	}
	return cfg, nil
}

// readToken checks the authentication options and reads the token from the
// environment when none was given.
func (cfg *config) readToken() error {
	switch {
	case cfg.noAuth && cfg.tokenSet:
		return errors.New("apptuit: WithNoAuth and WithToken both given: a client sends a token or none")
	case cfg.line != nil: // lines carry no token
	case cfg.noAuth && isApptuitEndpoint(cfg.endpoint):
		return fmt.Errorf("%w: %s needs one (WithNoAuth is for servers without authentication)", ErrNoToken, cfg.endpoint)
	case cfg.noAuth:
	case !cfg.tokenSet:
		cfg.token = firstEnv(EnvToken, EnvTokenPy)
		if cfg.token == "" {
			return fmt.Errorf("%w: use WithToken or set %s (or %s)", ErrNoToken, EnvToken, EnvTokenPy)
		}
	}
	return nil
}

// isApptuitEndpoint reports whether endpoint is on apptuit.ai or one of its
// subdomains.
func isApptuitEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	return h == "apptuit.ai" || strings.HasSuffix(h, ".apptuit.ai")
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// Endpoint returns the base URL the client talks to.
func (c *Client) Endpoint() string { return c.endpoint }

// GlobalTags returns a copy of the tags added to every point.
func (c *Client) GlobalTags() map[string]string {
	m := make(map[string]string, len(c.globalTags))
	for k, v := range c.globalTags {
		m[k] = v
	}
	return m
}

// BatchSize returns the most points one request carries (WithBatchSize).
// A Send of at most this many points is a single request, so it is either
// accepted or not as a whole (but for a 413 split).
func (c *Client) BatchSize() int { return c.cfg.batchSize }

// Concurrency returns how many batches of one send may be in flight at
// once (WithConcurrency).
func (c *Client) Concurrency() int { return c.cfg.concurrency }

// Sanitizer returns the sanitizer set with WithSanitizer, or nil.
func (c *Client) Sanitizer() Sanitizer { return c.cfg.sanitizer }

// String describes the client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("apptuit.Client{endpoint: %s, token: [redacted]}", c.endpoint)
}

// GoString is String: %#v must not print the token either.
func (c *Client) GoString() string { return c.String() }
