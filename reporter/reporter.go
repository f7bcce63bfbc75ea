package reporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/ctxlock"
	"github.com/apptuit-go/apptuit/internal/env"
	"github.com/apptuit-go/apptuit/metrics"
)

// Names of the meta metrics every report carries (before the prefix). They
// describe the sends made by earlier reports.
const (
	MetaTotal      = "apptuit.reporter.send.total"      // counter: points in every send attempted
	MetaSuccessful = "apptuit.reporter.send.successful" // counter: points the server accepted
	MetaFailed     = "apptuit.reporter.send.failed"     // counter: points of attempted sends that were not accepted
	MetaDropped    = "apptuit.reporter.send.dropped"    // counter: points given up: retry buffer full, or left at Stop
	MetaTime       = "apptuit.reporter.send.time"       // timer: duration of each send
)

// Errors returned by Start, ReportNow and Stop.
var (
	ErrStarted = errors.New("reporter: already started")
	ErrStopped = errors.New("reporter: stopped")
)

// Reporter sends the metrics of a registry and of sources to Apptuit at
// regular intervals. Create one with New. Its methods are safe for
// concurrent use.
type Reporter struct {
	client *apptuit.Client
	cfg    config

	base map[string]string // env tags < reporter tags (+ host); never modified
	// bare is a series with the base tags alone (nil when they cannot be
	// sent): metrics without tags of their own share its encoded tags.
	bare *apptuit.PreparedSeries

	// sem is held for a whole report, so reports never overlap; waiting for
	// it honours a context.
	// It guards the fields below it up to metaReg.
	sem      ctxlock.Lock
	lastTS   time.Time // timestamp of the previous report
	gen      uint64    // reports made (collected)
	registry *registryCollector
	// sourceLimit is the series limit per metric name of sources: the
	// registry's (guard.go).
	sourceLimit int
	sources     []*sourceCollector // WithSource's
	meta        *registryCollector
	buf         retryStore
	healthy     bool                    // the last report's sends did not fail (see sender)
	keptTook    time.Duration           // how long the last send of a kept batch took (see sender.run)
	points      []apptuit.PreparedPoint // reused for the new points of a report
	metaPts     []apptuit.PreparedPoint // reused for the meta metrics' points
	spool       *spoolStore             // WithSpool's, also r.buf; nil without (spool.go)

	metaReg                            *metrics.Registry
	total, successful, failed, dropped *metrics.Counter
	sendTime                           *metrics.Timer
	overflowed                         *metrics.Counter // registered at the first overflow (guard.go)

	state        sync.Mutex
	started      bool
	stopped      bool
	cancelActive context.CancelFunc // cancels the report in progress; guarded by state
	stopCh       chan struct{}
	done         chan struct{}
}

// New returns a Reporter that sends the metrics of registry, and the
// points of the sources given with WithSource, with client. registry may
// be nil when there are sources; with neither New
// fails. It reads the environment once, here:
//
//   - APPTUIT_TAGS, or when it is unset or empty APPTUIT_PY_TAGS, written
//     "k1: v1, k2: v2": tags for every point, under the reporter's tags;
//   - APPTUIT_DISABLE_HOST_TAG, unless WithHostTag is given: a truth value
//     as Python's strtobool reads it (y, yes, t, true, on, 1 / n, no, f,
//     false, off, 0, any case); anything else makes New fail.
//
// A point's tags are, later ones winning: the environment tags, the
// reporter's tags (WithTags), host=<hostname> when the host tag is on and
// no host tag is set so far, then the metric's own tags (for a source: the
// tags it emits with the point). Points carry all of
// them, so the client's global tags, which only fill keys a point lacks,
// add nothing when they come from the same environment variables; tags
// given to the client with apptuit.WithGlobalTags fill keys that none of
// the above set.
func New(client *apptuit.Client, registry *metrics.Registry, opts ...Option) (*Reporter, error) {
	if client == nil {
		return nil, errors.New("reporter: nil client")
	}
	cfg, err := newConfig(client, registry, opts)
	if err != nil {
		return nil, err
	}
	base, err := baseTags(&cfg)
	if err != nil {
		return nil, err
	}
	if err := checkSendable(client, cfg.prefix, base); err != nil {
		return nil, err
	}
	r := &Reporter{
		client:  client,
		cfg:     cfg,
		base:    base,
		buf:     newMemoryBuffer(cfg.bufferSize),
		sem:     ctxlock.New(),
		metaReg: metrics.NewRegistry(),
		stopCh:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	// The name is replaced by every series derived from it; when the base
	// tags cannot be sent, each metric without tags reports why.
	r.bare, _ = client.PrepareSeries("reporter", base)
	r.sourceLimit = metrics.DefaultSeriesLimit
	if registry != nil {
		r.registry = newRegistryCollector(registry)
		r.sourceLimit = registry.SeriesLimit()
	}
	for i, s := range cfg.sources {
		r.sources = append(r.sources, newSourceCollector(r, s, i))
	}
	r.meta = newRegistryCollector(r.metaReg)
	r.total, _ = r.metaReg.Counter(MetaTotal)
	r.successful, _ = r.metaReg.Counter(MetaSuccessful)
	r.failed, _ = r.metaReg.Counter(MetaFailed)
	r.dropped, _ = r.metaReg.Counter(MetaDropped)
	r.sendTime, _ = r.metaReg.Timer(MetaTime)
	// Last: nothing may fail after the spool is locked.
	if err := r.openSpool(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkSendable returns why no report could ever be sent, or nil. Every
// report carries the meta metrics, named with the prefix and tagged with
// the base tags alone: a client that would refuse them (a zero Client, a
// prefix or a reporter tag outside Apptuit's rule, no tag at all) would
// refuse them at every report, and every metric without tags of its own
// with them.
func checkSendable(client *apptuit.Client, prefix string, base map[string]string) error {
	_, err := client.PrepareSeries(prefix+MetaTotal+".count", base)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, apptuit.ErrZeroClient):
		return fmt.Errorf("reporter: %w", err)
	case len(base) == 0 && len(client.GlobalTags()) == 0:
		return fmt.Errorf("reporter: no report could be sent: %w: every point needs a tag, and there would be none: "+
			"the host tag is off (WithHostTag(\"\") or %s) and no tags come from WithTags, %s, %s or the client's global tags",
			err, apptuit.EnvDisableHostPy, apptuit.EnvTags, apptuit.EnvTagsPy)
	}
	return fmt.Errorf("reporter: no report could be sent: the client refuses the reporter's own meta metrics (prefix %q, tags %v): %w", prefix, base, err)
}

// newConfig applies opts and checks them against the client and the
// registry.
func newConfig(client *apptuit.Client, registry *metrics.Registry, opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return cfg, errors.New("reporter: nil option")
		}
		if err := o(&cfg); err != nil {
			return cfg, err
		}
	}
	if registry == nil && len(cfg.sources) == 0 {
		return cfg, errors.New("reporter: nil registry and no source: give a registry, or sources with WithSource")
	}
	if cfg.interval < time.Second && client.TimestampPrecision() == apptuit.PrecisionSeconds {
		// Reports would share a timestamp and overwrite one another.
		return cfg, fmt.Errorf("reporter: interval %v is below one second, but the client sends timestamps in whole seconds (apptuit.PrecisionSeconds)", cfg.interval)
	}
	cfg.sendTimeout = max(cfg.interval, 10*time.Second)
	return cfg, nil
}

// baseTags returns the tags every point gets under its own: the
// environment's (unless WithIgnoreEnvTags), the reporter's and the host
// tag (see New).
func baseTags(cfg *config) (map[string]string, error) {
	base := make(map[string]string)
	if !cfg.ignoreEnvTags {
		var err error
		if base, err = envTags(); err != nil {
			return nil, err
		}
	}
	maps.Copy(base, cfg.tags)
	on, name := true, ""
	if cfg.hostTag != nil {
		name = *cfg.hostTag
		on = name != ""
	} else if v, ok := os.LookupEnv(apptuit.EnvDisableHostPy); ok && v != "" {
		disable, err := env.ParseBool(apptuit.EnvDisableHostPy, v)
		if err != nil {
			return nil, fmt.Errorf("reporter: %w", err)
		}
		on = !disable
	}
	if _, ok := base["host"]; !on || ok {
		return base, nil
	}
	if name == "" {
		var err error
		if name, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("reporter: host tag: %w (use WithHostTag)", err)
		}
	}
	base["host"] = name
	return base, nil
}

// envTags reads APPTUIT_TAGS, else APPTUIT_PY_TAGS, with the client's
// lookup.
func envTags() (map[string]string, error) {
	t, err := env.LookupTags()
	if err != nil {
		return nil, fmt.Errorf("reporter: %w", err)
	}
	if t == nil {
		t = make(map[string]string)
	}
	return t, nil
}

// Tags returns a copy of the tags every point gets before the metric's own
// tags: the environment tags, the reporter tags and the host tag.
func (r *Reporter) Tags() map[string]string { return maps.Clone(r.base) }

// Start starts reporting every interval on a goroutine of its own, until
// Stop. It returns ErrStarted if called before and ErrStopped after Stop.
func (r *Reporter) Start() error {
	r.state.Lock()
	defer r.state.Unlock()
	switch {
	case r.stopped:
		return ErrStopped
	case r.started:
		return ErrStarted
	}
	r.started = true
	go r.loop()
	return nil
}

func (r *Reporter) loop() {
	defer close(r.done)
	t := time.NewTicker(r.cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-r.stopCh:
			return
		case <-t.C:
		}
		select {
		case <-r.stopCh:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.sendTimeout)
		r.report(ctx, false)
		cancel()
	}
}

// ReportNow makes one report at once, after any report in progress, and
// returns its error (also given to the error handler). Points that failed
// with a retryable error, or were not sent before ctx ended, are kept for
// the next report. If ctx ends while it waits for the report in progress,
// it returns ctx's error (wrapped) without reporting. It returns ErrStopped
// after Stop.
func (r *Reporter) ReportNow(ctx context.Context) error {
	r.state.Lock()
	stopped := r.stopped
	r.state.Unlock()
	if stopped {
		return ErrStopped
	}
	return r.report(ctx, false)
}

// Stop stops the reporting goroutine and waits for a report in progress
// for up to half the time left before ctx's deadline (without a deadline:
// until it ends or ctx is cancelled), then cancels it (its unsent points
// are kept for retry; the error handler is not called for it, and a
// ReportNow making it returns an error matching ErrStopped and
// context.Canceled). Then it makes one final report within ctx, which, as
// every report, sends points kept for retry first, for no more than half
// the interval and half the time ctx leaves, then its own. Points still
// unsent when it returns are counted as dropped (but for those in a spool,
// which stay for the next Reporter), and the final report's error is
// returned.
// It returns by ctx's deadline, give or take the time a cancelled request
// takes to return. Later calls return nil at once. Stop may be called
// without Start.
func (r *Reporter) Stop(ctx context.Context) error {
	r.state.Lock()
	if r.stopped {
		r.state.Unlock()
		return nil
	}
	r.stopped = true
	started := r.started
	r.state.Unlock()

	// No report starts now but the final one. A report in progress has
	// half the time left to Stop to finish before it is cancelled, so that
	// the final report gets the other half; cancelling it at once would
	// make a healthy report's points, stored by the server as the
	// request is cancelled, be sent again.
	cancelActive := func() {
		r.state.Lock()
		if r.cancelActive != nil {
			r.cancelActive()
		}
		r.state.Unlock()
	}
	unhook := context.AfterFunc(ctx, cancelActive)
	defer unhook()
	if deadline, ok := ctx.Deadline(); ok {
		grace := time.AfterFunc(time.Until(deadline)/2, cancelActive)
		defer grace.Stop()
	}
	close(r.stopCh)
	if started {
		<-r.done
	}
	err := r.report(ctx, true)
	if r.spool != nil {
		// What could not be sent stays in it, for the next Reporter.
		if cerr := r.spool.close(); err == nil {
			err = cerr
		}
	}
	return err
}
