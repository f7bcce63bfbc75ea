package promql

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r as the body of Prometheus's successful answer,
// {"status":"success","data":{"resultType":…,"result":…}}: timestamps as
// JSON numbers of seconds (with three decimals when not whole), values as
// strings ("1.5", "NaN", "+Inf"). Its cost is linear in the points.
func (r *Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"status":"success","data":{"resultType":"`...)
	b = append(b, r.Type...)
	b = append(b, `","result":`...)
	switch r.Type {
	case TypeScalar:
		b = appendPoint(b, r.Scalar)
	case TypeString:
		b = append(b, '[')
		b = appendTimestamp(b, r.Scalar.T)
		b = append(b, ',')
		b = appendString(b, r.String)
		b = append(b, ']')
	default:
		b = append(b, '[')
		for i, s := range r.Series {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"metric":{`...)
			for j, l := range s.Labels {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(b, l.Name)
				b = append(b, ':')
				b = appendString(b, l.Value)
			}
			b = append(b, '}')
			if r.Type == TypeVector {
				b = append(b, `,"value":`...)
				b = appendPoint(b, s.Points[0])
			} else {
				b = append(b, `,"values":[`...)
				for j, p := range s.Points {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendPoint(b, p)
				}
				b = append(b, ']')
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, "}}"...)
}

// AppendErrorJSON appends Prometheus's error answer,
// {"status":"error","errorType":…,"error":…}. Its cost is linear in msg.
func AppendErrorJSON(b []byte, errorType, msg string) []byte {
	b = append(b, `{"status":"error","errorType":`...)
	b = appendString(b, errorType)
	b = append(b, `,"error":`...)
	b = appendString(b, msg)
	return append(b, '}')
}

func appendPoint(b []byte, p Sample) []byte {
	b = append(b, '[')
	b = appendTimestamp(b, p.T)
	b = append(b, ',', '"')
	b = formatValue(b, p.V)
	return append(b, '"', ']')
}

// appendTimestamp writes ms as seconds, as Prometheus: 1700000000.5 s is
// 1700000000.500.
func appendTimestamp(b []byte, ms int64) []byte {
	if ms < 0 {
		b = append(b, '-')
		if ms == math.MinInt64 {
			return append(b, "9223372036854775.808"...)
		}
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	if f := ms % 1000; f != 0 {
		b = append(b, '.')
		if f < 100 {
			b = append(b, '0')
		}
		if f < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendInt(b, f, 10)
	}
	return b
}

// formatValue appends v as Prometheus writes sample values: the shortest
// decimal without exponent ('f', -1), NaN, +Inf or -Inf. It costs one
// strconv.AppendFloat.
func formatValue(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendString writes s as a JSON string (invalid UTF-8 as U+FFFD).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
