package reporter

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"time"
)

// Defaults used by New when an option is not given.
const (
	DefaultInterval   = 60 * time.Second
	DefaultBufferSize = 500000 // points kept for retry
)

// An Option configures a Reporter in New.
type Option func(*config) error

type config struct {
	interval      time.Duration
	tags          map[string]string
	prefix        string
	handler       func(error)
	handlerSet    bool
	errWriter     io.Writer
	hostTag       *string // WithHostTag's value
	ignoreEnvTags bool
	bufferSize    int
	now           func() time.Time
	sendTimeout   time.Duration // of a report made by Start: the interval, at least 10 s
	sources       []Source
	spool         spoolConfig // WithSpool (spool.go)
}

func defaultConfig() config {
	return config{
		interval:   DefaultInterval,
		bufferSize: DefaultBufferSize,
		errWriter:  os.Stderr,
		now:        time.Now,
	}
}

// WithInterval sets the time between two reports made by Start (default
// 60 s), which also bounds each of them (at least 10 s: a report out of
// time keeps its unsent points for the next). It must be positive. Below
// 1 s, reports are stamped to the millisecond instead of the second (see
// Timestamps in the package documentation).
func WithInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("reporter: interval %v is not positive", d)
		}
		c.interval = d
		return nil
	}
}

// WithTags sets tags added to every point the reporter sends. They override
// the tags of APPTUIT_TAGS (or APPTUIT_PY_TAGS) with the same key and are
// overridden by a metric's own tags. The map is copied.
func WithTags(tags map[string]string) Option {
	return func(c *config) error {
		c.tags = maps.Clone(tags)
		return nil
	}
}

// WithPrefix sets a prefix put before every metric name, as is: "myapp."
// gives "myapp.order_count.count". It applies to the runtime and meta metrics
// too, as apptuit-py's prefix does.
func WithPrefix(prefix string) Option {
	return func(c *config) error { c.prefix = prefix; return nil }
}

// WithErrorHandler sets the function called after every report that did not
// deliver all its points, on the goroutine that made the report (Start's, or
// the caller of ReportNow or Stop, which also return the error). A nil h disables
// error reporting. h receives a *apptuit.SendError when every failure of the
// report was the server refusing points (a 400, or a 413 at the client's
// smallest split; their counts added up), else the error itself (an
// *apptuit.HTTPError for any other answer: 401, 403, 404, a 429 or 5xx
// after the client's retries; an *apptuit.NetworkError, a *MetricError, an
// *apptuit.ValidationError) or several joined with errors.Join. h must not
// block for long and must not call Stop.
//
// The default handler writes one line per failed report to os.Stderr (see
// WithErrorWriter): the HTTP status, the points successful and failed, the
// points kept for retry and the first three errors.
func WithErrorHandler(h func(error)) Option {
	return func(c *config) error { c.handler, c.handlerSet = h, true; return nil }
}

// WithErrorWriter makes the default error handler write to w instead of
// os.Stderr. It has no effect when WithErrorHandler is given.
func WithErrorWriter(w io.Writer) Option {
	return func(c *config) error {
		if w == nil {
			return errors.New("reporter: nil error writer")
		}
		c.errWriter = w
		return nil
	}
}

// WithHostTag sets the value of the host tag, host=<value>, which every
// point gets unless the environment tags, the reporter tags or the
// metric's own tags have a host tag; "" turns the host tag off. Without it
// the value is os.Hostname() and APPTUIT_DISABLE_HOST_TAG may turn it off;
// with it that variable is not read.
func WithHostTag(value string) Option {
	return func(c *config) error { c.hostTag = &value; return nil }
}

// WithIgnoreEnvTags stops New from reading APPTUIT_TAGS and APPTUIT_PY_TAGS:
// points carry only the reporter's, the host and the metrics' tags (and the
// client's global tags, which the client adds itself).
func WithIgnoreEnvTags() Option {
	return func(c *config) error { c.ignoreEnvTags = true; return nil }
}

// WithSource adds a source of points collected at every report, after the
// registry's metrics and those of sources given before it. It may be given
// several times; a nil source makes New fail. A source's points get the
// reporter's prefix and tags (its own tags win), are checked, batched and
// kept for retry as the registry's are; see Source and the package
// documentation.
func WithSource(s Source) Option {
	return func(c *config) error {
		if s == nil {
			return fmt.Errorf("reporter: nil source given to WithSource (source %d)", len(c.sources))
		}
		c.sources = append(c.sources, s)
		return nil
	}
}

// WithBufferSize sets how many points that failed with a retryable error are
// kept to be sent again at the next report (default 500,000). When more
// would be kept, the oldest are dropped and counted in
// apptuit.reporter.send.dropped. 0 keeps none.
func WithBufferSize(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("reporter: buffer size %d is negative", n)
		}
		c.bufferSize = n
		return nil
	}
}

// WithClock makes the reporter read now for the timestamp of each report
// instead of time.Now. It is meant for tests.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("reporter: nil clock")
		}
		c.now = now
		return nil
	}
}
