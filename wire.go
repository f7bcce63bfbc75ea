package apptuit

import (
	"math"
	"strconv"

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

// appendSeries appends the encoding of a series named name with the
// merged, sorted tags (both checked) to b, in the client's wire format, in
// three parts (see PreparedSeries): head, pre and post, the tags last in
// JSON when tagsLast (send()'s key order). It returns b and the ends of
// head and pre in it.
func (c *Client) appendSeries(b []byte, name string, tags []kv, tagsLast bool) ([]byte, int, int) {
	b = c.appendHead(b, name)
	head := len(b)
	b, pre := c.appendTagParts(b, tags, tagsLast)
	return b, head, pre
}

// appendHead appends a series' head: {"metric":"<name>", or in a line
// "[put ]<name>".
func (c *Client) appendHead(b []byte, name string) []byte {
	if t := c.cfg.line; t != nil {
		return t.appendHead(b, name) // line_encode.go
	}
	b = append(b, `{"metric":`...)
	return metricname.AppendPyString(b, name)
}

// appendTagParts appends a series' pre and post parts, with the tags, and
// returns b and where pre ends.
func (c *Client) appendTagParts(b []byte, tags []kv, tagsLast bool) ([]byte, int) {
	if t := c.cfg.line; t != nil {
		b = append(b, ' ')
		pre := len(b)
		return t.appendTags(b, tags), pre
	}
	if tagsLast {
		b = append(b, `,"timestamp":`...)
		pre := len(b)
		b = append(b, `,"tags":`...)
		return append(appendTags(b, tags), '}'), pre
	}
	b = append(b, `,"tags":`...)
	b = append(appendTags(b, tags), `,"timestamp":`...)
	pre := len(b)
	return append(b, '}'), pre
}

// appendJSON is the JSON encoder: it appends points [i, end) of src to b as
// elements of a JSON array, comma-separated (the first after a comma too
// unless first), stopping early once len(b) >= limit; it returns b and the
// next point. A point is its series' head and pre part (see
// PreparedSeries), its timestamp (checked by checkTime for prec),
// `,"value":`, its value and its series' post part. Cost: O(points); no
// allocation but b's growth.
func appendJSON(b []byte, src pointSet, i, end, limit int, first bool, scr *scratch, prec Precision) ([]byte, int) {
	for i < end && len(b) < limit {
		pts, _ := src.read(i, end-i, scr)
		for k := range pts {
			if len(b) >= limit {
				return b, i + k
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			p := &pts[k]
			s := p.Series
			b = append(b, s.head...)
			if pre := s.tags.pre; len(pre) > 0 {
				b = append(b, pre...)
			}
			b = appendTimestamp(b, p.UnixMilli, prec)
			b = append(b, `,"value":`...)
			b = appendPyFloat(b, p.Value)
			if post := s.tags.post; len(post) == 1 {
				b = append(b, post[0]) // '}': no copy call
			} else {
				b = append(b, post...)
			}
		}
		i += len(pts)
	}
	return b, i
}
