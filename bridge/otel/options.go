package otelbridge

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// DefaultQuantiles are the quantiles sent for an exponential histogram
// unless WithQuantiles says otherwise.
var DefaultQuantiles = []float64{0.5, 0.9, 0.99}

// defaultResourceKeys are the resource attributes sent as tags by default.
var defaultResourceKeys = []attribute.Key{"service.name", "service.namespace", "service.instance.id"}

// An Option configures a Bridge (New) or an Exporter (NewExporter).
type Option func(*config) error

type config struct {
	temporality  sdkmetric.TemporalitySelector
	aggregation  sdkmetric.AggregationSelector
	resourceKeys []attribute.Key
	scopeTags    bool
	quantiles    []float64
}

func newConfig(opts []Option) (config, error) {
	c := config{
		temporality:  sdkmetric.CumulativeTemporalitySelector,
		aggregation:  sdkmetric.DefaultAggregationSelector,
		resourceKeys: slices.Clone(defaultResourceKeys),
		quantiles:    slices.Clone(DefaultQuantiles),
	}
	for _, o := range opts {
		if o == nil {
			return c, errors.New("otelbridge: nil Option")
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// WithDeltaTemporality makes counters, observable counters and histograms
// report what was recorded since the previous collection instead of since
// the start (sdkmetric.DeltaTemporalitySelector; up-down counters stay
// cumulative). Names do not change: a delta counter is still sent as
// <name>_total, but its value is the increase over the interval, so use
// sums over time rather than rate(). The default is cumulative, which is
// what Prometheus-style queries (rate, increase, histogram_quantile over
// rates) expect.
func WithDeltaTemporality() Option {
	return func(c *config) error {
		c.temporality = sdkmetric.DeltaTemporalitySelector
		return nil
	}
}

// WithAggregationSelector sets how each kind of instrument is aggregated,
// e.g. to make every histogram an exponential one:
//
//	otelbridge.WithAggregationSelector(func(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
//		if k == sdkmetric.InstrumentKindHistogram {
//			return sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}
//		}
//		return sdkmetric.DefaultAggregationSelector(k)
//	})
//
// Views registered on the MeterProvider take precedence, as always. The
// default is sdkmetric.DefaultAggregationSelector.
func WithAggregationSelector(s sdkmetric.AggregationSelector) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("otelbridge: nil AggregationSelector")
		}
		c.aggregation = s
		return nil
	}
}

// WithResourceAttributes adds resource attributes sent as tags on every
// point, besides service.name, service.namespace and service.instance.id
// (named as Prometheus label names: "deployment.environment.name" becomes
// "deployment_environment_name"). Keys the resource does not have are
// ignored.
func WithResourceAttributes(keys ...attribute.Key) Option {
	return func(c *config) error {
		for _, k := range keys {
			if k == "" {
				return errors.New("otelbridge: empty resource attribute key")
			}
			if !slices.Contains(c.resourceKeys, k) {
				c.resourceKeys = append(c.resourceKeys, k)
			}
		}
		return nil
	}
}

// WithScopeTags adds the tags otel_scope_name and otel_scope_version (the
// instrumentation scope of each metric, when not empty) to every point, as
// OTel's Prometheus exporter does by default. Without them, two scopes
// that record an instrument of the same name and attributes make the same
// series, and the later point of a report overwrites the earlier one.
func WithScopeTags() Option {
	return func(c *config) error { c.scopeTags = true; return nil }
}

// WithQuantiles sets the quantiles estimated from each exponential
// histogram (default DefaultQuantiles: 0.5, 0.9, 0.99). Each must be in
// [0, 1], without duplicates; none at all sends only _sum and _count.
func WithQuantiles(qs ...float64) Option {
	return func(c *config) error {
		for i, q := range qs {
			if math.IsNaN(q) || q < 0 || q > 1 {
				return fmt.Errorf("otelbridge: quantile %v is outside [0, 1]", q)
			}
			if slices.Contains(qs[:i], q) {
				return fmt.Errorf("otelbridge: quantile %v given twice", q)
			}
		}
		c.quantiles = slices.Clone(qs)
		return nil
	}
}
