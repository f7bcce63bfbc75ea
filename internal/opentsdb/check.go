package opentsdb

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// MaxTags is the most tags a point may have (Apptuit's limit; OpenTSDB's
// default is 8).
const MaxTags = 25

// Messages of checkPoint that the telnet answer frames by kind (line.go).
const (
	msgInvalidTimestamp = "Invalid timestamp"
	msgUnparsableValue  = "Unable to parse value to a number"
	msgNaNOrInfinite    = "value is NaN or Infinite: "
)

// tagPair is one tag of a point as read: key, value text and whether the
// value was null.
type tagPair struct {
	k, v []byte
	null bool
	bad  bool // an object or array (the body is then unparsable)
}

// checkPoint validates one point in OpenTSDB's order and returns its time
// in Unix milliseconds and its value, or the message it fails with. tags
// are sorted by key without duplicates.
func checkPoint(metric, ts []byte, tsNull bool, value []byte, tags []tagPair) (ms int64, v float64, msg string) {
	if len(metric) == 0 {
		return 0, 0, "Metric name was empty"
	}
	t, tsOK := timestampOf(ts, tsNull)
	if !tsOK || t <= 0 || t > timestamp.MaxMillis {
		return 0, 0, msgInvalidTimestamp
	}
	if len(value) == 0 {
		return 0, 0, "Empty value"
	}
	if len(tags) == 0 {
		return 0, 0, "Missing tags"
	}
	if v, msg = valueOf(value); msg != "" {
		return 0, 0, msg
	}
	if len(tags) > MaxTags {
		return 0, 0, fmt.Sprintf("Too many tags: %d maximum allowed: %d, tags: %s", len(tags), MaxTags, javaMap(tags))
	}
	if c, bad := illegalChar(metric); bad {
		return 0, 0, fmt.Sprintf("Invalid metric name (\"%s\"): illegal character: %c", metric, c)
	}
	for _, t := range tags {
		if len(t.k) == 0 {
			return 0, 0, fmt.Sprintf("Invalid tag name with value [%s]: empty string", t.v)
		}
		if c, bad := illegalChar(t.k); bad {
			return 0, 0, fmt.Sprintf("Invalid tag name with value [%s] (\"%s\"): illegal character: %c", t.v, t.k, c)
		}
		if t.null {
			return 0, 0, fmt.Sprintf("Invalid tag value with key [%s]: null", t.k)
		}
		if len(t.v) == 0 {
			return 0, 0, fmt.Sprintf("Invalid tag value with key [%s]: empty string", t.k)
		}
	}
	ms = t
	if ms < 1<<32 {
		ms *= 1000
	}
	return ms, v, ""
}

// valueOf parses a value's text as OpenTSDB does, or returns the message
// it fails with.
func valueOf(value []byte) (float64, string) {
	if !bytes.ContainsAny(value, ".eE") {
		// OpenTSDB's looksLikeInteger: parsed as a long, so "NaN" fails.
		n, ok := parseInt(value, true)
		if !ok {
			return 0, msgUnparsableValue
		}
		return float64(n), ""
	}
	if !isDecimal(value) {
		return 0, msgUnparsableValue
	}
	// Syntax is checked; a range error gives ±Inf, an underflow 0.
	f, _ := strconv.ParseFloat(string(value), 64)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, msgNaNOrInfinite + string(value)
	}
	return f, ""
}

// timestampOf parses a timestamp's text: an optional '-' and decimal digits
// that fit an int64 (a JSON number or a string of digits).
func timestampOf(ts []byte, null bool) (int64, bool) {
	if null || !isInteger(ts) {
		return 0, false
	}
	return parseInt(ts, false)
}

// parseInt parses an optionally signed ('-', or '+' when plus) decimal
// integer that fits an int64, as strconv.ParseInt(s, 10, 64) does.
func parseInt(b []byte, plus bool) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || (plus && b[0] == '+')) {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case !neg && n > math.MaxInt64:
		return 0, false
	case neg && n > 1<<63:
		return 0, false
	case neg:
		return -int64(n), true
	}
	return int64(n), true
}

// isInteger reports whether s is an optional '-' and decimal digits.
func isInteger(s []byte) bool {
	s = bytes.TrimPrefix(s, []byte("-"))
	return len(s) > 0 && skipDigits(s, 0) == len(s)
}

// isDecimal reports whether s is a decimal floating-point literal: sign,
// digits with an optional fraction, optional exponent.
func isDecimal(s []byte) bool {
	i := skipSign(s, 0)
	end := skipDigits(s, i)
	digits := end - i
	if end < len(s) && s[end] == '.' {
		i = end + 1
		end = skipDigits(s, i)
		digits += end - i
	}
	if digits == 0 {
		return false
	}
	if end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		i = skipSign(s, end+1)
		if end = skipDigits(s, i); end == i {
			return false
		}
	}
	return end == len(s)
}

// skipSign returns the offset after a '+' or '-' at s[i], or i.
func skipSign(s []byte, i int) int {
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		return i + 1
	}
	return i
}

// skipDigits returns the offset after the decimal digits from s[i].
func skipDigits(s []byte, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// javaMap formats tags like Java's Map.toString, keys sorted: {k=v, k2=v2}.
func javaMap(tags []tagPair) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, t := range tags {
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(t.k)
		b.WriteByte('=')
		b.Write(t.v)
	}
	b.WriteByte('}')
	return b.String()
}

// illegalChar returns the first character of s outside Apptuit's name rule
// (apptuit.CheckName: the one rule the client, the fake and the server
// share). s is not empty: checkPoint refuses empty names first.
func illegalChar(s []byte) (rune, bool) {
	if err, ok := apptuit.CheckName(s).(*apptuit.NameError); ok {
		return err.Char, true
	}
	return 0, false
}
