package apptuit

import (
	"fmt"

	"github.com/apptuit-go/apptuit/internal/metricname"
)

// Metric names that carry their tags, as apptuit-py encodes them:
// name{"k1": "v1", "k2": "v2"}.

// EncodeMetric returns name with tags in apptuit-py's encoded form,
// name{"k1": "v1", "k2": "v2"}: keys sorted, JSON-escaped as Python does.
// Registries and reporters use it to carry tags inside a metric name. An
// empty name is an error.
func EncodeMetric(name string, tags map[string]string) (string, error) {
	s, err := metricname.Encode(name, tags)
	if err != nil {
		return "", fmt.Errorf("apptuit: encode metric: %w", err)
	}
	return s, nil
}

// DecodeMetric splits an encoded metric name (see EncodeMetric) into the
// name and its tags. Whitespace between name and '{' is allowed; a string
// without '{' is all name (trimmed) with nil tags. Empty input and a tag
// part that is not a JSON object of strings are errors. For repeated
// decoding of the same names, use a MetricDecoder.
func DecodeMetric(s string) (name string, tags map[string]string, err error) {
	name, tags, err = metricname.Decode(s)
	if err != nil {
		return "", nil, fmt.Errorf("apptuit: decode metric: %w", err)
	}
	return name, tags, nil
}

// MetricDecoder is DecodeMetric with a bounded cache: a name seen before
// costs one map lookup and no allocation. The returned tags map is shared
// and must not be modified. Safe for concurrent use.
type MetricDecoder struct{ c *metricname.Cache }

// NewMetricDecoder returns a decoder caching up to size names (at least 1;
// when full, the cache is emptied and refilled).
func NewMetricDecoder(size int) *MetricDecoder {
	return &MetricDecoder{c: metricname.NewCache(size)}
}

// Decode is DecodeMetric, cached.
func (d *MetricDecoder) Decode(s string) (string, map[string]string, error) {
	name, tags, err := d.c.Decode(s)
	if err != nil {
		return "", nil, fmt.Errorf("apptuit: decode metric: %w", err)
	}
	return name, tags, nil
}
