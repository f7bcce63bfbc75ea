package server

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/apptuit-go/apptuit/server/internal/store"
)

// PromQL is Prometheus's engine (package promql of Prometheus) over the
// store (queryable.go), behind Prometheus's HTTP API (promapi.go).

// PromQLLimits bound what one PromQL query may cost. A zero field takes its
// default; past a bound the query fails as Prometheus's would: 422 with
// errorType "cost_limit" or "execution", or 503 "timeout".
type PromQLLimits struct {
	MaxSeries  int           // series the selectors of one query may read, in all (default 10,000)
	MaxSamples int           // samples the selectors of one query may read, in all (default 5,000,000)
	MaxPoints  int           // samples the engine may hold at once: the answer and what it is computed from (default 1,000,000)
	Timeout    time.Duration // evaluation time, including any wait for a slot (default DefaultPromQLTimeout, 30 s)
	// MaxConcurrent is how many queries are evaluated at once (default
	// DefaultPromQLConcurrency, 4); the others wait for a slot within
	// their Timeout.
	MaxConcurrent int
}

// Defaults of PromQLLimits.
const (
	DefaultPromQLTimeout     = 30 * time.Second
	DefaultPromQLConcurrency = 4
	defaultPromQLSeries      = 10_000
	defaultPromQLSamples     = 5_000_000
	defaultPromQLPoints      = 1_000_000
)

// lookbackDelta is how far back an instant selector looks for a sample:
// Prometheus's default.
const lookbackDelta = 5 * time.Minute

// WithPromQLLimits sets the bounds of the PromQL endpoints (see
// PromQLLimits); negative fields are invalid (New fails). The selectors
// read the store's compressed chunks in place (their cost is decoding,
// bounded by MaxSamples); the memory a query may take is about 16 bytes per
// sample held, so the defaults allow about 16 MB per query in flight, and
// 64 MB for the 4 evaluated at once.
func WithPromQLLimits(l PromQLLimits) Option { return func(c *config) { c.promql = l } }

func (l PromQLLimits) check() error {
	if l.MaxSeries < 0 || l.MaxSamples < 0 || l.MaxPoints < 0 || l.Timeout < 0 || l.MaxConcurrent < 0 {
		return fmt.Errorf("WithPromQLLimits(%+v): bounds must not be negative", l)
	}
	return nil
}

func (l PromQLLimits) withDefaults() PromQLLimits {
	for _, f := range []struct {
		v   *int
		def int
	}{
		{&l.MaxSeries, defaultPromQLSeries}, {&l.MaxSamples, defaultPromQLSamples},
		{&l.MaxPoints, defaultPromQLPoints}, {&l.MaxConcurrent, DefaultPromQLConcurrency},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultPromQLTimeout
	}
	return l
}

// promQL is the engine and what it reads.
type promQL struct {
	lim       PromQLLimits
	now       func() time.Time // the default time of an instant query
	engine    *promql.Engine
	parser    parser.Parser
	queryable *queryable
	slots     chan struct{} // a slot per query being built or evaluated
}

func newPromQL(l PromQLLimits, st *store.Store, now func() time.Time) *promQL {
	l = l.withDefaults()
	p := &promQL{
		lim:       l,
		now:       now,
		parser:    parser.NewParser(parser.Options{}),
		queryable: &queryable{st: st, maxSeries: l.MaxSeries, maxSamples: l.MaxSamples},
		slots:     make(chan struct{}, l.MaxConcurrent),
	}
	p.engine = promql.NewEngine(promql.EngineOpts{
		MaxSamples:           l.MaxPoints,
		Timeout:              l.Timeout,
		LookbackDelta:        lookbackDelta,
		ActiveQueryTracker:   slotTracker{p.slots},
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		// A subquery without a step takes Prometheus's default evaluation
		// interval, 1 minute.
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		Parser:                   p.parser,
	})
	return p
}

// slotTracker bounds the queries evaluated at once (the engine's
// QueryTracker, without Prometheus's file of active queries): a query
// waits for a slot until its context ends, and then fails as Prometheus's
// engine does, with ErrQueryTimeout or ErrQueryCanceled.
type slotTracker struct{ slots chan struct{} }

func (t slotTracker) GetMaxConcurrent() int { return cap(t.slots) }

func (t slotTracker) Insert(ctx context.Context, _ string) (int, error) {
	select {
	case t.slots <- struct{}{}:
		return 0, nil
	default:
	}
	select {
	case t.slots <- struct{}{}:
		return 0, nil
	case <-ctx.Done():
		env := fmt.Sprintf("query queue (all %d evaluation slots busy)", cap(t.slots))
		if ctx.Err() == context.DeadlineExceeded {
			return 0, promql.ErrQueryTimeout(env)
		}
		return 0, promql.ErrQueryCanceled(env)
	}
}

func (t slotTracker) Delete(int) { <-t.slots }

func (slotTracker) Close() error { return nil }
