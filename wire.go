package apptuit

import (
	"math"
	"strconv"
	"time"

	"github.com/apptuit-go/apptuit/internal/metricname"
)

// The put body is a JSON array of objects. Strings are escaped as Python's
// json.dumps does (non-ASCII as \uXXXX), numbers as Python prints floats
// (1024.0, 1e-07), so the documents match apptuit-py's but for spacing: we
// write compact JSON.

// appendPyFloat writes v as Python's repr(float) does: the shortest
// round-tripping digits, fixed notation with a ".0" for integral values when
// the decimal exponent is in [-4, 16), scientific ("1e-07", "1.5e+16")
// otherwise. v must be finite.
func appendPyFloat(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		if v == 0 && math.Signbit(v) {
			return append(b, "-0.0"...)
		}
		b = strconv.AppendInt(b, int64(v), 10)
		return append(b, '.', '0')
	}
	// Python uses fixed notation when the decimal exponent is in [-4, 16):
	// for those magnitudes the shortest 'f' form has the same digits.
	if a := math.Abs(v); a >= 1e-4 && a < 1e16 {
		start := len(b)
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
		for _, c := range b[start:] {
			if c == '.' {
				return b
			}
		}
		return append(b, '.', '0')
	}
	// Scientific: Go's shortest 'e' form is Python's ("1e-07", "1.5e+16").
	return strconv.AppendFloat(b, v, 'e', -1, 64)
}

func appendTags(b []byte, tags []kv) []byte {
	b = append(b, '{')
	for i, t := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = metricname.AppendPyString(b, t.k)
		b = append(b, ':')
		b = metricname.AppendPyString(b, t.v)
	}
	return append(b, '}')
}

// appendDataPoint writes one point in send()'s key order: metric,
// timestamp, value, tags.
func appendDataPoint(b []byte, metric string, ts time.Time, v float64, tags []kv, p Precision) []byte {
	b = append(b, `{"metric":`...)
	b = metricname.AppendPyString(b, metric)
	b = append(b, `,"timestamp":`...)
	b = appendTimestamp(b, ts.UnixMilli(), p)
	b = append(b, `,"value":`...)
	b = appendPyFloat(b, v)
	b = append(b, `,"tags":`...)
	b = appendTags(b, tags)
	return append(b, '}')
}

// appendSeriesPrefix appends what every point of a series starts with, in
// send_timeseries()'s key order: metric, tags, timestamp, value.
func appendSeriesPrefix(b []byte, metric string, tags []kv) []byte {
	b = append(b, `{"metric":`...)
	b = metricname.AppendPyString(b, metric)
	b = append(b, `,"tags":`...)
	b = appendTags(b, tags)
	return append(b, `,"timestamp":`...)
}
