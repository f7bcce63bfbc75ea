package otelbridge

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/apptuit-go/apptuit"
)

// pointFunc receives one point of a mapping: tags is reused once it
// returns; t is the data point's time (the Exporter uses it, the Bridge
// stamps points with the report's time instead).
type pointFunc func(name string, tags map[string]string, t time.Time, v float64)

// Bounds of a mapper's caches: past them a cache is emptied, so values that
// never repeat cannot make it grow without bound.
const (
	maxKeys   = 4096
	maxInts   = 4096
	maxFloats = 4096
)

// mapper turns ResourceMetrics into points, as the package documentation
// describes. It is not safe for concurrent use; its owner serialises it.
type mapper struct {
	cfg    config
	names  otlptranslator.MetricNamer
	labels otlptranslator.LabelNamer

	metricNames map[nameKey]*metricNames
	keys        map[attribute.Key]string // attribute key → tag key
	ints        map[int64]string
	floats      map[float64]string // le and quantile values
	gen         uint64

	res      *resource.Resource // the resource resTags was made from
	resTags  map[string]string
	base     map[string]string // resTags and the scope's tags
	tags     map[string]string // one point's tags, reused
	attrKeys []string          // tag keys set from the point's attributes
}

type nameKey struct {
	name, unit string
	typ        otlptranslator.MetricType
}

// metricNames are the names of one metric's series, computed once.
type metricNames struct {
	base, bucket, sum, count string
	err                      error
	gen                      uint64
}

func newMapper(cfg config) *mapper {
	return &mapper{
		cfg:         cfg,
		names:       otlptranslator.MetricNamer{WithMetricSuffixes: true},
		labels:      otlptranslator.LabelNamer{},
		metricNames: make(map[nameKey]*metricNames),
		keys:        make(map[attribute.Key]string),
		ints:        make(map[int64]string),
		floats:      make(map[float64]string),
		resTags:     make(map[string]string),
		base:        make(map[string]string),
		tags:        make(map[string]string),
	}
}

// walk calls fn for every point of rm and returns the errors of metrics
// that cannot be named (at most one per metric).
func (m *mapper) walk(rm *metricdata.ResourceMetrics, fn pointFunc) []error {
	m.gen++
	if len(m.keys) > maxKeys {
		clear(m.keys)
	}
	if len(m.ints) > maxInts {
		clear(m.ints)
	}
	if len(m.floats) > maxFloats {
		clear(m.floats)
	}
	if rm.Resource != m.res || m.res == nil {
		m.setResource(rm.Resource)
	}
	var errs []error
	seen := 0
	for i := range rm.ScopeMetrics {
		sm := &rm.ScopeMetrics[i]
		m.setScope(sm.Scope)
		for j := range sm.Metrics {
			seen++
			if err := m.metric(&sm.Metrics[j], fn); err != nil {
				errs = append(errs, err)
			}
		}
	}
	m.prune(seen)
	return errs
}

// setResource keeps the tags made of the configured resource attributes.
func (m *mapper) setResource(res *resource.Resource) {
	m.res = res
	clear(m.resTags)
	if res == nil {
		return
	}
	for _, k := range m.cfg.resourceKeys {
		v, ok := res.Set().Value(k)
		if !ok {
			continue
		}
		if s := m.value(v); s != "" {
			m.resTags[m.key(k)] = s
		}
	}
}

func (m *mapper) setScope(s instrumentation.Scope) {
	clear(m.base)
	for k, v := range m.resTags {
		m.base[k] = v
	}
	if m.cfg.scopeTags {
		if s.Name != "" {
			m.base[otlptranslator.ScopeNameLabelKey] = s.Name
		}
		if s.Version != "" {
			m.base[otlptranslator.ScopeVersionLabelKey] = s.Version
		}
	}
}

// metric emits the points of one metric.
func (m *mapper) metric(md *metricdata.Metrics, fn pointFunc) error {
	var typ otlptranslator.MetricType
	switch d := md.Data.(type) {
	case metricdata.Gauge[int64], metricdata.Gauge[float64]:
		typ = otlptranslator.MetricTypeGauge
	case metricdata.Sum[int64]:
		typ = sumType(d.IsMonotonic)
	case metricdata.Sum[float64]:
		typ = sumType(d.IsMonotonic)
	case metricdata.Histogram[int64], metricdata.Histogram[float64],
		metricdata.ExponentialHistogram[int64], metricdata.ExponentialHistogram[float64]:
		typ = otlptranslator.MetricTypeHistogram // as OTel's Prometheus exporter names both
	case metricdata.Summary:
		typ = otlptranslator.MetricTypeSummary
	default:
		return fmt.Errorf("otelbridge: metric %q: unsupported aggregation %T left out", md.Name, md.Data)
	}
	n := m.namesOf(md.Name, md.Unit, typ)
	if n.err != nil {
		return n.err
	}
	switch d := md.Data.(type) {
	case metricdata.Gauge[int64]:
		points(m, n, d.DataPoints, fn)
	case metricdata.Gauge[float64]:
		points(m, n, d.DataPoints, fn)
	case metricdata.Sum[int64]:
		points(m, n, d.DataPoints, fn)
	case metricdata.Sum[float64]:
		points(m, n, d.DataPoints, fn)
	case metricdata.Histogram[int64]:
		histograms(m, n, d.DataPoints, fn)
	case metricdata.Histogram[float64]:
		histograms(m, n, d.DataPoints, fn)
	case metricdata.ExponentialHistogram[int64]:
		expHistograms(m, n, d.DataPoints, fn)
	case metricdata.ExponentialHistogram[float64]:
		expHistograms(m, n, d.DataPoints, fn)
	case metricdata.Summary:
		m.summaries(n, d.DataPoints, fn)
	}
	return nil
}

func sumType(monotonic bool) otlptranslator.MetricType {
	if monotonic {
		return otlptranslator.MetricTypeMonotonicCounter
	}
	return otlptranslator.MetricTypeNonMonotonicCounter
}

func points[N int64 | float64](m *mapper, n *metricNames, dps []metricdata.DataPoint[N], fn pointFunc) {
	for i := range dps {
		dp := &dps[i]
		m.setAttributes(&dp.Attributes)
		fn(n.base, m.tags, dp.Time, float64(dp.Value))
	}
}

func histograms[N int64 | float64](m *mapper, n *metricNames, dps []metricdata.HistogramDataPoint[N], fn pointFunc) {
	for i := range dps {
		dp := &dps[i]
		m.setAttributes(&dp.Attributes)
		var cum uint64
		for j, b := range dp.Bounds {
			if j < len(dp.BucketCounts) {
				cum += dp.BucketCounts[j]
			}
			m.tags["le"] = m.float(b)
			fn(n.bucket, m.tags, dp.Time, float64(cum))
		}
		m.tags["le"] = "+Inf"
		fn(n.bucket, m.tags, dp.Time, float64(dp.Count))
		delete(m.tags, "le")
		fn(n.sum, m.tags, dp.Time, float64(dp.Sum))
		fn(n.count, m.tags, dp.Time, float64(dp.Count))
	}
}

func expHistograms[N int64 | float64](m *mapper, n *metricNames, dps []metricdata.ExponentialHistogramDataPoint[N], fn pointFunc) {
	for i := range dps {
		dp := &dps[i]
		m.setAttributes(&dp.Attributes)
		if dp.Count > 0 && len(m.cfg.quantiles) > 0 {
			h := expHistogram{count: dp.Count, scale: dp.Scale, zeroCount: dp.ZeroCount, zeroThreshold: dp.ZeroThreshold,
				pos: dp.PositiveBucket, neg: dp.NegativeBucket}
			if v, ok := dp.Min.Value(); ok {
				h.min, h.hasMin = float64(v), true
			}
			if v, ok := dp.Max.Value(); ok {
				h.max, h.hasMax = float64(v), true
			}
			for _, q := range m.cfg.quantiles {
				m.tags["quantile"] = m.float(q)
				fn(n.base, m.tags, dp.Time, h.quantile(q))
			}
			delete(m.tags, "quantile")
		}
		fn(n.sum, m.tags, dp.Time, float64(dp.Sum))
		fn(n.count, m.tags, dp.Time, float64(dp.Count))
	}
}

func (m *mapper) summaries(n *metricNames, dps []metricdata.SummaryDataPoint, fn pointFunc) {
	for i := range dps {
		dp := &dps[i]
		m.setAttributes(&dp.Attributes)
		for _, q := range dp.QuantileValues {
			if math.IsNaN(q.Value) {
				continue
			}
			m.tags["quantile"] = m.float(q.Quantile)
			fn(n.base, m.tags, dp.Time, q.Value)
		}
		delete(m.tags, "quantile")
		fn(n.sum, m.tags, dp.Time, dp.Sum)
		fn(n.count, m.tags, dp.Time, float64(dp.Count))
	}
}

// setAttributes makes m.tags the resource and scope tags overlaid by the
// attributes of one data point. Attributes whose value is empty are left
// out; two keys that become the same tag key ("a.b" and "a_b") get their
// values sorted and joined with ';', as OTel's Prometheus exporter does.
func (m *mapper) setAttributes(set *attribute.Set) {
	clear(m.tags)
	for k, v := range m.base {
		m.tags[k] = v
	}
	m.attrKeys = m.attrKeys[:0]
	for it := set.Iter(); it.Next(); {
		kv := it.Attribute()
		v := m.value(kv.Value)
		if v == "" {
			continue
		}
		k := m.key(kv.Key)
		if slices.Contains(m.attrKeys, k) {
			parts := append(strings.Split(m.tags[k], ";"), v)
			slices.Sort(parts)
			v = strings.Join(parts, ";")
		} else {
			m.attrKeys = append(m.attrKeys, k)
		}
		m.tags[k] = v
	}
}

// key returns the tag key of an attribute key, as a Prometheus label name
// ("http.request.method" becomes "http_request_method").
func (m *mapper) key(k attribute.Key) string {
	if s, ok := m.keys[k]; ok {
		return s
	}
	s, err := m.labels.Build(string(k))
	if err != nil { // empty, or only underscores: kept for the reporter to refuse, named
		s = string(k)
	}
	m.keys[k] = s
	return s
}

// value formats an attribute value as Value.Emit does, without allocating
// for strings, booleans and integers seen before.
func (m *mapper) value(v attribute.Value) string {
	switch v.Type() {
	case attribute.STRING:
		return v.AsString()
	case attribute.BOOL:
		if v.AsBool() {
			return "true"
		}
		return "false"
	case attribute.INT64:
		i := v.AsInt64()
		s, ok := m.ints[i]
		if !ok {
			s = strconv.FormatInt(i, 10)
			m.ints[i] = s
		}
		return s
	}
	// Emit is deprecated in the newer otel that the workspace builds this
	// module with (the server module needs it), for String, which v1.41,
	// this module's requirement, lacks, and which formats slices otherwise.
	//lint:ignore SA1019 Emit is the form this module's tests expect, in every supported otel.
	return v.Emit()
}

// float formats a bucket bound or a quantile as Prometheus' text format
// writes the le and quantile labels.
func (m *mapper) float(f float64) string {
	if s, ok := m.floats[f]; ok {
		return s
	}
	var s string
	switch {
	case math.IsInf(f, +1):
		s = "+Inf"
	case math.IsInf(f, -1):
		s = "-Inf"
	case math.IsNaN(f):
		return "NaN"
	default:
		s = strconv.FormatFloat(f, 'g', -1, 64)
	}
	m.floats[f] = s
	return s
}

// namesOf returns the cached names of a metric.
func (m *mapper) namesOf(name, unit string, typ otlptranslator.MetricType) *metricNames {
	k := nameKey{name, unit, typ}
	n := m.metricNames[k]
	if n == nil {
		n = &metricNames{}
		base, err := m.names.Build(otlptranslator.Metric{Name: name, Unit: unit, Type: typ})
		if err != nil {
			n.err = fmt.Errorf("otelbridge: metric %q left out: %w", name, err)
		} else {
			// The translator's names are Prometheus's, which may hold
			// ':': CleanName makes them Apptuit's.
			base = apptuit.CleanName(base)
			n.base, n.bucket, n.sum, n.count = base, base+"_bucket", base+"_sum", base+"_count"
		}
		m.metricNames[k] = n
	}
	n.gen = m.gen
	return n
}

// prune forgets the names of metrics not seen this time, once they are
// more than half of those cached.
func (m *mapper) prune(seen int) {
	if len(m.metricNames) <= 2*seen+16 {
		return
	}
	for k, n := range m.metricNames {
		if n.gen != m.gen {
			delete(m.metricNames, k)
		}
	}
}
