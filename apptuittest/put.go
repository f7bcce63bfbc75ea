package apptuittest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apptuit-go/apptuit/internal/metricname"
)

// MaxTags is the most tags a point may have (Apptuit's limit; OpenTSDB's
// default is 8).
const MaxTags = 25

// Whole-body error messages of POST /api/put (OpenTSDB's wording).
const (
	msgMissingContent = "Missing request content"
	msgMustStart      = "The JSON must start as an object or an array"
	msgUnparsable     = "Unable to parse the given JSON"
	msgNoDatapoints   = "No datapoints found in content"
	msgSomeFailed     = "One or more data points had errors"
	msgSomeFailedHint = "Please see the TSD logs or append \"details\" to the put request"
)

// maxMillis is the largest millisecond timestamp OpenTSDB accepts.
const maxMillis = 9999999999999

// echoPoint is a rejected point as the details echo shows it; the value is
// echoed as the text the client sent, like Apptuit does.
type echoPoint struct {
	Metric    string            `json:"metric"`
	Timestamp int64             `json:"timestamp"`
	Value     string            `json:"value"`
	Tags      map[string]string `json:"tags"`
}

type pointError struct {
	Datapoint echoPoint `json:"datapoint"`
	Error     string    `json:"error"`
}

type putSummary struct {
	Success int           `json:"success"`
	Failed  int           `json:"failed"`
	Errors  *[]pointError `json:"errors,omitempty"`
}

// bodyError is a whole-body error: the request stores nothing.
type bodyError struct {
	status int
	msg    string
}

func (s *Server) servePut(w http.ResponseWriter, r *http.Request) {
	rec := recordOf(r)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed: "+r.Method+" (use POST)")
		return
	}
	body, berr := s.readBody(r)
	rec.BodySize = int64(len(body))
	if berr != nil {
		writeError(w, berr.status, berr.msg)
		return
	}
	good, bad, err := decodePut(body)
	if err != nil {
		writeError(w, err.status, err.msg)
		return
	}
	s.store.add(good)
	rec.Accepted, rec.Failed = len(good), len(bad)
	for _, e := range bad[:min(len(bad), maxLoggedErrors)] {
		rec.Errors = append(rec.Errors, pointErrorText(e.Datapoint.Metric, e.Error))
	}

	q := r.URL.Query()
	details, summary := q.Has("details"), q.Has("summary")
	status := http.StatusOK
	if len(bad) > 0 {
		status = http.StatusBadRequest
	}
	switch {
	case details:
		if bad == nil {
			bad = []pointError{}
		}
		writeJSON(w, status, putSummary{Success: len(good), Failed: len(bad), Errors: &bad})
	case summary:
		writeJSON(w, status, putSummary{Success: len(good), Failed: len(bad)})
	case len(bad) > 0:
		writeJSON(w, status, errorBody{Error: errorDetail{Code: status, Message: msgSomeFailed, Details: msgSomeFailedHint}})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// readBody reads and decompresses the body within the configured limits.
func (s *Server) readBody(r *http.Request) ([]byte, *bodyError) {
	maxBody, maxDec := s.cfg.maxBody, s.cfg.maxDecompressed
	tooBig := &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Request Entity Too Large: the body exceeds %d bytes", maxBody)}
	if r.ContentLength > maxBody {
		return nil, tooBig
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, &bodyError{http.StatusBadRequest, "reading the body: " + err.Error()}
	}
	if int64(len(raw)) > maxBody {
		return nil, tooBig
	}
	if len(raw) == 0 {
		return nil, &bodyError{http.StatusBadRequest, msgMissingContent}
	}
	var dr io.Reader
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, &bodyError{http.StatusBadRequest, err.Error()}
		}
		dr = zr
	case "deflate":
		// HTTP's "deflate" is zlib (RFC 1950); raw deflate fails here with
		// "zlib: invalid header", as on VictoriaMetrics.
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, &bodyError{http.StatusBadRequest, err.Error()}
		}
		dr = zr
	default:
		return nil, &bodyError{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Encoding %q (want gzip, deflate or identity)", enc)}
	}
	body, err := io.ReadAll(io.LimitReader(dr, maxDec+1))
	if int64(len(body)) > maxDec {
		return body[:maxDec], &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Request Entity Too Large: the decompressed body exceeds %d bytes", maxDec)}
	}
	if err != nil {
		return body, &bodyError{http.StatusBadRequest, err.Error()}
	}
	return body, nil
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

// decodePut parses a put body. good are the valid points in body order, bad
// the rejected ones with OpenTSDB's message; a whole-body error stores
// nothing. Its cost is linear in the body size.
func decodePut(body []byte) (good []stored, bad []pointError, berr *bodyError) {
	fail := func(msg string) ([]stored, []pointError, *bodyError) {
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
		if p.echo.Metric, p.metricNull, ok = scalar(o["metric"]); !ok {
			return fail(msgUnparsable)
		}
		ts, tsNull, ok := scalar(o["timestamp"])
		if !ok {
			return fail(msgUnparsable)
		}
		if !tsNull && isInteger(ts) {
			if n, err := strconv.ParseInt(ts, 10, 64); err == nil {
				p.echo.Timestamp, p.tsOK = n, true
			}
		}
		if p.echo.Value, p.valueNull, ok = scalar(o["value"]); !ok {
			return fail(msgUnparsable)
		}
		if raw, present := o["tags"]; present && !isNull(raw) {
			var tags map[string]json.RawMessage
			if json.Unmarshal(raw, &tags) != nil {
				return fail(msgUnparsable)
			}
			p.echo.Tags = make(map[string]string, len(tags))
			for k, rv := range tags {
				v, null, ok := scalar(rv)
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
		v, msg := checkPoint(p.echo, p.tsOK, p.nullTagVals)
		if msg != "" {
			bad = append(bad, pointError{Datapoint: p.echo, Error: msg})
			continue
		}
		ms := p.echo.Timestamp
		if ms < 1<<32 {
			ms *= 1000
		}
		good = append(good, stored{metric: p.echo.Metric, tags: p.echo.Tags, ms: ms, value: v})
	}
	return good, bad, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// scalar returns the text of a JSON scalar as Jackson would coerce it to a
// String: a string's content, a number's or boolean's literal text. A
// missing field or null gives null=true. An object or array gives ok=false.
func scalar(raw json.RawMessage) (text string, null, ok bool) {
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

// isInteger reports whether s is an optional '-' and decimal digits.
func isInteger(s string) bool {
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

// isDecimal reports whether s is a decimal floating-point literal: sign,
// digits with an optional fraction, optional exponent.
func isDecimal(s string) bool {
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

// checkPoint validates one point in OpenTSDB's order and returns its value,
// or the message it fails with.
func checkPoint(p echoPoint, tsOK bool, nullTagVals map[string]bool) (float64, string) {
	if p.Metric == "" {
		return 0, "Metric name was empty"
	}
	if !tsOK || p.Timestamp <= 0 || p.Timestamp > maxMillis {
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
		if !isDecimal(p.Value) {
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
		return 0, fmt.Sprintf("Too many tags: %d maximum allowed: %d, tags: %s", len(p.Tags), MaxTags, javaMap(p.Tags))
	}
	if c, bad := illegalChar(p.Metric); bad {
		return 0, fmt.Sprintf("Invalid metric name (\"%s\"): illegal character: %c", p.Metric, c)
	}
	keys := metricname.SortedKeys(p.Tags)
	for _, k := range keys {
		val := p.Tags[k]
		if k == "" {
			return 0, fmt.Sprintf("Invalid tag name with value [%s]: empty string", val)
		}
		if c, bad := illegalChar(k); bad {
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

// javaMap formats tags like Java's Map.toString, keys sorted: {k=v, k2=v2}.
func javaMap(m map[string]string) string {
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

// illegalChar returns the first character of s outside Apptuit's name rule:
// Unicode letters and numbers, '-', '_', '.', '/'.
func illegalChar(s string) (rune, bool) {
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
