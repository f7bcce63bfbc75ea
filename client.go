package apptuit

import (
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"

	"github.com/apptuit-go/apptuit/internal/env"
)

// Client sends points to and queries an Apptuit (or OpenTSDB-compatible)
// API. Create one with New and reuse it: it holds pooled compressors and
// the HTTP client's connections. A Client is safe for concurrent use.
type Client struct {
	cfg        config
	endpoint   string
	auth       string // "Bearer <token>"; never logged or put in an error
	userAgent  string
	globalTags map[string]string
	// globalKV is globalTags after the sanitizer, sorted by key.
	globalKV []kv
	hc       *http.Client

	compressors sync.Pool // of *compressor
}

// New returns a Client configured by opts and the environment.
//
// The token comes from WithToken, else APPTUIT_API_TOKEN, else
// APPTUIT_PY_TOKEN; without one New fails. Global tags come from
// WithGlobalTags, else (unless WithIgnoreEnvTags) APPTUIT_TAGS, else
// APPTUIT_PY_TAGS, written "k1: v1, k2: v2". The environment is read here
// and nowhere else.
func New(opts ...Option) (*Client, error) {
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
		minSplit:    DefaultMinSplitSize,
		maxResponse: DefaultMaxResponse,
		promPath:    DefaultPromQLPath,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("apptuit: %w", err)
		}
	}
	if !cfg.tokenSet {
		cfg.token = firstEnv(EnvToken, EnvTokenPy)
		if cfg.token == "" {
			return nil, fmt.Errorf("%w: use WithToken or set %s (or %s)", ErrNoToken, EnvToken, EnvTokenPy)
		}
	}
	if !cfg.globalTagsSet && !cfg.ignoreEnvTags {
		for _, name := range []string{EnvTags, EnvTagsPy} {
			if v, ok := os.LookupEnv(name); ok && v != "" {
				tags, err := env.ParseTags(name, v)
				if err != nil {
					return nil, fmt.Errorf("apptuit: %w", err)
				}
				cfg.globalTags = tags
				break
			}
		}
	}
	c := &Client{
		cfg:        cfg,
		endpoint:   cfg.endpoint,
		auth:       "Bearer " + cfg.token,
		globalTags: cfg.globalTags,
		hc:         cfg.httpClient,
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Bodies are streamed in 32 KiB chunks: write them in few syscalls.
		t.WriteBufferSize = 64 << 10
		c.hc = &http.Client{Transport: t}
	}
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
	return c, nil
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
