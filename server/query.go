package server

import (
	"fmt"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// The Apptuit query language on GET /api/query (package internal/ql, the
// same as the test fake's), bounded like PromQL (promql.go).

// QueryLimits bound what one query of the Apptuit query language may cost.
// A zero field takes its default. Past a bound the query fails with 422
// (points, bytes, time) or 429 (slots), in OpenTSDB's error shape, with a
// message that names the bound and the flag of apptuit serve that raises
// it.
type QueryLimits struct {
	// MaxPoints is how many points one query may hold: each point
	// fetched, each point a function computes, and each point answered
	// again by an output that repeats another (default
	// DefaultQueryMaxPoints; 16 bytes each). The query stops when it would
	// pass it, before fetching or computing more.
	MaxPoints int
	// MaxBytes is the largest answer, in bytes of JSON (default
	// DefaultQueryMaxBytes); the answer is built before it is sent, and
	// abandoned as soon as it passes this.
	MaxBytes int
	// Timeout bounds a query from its parse to its answer built,
	// including any wait for a slot (default DefaultQueryTimeout).
	Timeout time.Duration
	// MaxConcurrent is how many queries are evaluated at once (default
	// DefaultQueryConcurrency); the others wait for a slot within their
	// Timeout.
	MaxConcurrent int
}

// Defaults of QueryLimits. A query in flight holds at most 16 bytes per
// point of MaxPoints and an answer buffer of MaxBytes: with the defaults
// about 64 MB, and 256 MB for the 4 evaluated at once (the process's RSS
// may reach twice what is live, the garbage collector's headroom).
const (
	DefaultQueryMaxPoints   = opentsdb.DefaultQueryMaxPoints
	DefaultQueryMaxBytes    = opentsdb.DefaultQueryMaxBytes
	DefaultQueryTimeout     = opentsdb.DefaultQueryTimeout
	DefaultQueryConcurrency = opentsdb.DefaultQueryConcurrency
)

// WithQueryLimits sets the bounds of the Apptuit query language's endpoint,
// /api/query (see QueryLimits); negative fields are invalid (New fails).
func WithQueryLimits(l QueryLimits) Option { return func(c *config) { c.query = l } }

func (l QueryLimits) check() error {
	if l.MaxPoints < 0 || l.MaxBytes < 0 || l.Timeout < 0 || l.MaxConcurrent < 0 {
		return fmt.Errorf("WithQueryLimits(%+v): bounds must not be negative", l)
	}
	return nil
}

// handler returns the /api/query handler with these bounds (defaults
// where zero).
func (l QueryLimits) handler() opentsdb.Query {
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultQueryTimeout
	}
	return opentsdb.Query{
		MaxPoints: def(l.MaxPoints, DefaultQueryMaxPoints),
		MaxBytes:  def(l.MaxBytes, DefaultQueryMaxBytes),
		Timeout:   l.Timeout,
		Slots:     make(chan struct{}, def(l.MaxConcurrent, DefaultQueryConcurrency)),
		Raise: opentsdb.QueryRaise{
			MaxPoints: "--query-max-points", MaxBytes: "--query-max-bytes",
			Timeout: "--query-timeout", Slots: "--query-concurrency",
		},
	}
}
