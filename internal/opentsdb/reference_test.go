package opentsdb

// The put-body decoder of the fake before bodies were streamed: it read
// the whole body into memory and let encoding/json judge it. It is kept
// here as the reference the streaming parser must agree with
// (FuzzDecodePut, TestDecodeMatchesReference).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apptuit-go/apptuit/internal/metricname"

	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// storedRef is one accepted point.
type storedRef struct {
	metric string
	tags   map[string]string
	ms     int64 // Unix milliseconds
	value  float64
}

// replaceBareTokens turns the bare NaN, Infinity and -Infinity tokens that
// Python's json module writes (outside strings) into the strings "NaN",
// "Infinity" and "-Infinity", which then fail their point only, with
// "Unable to parse value to a number" — what OpenTSDB's Jackson reading does
// with them. It returns b itself when there is nothing to replace.
func replaceBareTokens(b []byte) []byte {
	var out []byte
	last := 0
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		tok := ""
		switch {
		case c == '"':
			inStr = true
		case c == 'N' && bytes.HasPrefix(b[i:], []byte("NaN")):
			tok = "NaN"
		case c == 'I' && bytes.HasPrefix(b[i:], []byte("Infinity")):
			tok = "Infinity"
		case c == '-' && bytes.HasPrefix(b[i+1:], []byte("Infinity")):
			tok = "-Infinity"
		}
		if tok != "" {
			out = append(out, b[last:i]...)
			out = append(out, '"')
			out = append(out, tok...)
			out = append(out, '"')
			i += len(tok) - 1
			last = i + 1
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// decodePutRef parses a put body. good are the valid points in body order, bad
// the rejected ones with OpenTSDB's message; a whole-body error stores
// nothing. Its cost is linear in the body size.
func decodePutRef(body []byte) (good []storedRef, bad []pointError, berr *bodyError) {
	fail := func(msg string) ([]storedRef, []pointError, *bodyError) {
		return nil, nil, &bodyError{http.StatusBadRequest, msg}
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return fail(msgMissingContent)
	}
	var objs []map[string]json.RawMessage
	switch trimmed[0] {
	case '{':
		var o map[string]json.RawMessage
		if json.Unmarshal(replaceBareTokens(trimmed), &o) != nil {
			return fail(msgUnparsable)
		}
		objs = append(objs, o)
	case '[':
		if json.Unmarshal(replaceBareTokens(trimmed), &objs) != nil {
			return fail(msgUnparsable)
		}
	default:
		return fail(msgMustStart)
	}
	if len(objs) == 0 {
		return fail(msgNoDatapoints)
	}
	type parsed struct {
		echo        echoPoint
		metricNull  bool
		tsOK        bool
		valueNull   bool
		nullTagVals map[string]bool
	}
	ps := make([]parsed, len(objs))
	for i, o := range objs {
		if o == nil { // a null element
			return fail(msgUnparsable)
		}
		p := &ps[i]
		var ok bool
		if p.echo.Metric, p.metricNull, ok = scalarRef(o["metric"]); !ok {
			return fail(msgUnparsable)
		}
		ts, tsNull, ok := scalarRef(o["timestamp"])
		if !ok {
			return fail(msgUnparsable)
		}
		if !tsNull && isIntegerRef(ts) {
			if n, err := strconv.ParseInt(ts, 10, 64); err == nil {
				p.echo.Timestamp, p.tsOK = n, true
			}
		}
		if p.echo.Value, p.valueNull, ok = scalarRef(o["value"]); !ok {
			return fail(msgUnparsable)
		}
		if raw, present := o["tags"]; present && !isNullRef(raw) {
			var tags map[string]json.RawMessage
			if json.Unmarshal(raw, &tags) != nil {
				return fail(msgUnparsable)
			}
			p.echo.Tags = make(map[string]string, len(tags))
			for k, rv := range tags {
				v, null, ok := scalarRef(rv)
				if !ok {
					return fail(msgUnparsable)
				}
				if null {
					if p.nullTagVals == nil {
						p.nullTagVals = map[string]bool{}
					}
					p.nullTagVals[k] = true
				}
				p.echo.Tags[k] = v
			}
		}
	}
	for _, p := range ps {
		v, msg := checkPointRef(p.echo, p.tsOK, p.nullTagVals)
		if msg != "" {
			bad = append(bad, pointError{Datapoint: p.echo, Error: msg})
			continue
		}
		ms := p.echo.Timestamp
		if ms < 1<<32 {
			ms *= 1000
		}
		good = append(good, storedRef{metric: p.echo.Metric, tags: p.echo.Tags, ms: ms, value: v})
	}
	return good, bad, nil
}

func isNullRef(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// scalarRef returns the text of a JSON scalar as Jackson would coerce it to a
// String: a string's content, a number's or boolean's literal text. A
// missing field or null gives null=true. An object or array gives ok=false.
func scalarRef(raw json.RawMessage) (text string, null, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", true, true
	}
	switch raw[0] {
	case '{', '[':
		return "", false, false
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false, false
		}
		return s, false, true
	}
	return string(raw), false, true
}

// isIntegerRef reports whether s is an optional '-' and decimal digits.
func isIntegerRef(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimalRef reports whether s is a decimal floating-point literal: sign,
// digits with an optional fraction, optional exponent.
func isDecimalRef(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		if n == 0 {
			return false
		}
	}
	return i == len(s)
}

// checkPointRef validates one point in OpenTSDB's order and returns its value,
// or the message it fails with.
func checkPointRef(p echoPoint, tsOK bool, nullTagVals map[string]bool) (float64, string) {
	if p.Metric == "" {
		return 0, "Metric name was empty"
	}
	if !tsOK || p.Timestamp <= 0 || p.Timestamp > timestamp.MaxMillis {
		return 0, "Invalid timestamp"
	}
	if p.Value == "" {
		return 0, "Empty value"
	}
	if len(p.Tags) == 0 {
		return 0, "Missing tags"
	}
	var v float64
	if !strings.ContainsAny(p.Value, ".eE") {
		// OpenTSDB's looksLikeInteger: parsed as a long, so "NaN" fails.
		n, err := strconv.ParseInt(p.Value, 10, 64)
		if err != nil {
			return 0, "Unable to parse value to a number"
		}
		v = float64(n)
	} else {
		if !isDecimalRef(p.Value) {
			return 0, "Unable to parse value to a number"
		}
		// Syntax is checked; a range error gives ±Inf, an underflow 0.
		f, _ := strconv.ParseFloat(p.Value, 64)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, "value is NaN or Infinite: " + p.Value
		}
		v = f
	}
	if len(p.Tags) > MaxTags {
		return 0, fmt.Sprintf("Too many tags: %d maximum allowed: %d, tags: %s", len(p.Tags), MaxTags, javaMapRef(p.Tags))
	}
	if c, bad := illegalCharRef(p.Metric); bad {
		return 0, fmt.Sprintf("Invalid metric name (\"%s\"): illegal character: %c", p.Metric, c)
	}
	keys := metricname.SortedKeys(p.Tags)
	for _, k := range keys {
		val := p.Tags[k]
		if k == "" {
			return 0, fmt.Sprintf("Invalid tag name with value [%s]: empty string", val)
		}
		if c, bad := illegalCharRef(k); bad {
			return 0, fmt.Sprintf("Invalid tag name with value [%s] (\"%s\"): illegal character: %c", val, k, c)
		}
		if nullTagVals[k] {
			return 0, fmt.Sprintf("Invalid tag value with key [%s]: null", k)
		}
		if val == "" {
			return 0, fmt.Sprintf("Invalid tag value with key [%s]: empty string", k)
		}
	}
	return v, ""
}

// javaMapRef formats tags like Java's Map.toString, keys sorted: {k=v, k2=v2}.
func javaMapRef(m map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range metricname.SortedKeys(m) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
	}
	b.WriteByte('}')
	return b.String()
}

// illegalCharRef returns the first character of s outside Apptuit's name rule:
// Unicode letters and numbers, '-', '_', '.', '/'.
func illegalCharRef(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case r == '-' || r == '_' || r == '.' || r == '/':
		case r == utf8.RuneError:
			return r, true
		case unicode.IsLetter(r) || unicode.IsNumber(r):
		default:
			return r, true
		}
	}
	return 0, false
}
