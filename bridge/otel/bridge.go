package otelbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/apptuit-go/apptuit/reporter"
)

// Bridge lets the apptuit reporter collect an OpenTelemetry MeterProvider:
// register Reader() on the provider and give the Bridge (a
// reporter.Source) to the reporter with reporter.WithSource. Every report
// then collects the provider through that reader, so the reporter's
// interval, retry buffer and final report on Stop are in charge, and
// nothing is exported between reports. Create one with New. It is safe
// for concurrent use.
type Bridge struct {
	reader *sdkmetric.ManualReader

	mu sync.Mutex // guards what follows: one Collect at a time
	rm metricdata.ResourceMetrics
	m  *mapper
}

var _ reporter.Source = (*Bridge)(nil)

// New returns a Bridge configured by opts (temporality, aggregation,
// resource attributes, scope tags, quantiles).
func New(opts ...Option) (*Bridge, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Bridge{
		reader: sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(cfg.temporality),
			sdkmetric.WithAggregationSelector(cfg.aggregation)),
		m: newMapper(cfg),
	}, nil
}

// Reader returns the reader to register on the MeterProvider with
// sdkmetric.WithReader. It belongs to one provider. Shutting the provider
// down shuts the reader down: stop the reporter first, so that its final
// report still collects the provider.
func (b *Bridge) Reader() sdkmetric.Reader { return b.reader }

// String describes the Bridge in the reporter's errors
// (*reporter.SourceError): "otelbridge.Bridge".
func (b *Bridge) String() string { return "otelbridge.Bridge" }

// Collect collects the MeterProvider the reader is registered on and emits
// its points, as the package documentation describes. When the SDK returns
// an error with data (an observable callback that failed), the data is
// emitted and the error returned; a reader not registered, or shut down,
// emits nothing and returns sdkmetric.ErrReaderNotRegistered or
// sdkmetric.ErrReaderShutdown (wrapped).
//
// In steady state Collect allocates nothing per point beyond what the SDK
// does (it reuses the ResourceMetrics between reports): names, tag keys and
// le strings are cached and one tag map is reused.
func (b *Bridge) Collect(ctx context.Context, emit reporter.Emit) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rm.ScopeMetrics = b.rm.ScopeMetrics[:0] // a failed collection leaves nothing stale behind
	err := b.reader.Collect(ctx, &b.rm)
	var errs []error
	if err != nil {
		errs = append(errs, fmt.Errorf("otelbridge: collect: %w", err))
	}
	errs = append(errs, b.m.walk(&b.rm, func(name string, tags map[string]string, _ time.Time, v float64) {
		emit(name, tags, v)
	})...)
	return errors.Join(errs...)
}
