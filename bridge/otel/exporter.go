package otelbridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/apptuit-go/apptuit"
)

// maxExportErrors caps the invalid-series errors one Export returns (the
// rest are counted in the last one).
const maxExportErrors = 10

// Exporter is an sdkmetric.Exporter that sends every export to Apptuit
// through an apptuit.Client, with the Bridge's mapping, for programs that
// drive OpenTelemetry with a PeriodicReader:
//
//	exp, err := otelbridge.NewExporter(client)
//	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
//
// Export is synchronous: it returns once the client has sent every point
// (with the client's own retries) or failed. It keeps nothing for a later
// export: a failed export's points are lost, as with OTel's other push
// exporters. Use the Bridge with the reporter for a retry buffer, a final
// report on Stop, tags, a host tag and meta metrics.
//
// Points carry the data point's time (to the millisecond), the resource
// and scope tags and the attributes (see the package documentation); the
// client adds its global tags. An Exporter is safe for concurrent use.
type Exporter struct {
	client *apptuit.Client
	cfg    config

	mu  sync.Mutex // guards what follows: one Export at a time
	m   *mapper
	pts []apptuit.DataPoint

	stateMu  sync.Mutex
	shutdown bool
}

var _ sdkmetric.Exporter = (*Exporter)(nil)

// NewExporter returns an Exporter that sends with client, configured by
// opts (temporality, aggregation, resource attributes, scope tags,
// quantiles).
func NewExporter(client *apptuit.Client, opts ...Option) (*Exporter, error) {
	if client == nil {
		return nil, errors.New("otelbridge: nil client")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Exporter{client: client, cfg: cfg, m: newMapper(cfg)}, nil
}

// Temporality returns the temporality the Exporter asks of the SDK:
// cumulative, unless WithDeltaTemporality.
func (e *Exporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return e.cfg.temporality(k)
}

// Aggregation returns the aggregation the Exporter asks of the SDK.
func (e *Exporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return e.cfg.aggregation(k)
}

// Export maps rm and sends its points with one client Send (which splits
// them into batches). Series the client would refuse (a name or tag key
// outside Apptuit's rule, more than 25 tags) are left out, and
// non-finite values skipped, so that they do not fail the rest; the
// returned error joins those (each an *apptuit.ValidationError) with the
// Send's error, if any. It honours ctx, and returns
// sdkmetric.ErrExporterShutdown after Shutdown.
//
// Export allocates a tag map per point: the points must outlive the
// mapping until Send returns.
func (e *Exporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	e.stateMu.Lock()
	down := e.shutdown
	e.stateMu.Unlock()
	if down {
		return sdkmetric.ErrExporterShutdown
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	pts := e.pts[:0]
	var errs []error
	invalid := 0
	mapErrs := e.m.walk(rm, func(name string, tags map[string]string, t time.Time, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if err := e.client.ValidateMetric(name, tags); err != nil {
			invalid++
			if invalid <= maxExportErrors {
				errs = append(errs, fmt.Errorf("otelbridge: point of %q not sent: %w", name, err))
			}
			return
		}
		pts = append(pts, apptuit.DataPoint{Metric: name, Tags: maps.Clone(tags), Timestamp: t.Truncate(time.Millisecond), Value: v})
	})
	if invalid > maxExportErrors {
		errs = append(errs, fmt.Errorf("otelbridge: %d more points not sent for the same reasons", invalid-maxExportErrors))
	}
	errs = append(mapErrs, errs...)
	if len(pts) > 0 {
		if err := e.client.Send(ctx, pts); err != nil {
			errs = append(errs, fmt.Errorf("otelbridge: export of %d points: %w", len(pts), err))
		}
	}
	clear(pts) // drop the tag maps, keep the capacity
	e.pts = pts[:0]
	return errors.Join(errs...)
}

// ForceFlush returns at once: an Exporter holds nothing between exports.
// It returns ctx's error if ctx has ended.
func (e *Exporter) ForceFlush(ctx context.Context) error { return ctx.Err() }

// Shutdown makes later exports fail with sdkmetric.ErrExporterShutdown.
// An export in progress finishes. It returns ctx's error if ctx has ended.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.stateMu.Lock()
	e.shutdown = true
	e.stateMu.Unlock()
	return ctx.Err()
}
