package reporter

import "context"

// Emit is how a Source hands a point to the reporter during Collect: the
// metric name (before the reporter's prefix), its tags and its value. The
// report's timestamp is the reporter's. The reporter copies whatever it
// keeps, so the source may reuse tags (and the memory behind name) once
// Emit returns; Emit must only be called during Collect, on Collect's
// goroutine. Non-finite values are left out of the report.
type Emit func(name string, tags map[string]string, value float64)

// A Source is a set of metrics kept outside a metrics.Registry (expvar,
// Prometheus client_golang, OpenTelemetry, go-metrics, ...), collected at
// every report. Collect calls emit once per point; an error it returns goes
// to the reporter's error handler, and the points it emitted before
// returning are still sent. Collect runs on the reporter's goroutine while
// the instrumented code keeps running, so it must be safe for that.
type Source interface {
	Collect(ctx context.Context, emit Emit) error
}

// SourceFunc is a function that is a Source.
type SourceFunc func(ctx context.Context, emit Emit) error

// Collect calls f.
func (f SourceFunc) Collect(ctx context.Context, emit Emit) error { return f(ctx, emit) }
