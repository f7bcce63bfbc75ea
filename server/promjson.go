package server

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// The JSON of Prometheus's HTTP API, byte for byte as its web/api/v1
// writes it: timestamps in seconds with at most 3 decimals, sample values
// as strings ("NaN", "+Inf", 1e-07 in exponent form), labels as objects in
// label order.

// appendResponse appends {"status":"success","data":…} with the warnings
// and infos of the query, if any.
func appendResponse(b []byte, data func([]byte) []byte, warnings, infos []string) []byte {
	b = append(b, `{"status":"success","data":`...)
	b = data(b)
	if len(warnings) > 0 {
		b = append(b, `,"warnings":`...)
		b = appendArray(b, warnings, appendString)
	}
	if len(infos) > 0 {
		b = append(b, `,"infos":`...)
		b = appendArray(b, infos, appendString)
	}
	return append(b, '}')
}

// appendErrorResponse appends {"status":"error","errorType":…,"error":…}.
func appendErrorResponse(b []byte, e *apiError) []byte {
	b = append(b, `{"status":"error","errorType":`...)
	b = appendString(b, string(e.typ))
	b = append(b, `,"error":`...)
	b = appendString(b, e.err.Error())
	return append(b, '}')
}

// appendQueryData appends {"resultType":…,"result":…} for a query's value.
func appendQueryData(b []byte, v parser.Value) []byte {
	b = append(b, `{"resultType":`...)
	b = appendString(b, string(v.Type()))
	b = append(b, `,"result":`...)
	switch v := v.(type) {
	case promql.Matrix:
		b = appendArray(b, v, appendSeries)
	case promql.Vector:
		b = appendArray(b, v, appendSample)
	default: // promql.Scalar and promql.String marshal themselves
		j, err := json.Marshal(v)
		if err != nil {
			j = []byte("null")
		}
		b = append(b, j...)
	}
	return append(b, '}')
}

func appendSeries(b []byte, s promql.Series) []byte {
	b = append(b, `{"metric":`...)
	b = appendLabels(b, s.Metric)
	if len(s.Floats) > 0 {
		b = append(b, `,"values":[`...)
		for i, p := range s.Floats {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPoint(b, p.T, p.F)
		}
		b = append(b, ']')
	}
	if len(s.Histograms) > 0 {
		j, _ := json.Marshal(s.Histograms)
		b = append(append(b, `,"histograms":`...), j...)
	}
	return append(b, '}')
}

func appendSample(b []byte, s promql.Sample) []byte {
	b = append(b, `{"metric":`...)
	b = appendLabels(b, s.Metric)
	if s.H != nil {
		j, _ := json.Marshal(promql.HPoint{T: s.T, H: s.H})
		return append(append(append(b, `,"histogram":`...), j...), '}')
	}
	b = append(b, `,"value":`...)
	b = appendPoint(b, s.T, s.F)
	return append(b, '}')
}

// appendPoint appends [t,"v"].
func appendPoint(b []byte, t int64, f float64) []byte {
	b = append(b, '[')
	b = appendTimestamp(b, t)
	b = append(b, ',', '"')
	b = appendValue(b, f)
	return append(b, '"', ']')
}

// appendTimestamp appends Unix milliseconds t as seconds: 1700000000,
// 1700000000.5 written 1700000000.500.
func appendTimestamp(b []byte, t int64) []byte {
	if t < 0 {
		b = append(b, '-')
		t = -t
	}
	b = strconv.AppendInt(b, t/1000, 10)
	if frac := t % 1000; frac != 0 {
		b = append(b, '.')
		if frac < 100 {
			b = append(b, '0')
		}
		if frac < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, frac, 10)
	}
	return b
}

// appendValue appends f as Prometheus writes a sample value (inside its
// quotes): the shortest form, in exponent form below 1e-6 and from 1e21.
func appendValue(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64)
}

func appendLabels(b []byte, ls labels.Labels) []byte {
	b = append(b, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

// appendArray appends xs as a JSON array, each element by appendOne.
func appendArray[T any](b []byte, xs []T, appendOne func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOne(b, x)
	}
	return append(b, ']')
}

// appendString appends s as a JSON string, escaped as encoding/json does.
func appendString(b []byte, s string) []byte {
	j, err := json.Marshal(s)
	if err != nil {
		return append(b, `""`...)
	}
	return append(b, j...)
}
