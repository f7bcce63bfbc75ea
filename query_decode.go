package apptuit

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// The /api/query response is decoded by a small hand-written scanner rather
// than encoding/json: a response is mostly "dps":[[ts,v],...] arrays, and
// scanning them straight into a series' two slices (sized by a quick count
// of the points first) costs no allocation per point (BenchmarkQueryDecode
// against BenchmarkQueryDecodeStdlibJSON: bench/RESULTS.md).
//
// The grammar accepted is JSON plus the bare NaN, Infinity and -Infinity
// tokens that Python's json module (and so apptuit-py) accepts. Unknown
// fields ("hints", "query", "query_stats", "timing_diagnostics",
// "aggregatedTags", ...) are skipped after being checked for syntax.
//
// Timestamps are Unix seconds, integers or fractional; as in OpenTSDB a
// magnitude above 2^32-1 is read as Unix milliseconds. A value may be a
// number, null (read as NaN: the point keeps its timestamp, so a frame shows
// an empty cell as pandas would) or NaN/±Infinity.

// maxQueryNesting bounds how deeply skipped values may nest.
const maxQueryNesting = 1000

// maxTimestampMagnitude is the largest timestamp magnitude accepted
// (OpenTSDB's limit, in milliseconds).
const maxTimestampMagnitude = timestamp.MaxMillis

// decodeQueryBytes decodes an /api/query response (Query reads it with
// readBody), dropping points outside [start, end] (a zero end means no upper
// bound) and outputs with no series. Errors name the byte offset and what
// was expected there.
func decodeQueryBytes(data []byte, start, end time.Time) (*QueryResult, error) {
	d := qdec{b: data, startMs: start.UnixMilli(), endMs: math.MaxInt64}
	if !end.IsZero() {
		d.endMs = end.UnixMilli()
	}
	res := &QueryResult{}
	d.ws()
	if !d.is('{') {
		return nil, d.errExpected(`'{' starting the response object`)
	}
	seen := false
	err := d.object(func(key []byte) error {
		if string(key) == "outputs" {
			seen = true
			return d.outputs(res)
		}
		return d.skipValue()
	})
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, d.errExpected("end of input after the response object")
	}
	if !seen {
		return nil, errors.New(`decoding the response: it has no "outputs" field`)
	}
	return res, nil
}

type qdec struct {
	b              []byte
	i              int
	depth          int
	startMs, endMs int64
}

func (d *qdec) errExpected(what string) error {
	return fmt.Errorf("decoding the response: at byte %d: expected %s, found %s", d.i, what, d.found())
}

func (d *qdec) found() string {
	if d.i >= len(d.b) {
		return "end of input"
	}
	end := min(d.i+16, len(d.b))
	return strconv.Quote(string(d.b[d.i:end]))
}

func (d *qdec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *qdec) is(c byte) bool { return d.i < len(d.b) && d.b[d.i] == c }

// object parses an object at d.i ('{'), calling fn with each key with d.i at
// the value; fn must consume the value.
func (d *qdec) object(fn func(key []byte) error) error {
	d.i++ // '{'
	d.ws()
	if d.is('}') {
		d.i++
		return nil
	}
	for {
		if !d.is('"') {
			return d.errExpected("a string (object key)")
		}
		key, err := d.strBytes()
		if err != nil {
			return err
		}
		d.ws()
		if !d.is(':') {
			return d.errExpected("':' after an object key")
		}
		d.i++
		d.ws()
		if err := fn(key); err != nil {
			return err
		}
		d.ws()
		if d.is(',') {
			d.i++
			d.ws()
			continue
		}
		if d.is('}') {
			d.i++
			return nil
		}
		return d.errExpected("',' or '}' in an object")
	}
}

// array parses an array at d.i ('['), calling fn with d.i at each element.
func (d *qdec) array(fn func() error) error {
	d.i++ // '['
	d.ws()
	if d.is(']') {
		d.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		d.ws()
		if d.is(',') {
			d.i++
			d.ws()
			continue
		}
		if d.is(']') {
			d.i++
			return nil
		}
		return d.errExpected("',' or ']' in an array")
	}
}

// null consumes a null literal if there is one.
func (d *qdec) null() bool {
	if bytes.HasPrefix(d.b[d.i:], []byte("null")) {
		d.i += 4
		return true
	}
	return false
}

func (d *qdec) outputs(res *QueryResult) error {
	res.outputs = res.outputs[:0] // a repeated "outputs" field: the last wins
	if d.null() {
		return nil
	}
	if !d.is('[') {
		return d.errExpected(`'[' starting "outputs"`)
	}
	return d.array(func() error {
		if !d.is('{') {
			return d.errExpected("'{' starting an output")
		}
		out := &Output{}
		err := d.object(func(key []byte) error {
			switch string(key) {
			case "id":
				return d.optString(&out.ID, `a string ("id")`)
			case "result":
				out.Series = out.Series[:0]
				if d.null() {
					return nil
				}
				if !d.is('[') {
					return d.errExpected(`'[' starting "result"`)
				}
				return d.array(func() error {
					s, err := d.series()
					if err == nil {
						out.Series = append(out.Series, s)
					}
					return err
				})
			}
			return d.skipValue()
		})
		if err == nil && len(out.Series) > 0 {
			res.outputs = append(res.outputs, out)
		}
		return err
	})
}

// optString reads a JSON string into *dst, or leaves *dst alone for null;
// anything else is an error saying what was expected.
func (d *qdec) optString(dst *string, expected string) error {
	if d.null() {
		return nil
	}
	if !d.is('"') {
		return d.errExpected(expected)
	}
	v, err := d.str()
	*dst = v
	return err
}

func (d *qdec) series() (*TimeSeries, error) {
	if !d.is('{') {
		return nil, d.errExpected("'{' starting a series")
	}
	s := &TimeSeries{}
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "metric":
			return d.optString(&s.metric, `a string ("metric")`)
		case "tags":
			s.tags = nil
			if d.null() {
				return nil
			}
			if !d.is('{') {
				return d.errExpected(`'{' starting "tags"`)
			}
			s.tags = map[string]string{}
			return d.object(func(k []byte) error {
				if d.null() {
					return nil // a tag without a value: left out
				}
				var v string
				err := d.optString(&v, "a string (tag value)")
				s.tags[string(k)] = v
				return err
			})
		case "dps":
			s.ts, s.vals = nil, nil
			if d.null() {
				return nil
			}
			if !d.is('[') {
				return d.errExpected(`'[' starting "dps"`)
			}
			var err error
			s.ts, s.vals, err = d.dps()
			return err
		}
		return d.skipValue()
	})
	if err != nil {
		return nil, err
	}
	if s.tags == nil {
		s.tags = map[string]string{}
	}
	return s, nil
}

// countPoints estimates the number of [ts, v] pairs of the dps array at d.i
// by counting the '[' one level down, stopping at the first byte that
// cannot occur in a well-formed dps array. It is exact for well-formed
// input and bounded by the input's size otherwise.
func (d *qdec) countPoints() int {
	n, depth := 0, 0
	for _, c := range d.b[d.i:] {
		switch c {
		case '[':
			depth++
			if depth == 2 {
				n++
			}
		case ']':
			depth--
			if depth == 0 {
				return n
			}
		case '"', '{', '}':
			return n
		}
	}
	return n
}

func (d *qdec) dps() ([]int64, []float64, error) {
	// A real pair takes 12 bytes or more ("[1406829600,1]"); capping the
	// estimate by that keeps malformed input ("[][][]…") from making the
	// slices larger than the input (16 bytes a pair); append grows them for
	// the rare tighter input.
	n := min(d.countPoints(), (len(d.b)-d.i)/12+1)
	ts := make([]int64, 0, n)
	vals := make([]float64, 0, n)
	b := d.b
	d.i++ // '['
	d.ws()
	if d.is(']') {
		d.i++
		return ts, vals, nil
	}
	for {
		if !d.is('[') {
			return nil, nil, d.errExpected("'[' starting a [timestamp, value] pair")
		}
		d.i++
		d.ws()
		t, err := d.timestamp()
		if err != nil {
			return nil, nil, err
		}
		d.ws()
		if !d.is(',') {
			return nil, nil, d.errExpected("',' after a timestamp")
		}
		d.i++
		d.ws()
		v, err := d.value()
		if err != nil {
			return nil, nil, err
		}
		d.ws()
		if !d.is(']') {
			return nil, nil, d.errExpected("']' closing a [timestamp, value] pair")
		}
		d.i++
		if t >= d.startMs && t <= d.endMs {
			ts = append(ts, t)
			vals = append(vals, v)
		}
		// Fast path for the common "],[" with no whitespace.
		if d.i < len(b) && b[d.i] == ',' {
			d.i++
			d.ws()
			continue
		}
		d.ws()
		if d.is(',') {
			d.i++
			d.ws()
			continue
		}
		if d.is(']') {
			d.i++
			return ts, vals, nil
		}
		return nil, nil, d.errExpected(`',' or ']' in "dps"`)
	}
}

// number returns the JSON number token at d.i, checked against the JSON
// grammar, and whether it is an integer (no fraction or exponent).
func (d *qdec) number(what string) ([]byte, bool, error) {
	b, i := d.b, d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return nil, false, d.errExpected(what)
	}
	isInt := true
	if i < len(b) && b[i] == '.' {
		isInt = false
		if j := skipDigits(b, i+1); j > i+1 {
			i = j
		} else {
			d.i = j
			return nil, false, d.errExpected("a digit after '.'")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if j := skipDigits(b, i); j > i {
			i = j
		} else {
			d.i = j
			return nil, false, d.errExpected("a digit in an exponent")
		}
	}
	tok := b[d.i:i]
	d.i = i
	return tok, isInt, nil
}

// skipDigits returns the index of the first byte at or after i that is not
// a decimal digit.
func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// timestamp reads a timestamp and returns it in Unix milliseconds.
func (d *qdec) timestamp() (int64, error) {
	if ms, ok := d.secondsFast(); ok {
		return ms, nil
	}
	at := d.i
	tok, isInt, err := d.number("a number (timestamp)")
	if err != nil {
		return 0, err
	}
	if ms, ok := timestampMillis(tok, isInt); ok {
		return ms, nil
	}
	d.i = at
	return 0, fmt.Errorf("decoding the response: at byte %d: timestamp %s is out of range (at most %d in magnitude)", at, tok, int64(maxTimestampMagnitude))
}

// secondsFast reads, in one pass, the common timestamp: an integer of at
// most 10 digits below 2^32 (Unix seconds) with no fraction or exponent.
// It reports false, reading nothing, for anything else.
func (d *qdec) secondsFast() (int64, bool) {
	b, i := d.b, d.i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	j := i
	var n int64
	for i < len(b) && i-j < 11 && b[i]-'0' <= 9 {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	nd := i - j
	if nd == 0 || nd > 10 || (b[j] == '0' && nd > 1) || n > math.MaxUint32 ||
		(i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i]-'0' <= 9)) {
		return 0, false
	}
	d.i = i
	if neg {
		n = -n
	}
	return n * 1000, true
}

// timestampMillis returns the timestamp of the number token tok in Unix
// milliseconds (seconds below 2^32 in magnitude, milliseconds from there
// on), or false when it is out of range.
func timestampMillis(tok []byte, isInt bool) (int64, bool) {
	if !isInt || len(tok) > 18 {
		f, err := strconv.ParseFloat(string(tok), 64)
		switch {
		case err != nil || math.Abs(f) > maxTimestampMagnitude:
			return 0, false
		case math.Abs(f) > math.MaxUint32:
			return int64(math.Round(f)), true
		}
		return int64(math.Round(f * 1000)), true
	}
	digits := tok
	if tok[0] == '-' {
		digits = tok[1:]
	}
	var n int64
	for _, c := range digits {
		n = n*10 + int64(c-'0')
	}
	if tok[0] == '-' {
		n = -n
	}
	switch {
	case n > maxTimestampMagnitude || n < -maxTimestampMagnitude:
		return 0, false
	case n > math.MaxUint32 || n < -math.MaxUint32:
		return n, true
	}
	return n * 1000, true
}

// pow10tab holds the powers of ten that are exact in a float64.
var pow10tab = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// value reads a point's value: a number, null (NaN), NaN, Infinity or
// -Infinity.
func (d *qdec) value() (float64, error) {
	if d.i < len(d.b) {
		switch c := d.b[d.i]; c {
		case 'n':
			if d.null() {
				return math.NaN(), nil
			}
		case 'N':
			if bytes.HasPrefix(d.b[d.i:], []byte("NaN")) {
				d.i += 3
				return math.NaN(), nil
			}
		case 'I':
			if bytes.HasPrefix(d.b[d.i:], []byte("Infinity")) {
				d.i += 8
				return math.Inf(1), nil
			}
		case '-':
			if bytes.HasPrefix(d.b[d.i:], []byte("-Infinity")) {
				d.i += 9
				return math.Inf(-1), nil
			}
		}
	}
	if v, ok := d.fastValue(); ok {
		return v, nil
	}
	tok, _, err := d.number("a number, null, NaN or Infinity (value)")
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		// Unreachable for a token that passed number's grammar check.
		return 0, fmt.Errorf("decoding the response: at byte %d: %v", d.i-len(tok), err)
	}
	return v, nil
}

// fastValue reads a decimal number without exponent and with at most 15
// significant digits in one pass and converts it exactly: the digits and
// the power of ten are both exact float64s, so one division rounds
// correctly. It reports false, consuming nothing, for anything else.
func (d *qdec) fastValue() (float64, bool) {
	b, i := d.b, d.i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	j := i
	var mant uint64
	for i < len(b) && b[i]-'0' <= 9 {
		mant = mant*10 + uint64(b[i]-'0')
		i++
	}
	nInt := i - j
	if nInt == 0 || (b[j] == '0' && nInt > 1) {
		return 0, false
	}
	frac := 0
	if i < len(b) && b[i] == '.' {
		i++
		k := i
		for i < len(b) && b[i]-'0' <= 9 {
			mant = mant*10 + uint64(b[i]-'0')
			i++
		}
		frac = i - k
		if frac == 0 {
			return 0, false
		}
	}
	if nInt+frac > 15 || (i < len(b) && (b[i] == 'e' || b[i] == 'E')) {
		return 0, false
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10tab[frac]
	}
	if neg {
		v = -v
	}
	d.i = i
	return v, true
}

func (d *qdec) str() (string, error) {
	b, err := d.strBytes()
	return string(b), err
}

// strBytes reads the string at d.i ('"'). Without escapes the result
// aliases the input.
func (d *qdec) strBytes() ([]byte, error) {
	b := d.b
	start := d.i + 1
	for j := start; j < len(b); j++ {
		c := b[j]
		if c == '"' {
			d.i = j + 1
			return b[start:j], nil
		}
		if c == '\\' || c < 0x20 {
			return d.strSlow(start, j)
		}
	}
	d.i = len(b)
	return nil, d.errExpected(`'"' closing a string`)
}

func (d *qdec) strSlow(start, j int) ([]byte, error) {
	b := d.b
	out := append([]byte(nil), b[start:j]...)
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			d.i = j + 1
			return out, nil
		case c < 0x20:
			d.i = j
			return nil, d.errExpected("no control character in a string")
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		// An escape.
		if j+1 >= len(b) {
			d.i = len(b)
			return nil, d.errExpected("an escape character")
		}
		e := b[j+1]
		j += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, next, ok := unicodeEscape(b, j)
			if !ok {
				d.i = j
				return nil, d.errExpected("four hex digits after \\u")
			}
			j = next
			out = utf8.AppendRune(out, r)
		default:
			d.i = j - 1
			return nil, d.errExpected(`one of "\/bfnrtu after '\'`)
		}
	}
	d.i = len(b)
	return nil, d.errExpected(`'"' closing a string`)
}

// unicodeEscape reads the four hex digits of a \u escape at b[j:] (and the
// low half of a surrogate pair after them) and returns the character,
// utf8.RuneError for an unpaired surrogate, and where the escape ends.
func unicodeEscape(b []byte, j int) (rune, int, bool) {
	r, ok := hex4(b, j)
	if !ok {
		return 0, j, false
	}
	j += 4
	if !utf16.IsSurrogate(r) {
		return r, j, true
	}
	r2, ok := rune(0), false
	if j+1 < len(b) && b[j] == '\\' && b[j+1] == 'u' {
		r2, ok = hex4(b, j+2)
	}
	if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
		return dec, j + 6, true
	}
	return utf8.RuneError, j, true
}

func hex4(b []byte, j int) (rune, bool) {
	if j+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[j : j+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipValue checks and skips any JSON value at d.i.
func (d *qdec) skipValue() error {
	if d.i >= len(d.b) {
		return d.errExpected("a value")
	}
	switch c := d.b[d.i]; {
	case c == '{' || c == '[':
		if d.depth >= maxQueryNesting {
			return fmt.Errorf("decoding the response: at byte %d: values nested more than %d deep", d.i, maxQueryNesting)
		}
		d.depth++
		var err error
		if c == '{' {
			err = d.object(func([]byte) error { return d.skipValue() })
		} else {
			err = d.array(d.skipValue)
		}
		d.depth--
		return err
	case c == '"':
		_, err := d.strBytes()
		return err
	case c == '-' && bytes.HasPrefix(d.b[d.i:], []byte("-Infinity")):
		d.i += len("-Infinity")
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		_, _, err := d.number("a number")
		return err
	}
	for _, lit := range [...]string{"true", "false", "null", "NaN", "Infinity"} {
		if bytes.HasPrefix(d.b[d.i:], []byte(lit)) {
			d.i += len(lit)
			return nil
		}
	}
	return d.errExpected("a value")
}
