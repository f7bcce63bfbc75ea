package opentsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit/internal/ql"
)

// appendDps appends points as [[ts, v], …], ts in Unix seconds and v
// always written as a float ("23050.0", as Apptuit does), NaN and ±Inf as
// null; it stops with errTooLarge once b is longer than max (0: no bound),
// and checks ctx every few thousand points.
func appendDps(ctx context.Context, b []byte, ps []ql.Point, max int) ([]byte, error) {
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, p.T, 10)
		b = append(b, ',')
		b = appendFloat(b, p.V)
		b = append(b, ']')
		if max > 0 && len(b) > max {
			return b, errTooLarge
		}
		if i%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return b, err
			}
		}
	}
	return append(b, ']'), nil
}

// appendFloat writes v as encoding/json does, but always with a fraction or
// an exponent: 23050 → 23050.0, 1e-07 → 1e-07, 1e+21 → 1e+21.
func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, '.', '0')
}

// Defaults of Query's bounds, as the test fake and the local server use
// them: together about 32 MB of points and 32 MB of answer per query, and
// 4 queries at once.
const (
	DefaultQueryMaxPoints   = 2_000_000
	DefaultQueryMaxBytes    = 32 << 20
	DefaultQueryTimeout     = 30 * time.Second
	DefaultQueryConcurrency = 4
)

// Query serves GET /api/query: the Apptuit query language (package ql)
// over a ql.Store, in Apptuit's answer shape, within bounds on what one
// query may cost. Its zero value has no bounds.
type Query struct {
	MaxPoints int           // points one query may hold: fetched, computed and answered again (ql.Eval); 0: no bound
	MaxBytes  int           // bytes of one answer, built before it is sent; 0: no bound
	Timeout   time.Duration // from the query parsed to its answer built, including the wait for a slot; 0: no bound
	// Slots bounds the queries evaluated at once (a slot per query); a
	// query waits for one within its Timeout, then gets 429 with
	// Retry-After. nil: no bound.
	Slots chan struct{}
	// Raise names, for the message of a query past a bound, how to
	// raise it, e.g. "--query-max-points"; "" says only that it is the
	// limit.
	Raise QueryRaise
}

// QueryRaise names how to raise each of Query's bounds.
type QueryRaise struct{ MaxPoints, MaxBytes, Timeout, Slots string }

// errTooLarge stops an answer at Query.MaxBytes.
var errTooLarge = errors.New("answer too large")

// limitNote is the end of the message of a query past a bound.
func limitNote(raise string) string {
	if raise == "" {
		return " (the limit)"
	}
	return " (the limit; raise it with " + raise + ")"
}

// Serve answers one query with times relative to now (see the package
// documentation). Past a bound it answers, in OpenTSDB's error shape, 422
// for MaxPoints, MaxBytes and Timeout and 429 for Slots, naming the bound;
// the answer's memory is never spent beyond MaxBytes (and the evaluation's
// beyond MaxPoints, see ql.Eval). A client that leaves stops the
// evaluation.
func (h *Query) Serve(w http.ResponseWriter, r *http.Request, st ql.Store, now time.Time) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		WriteError(w, http.StatusMethodNotAllowed, "Method not allowed: "+r.Method+" (use GET)")
		return
	}
	q := r.URL.Query()
	if !q.Has("start") {
		WriteError(w, http.StatusBadRequest, "Missing parameter: start")
		return
	}
	start, err := parseTime(q.Get("start"), now)
	if err != "" {
		WriteError(w, http.StatusBadRequest, "Invalid start: "+err)
		return
	}
	end := now.Unix()
	if q.Has("end") {
		if end, err = parseTime(q.Get("end"), now); err != "" {
			WriteError(w, http.StatusBadRequest, "Invalid end: "+err)
			return
		}
	}
	if start > end {
		WriteError(w, http.StatusBadRequest, "start is after end")
		return
	}
	text := q.Get("q")
	if strings.TrimSpace(text) == "" {
		WriteError(w, http.StatusBadRequest, "Missing parameter: q")
		return
	}
	prog, perr := ql.Parse(text)
	if perr != nil {
		WriteError(w, http.StatusBadRequest, perr.Error())
		return
	}

	ctx := r.Context()
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	if h.Slots != nil {
		select {
		case h.Slots <- struct{}{}:
		case <-ctx.Done():
			if r.Context().Err() != nil {
				return // the client left
			}
			w.Header().Set("Retry-After", "1")
			WriteError(w, http.StatusTooManyRequests, fmt.Sprintf("too many queries at once: all %d query slots stayed busy for %v%s", cap(h.Slots), h.Timeout, limitNote(h.Raise.Slots)))
			return
		}
		defer func() { <-h.Slots }()
	}
	b, eerr := h.answer(ctx, prog, st, text, start, end)
	var le *ql.LimitError
	switch {
	case eerr == nil:
		WriteRawJSON(w, http.StatusOK, b)
	case r.Context().Err() != nil:
		// The client left: nobody reads an answer.
	case errors.As(eerr, &le):
		WriteError(w, http.StatusUnprocessableEntity, le.Error()+limitNote(h.Raise.MaxPoints))
	case errors.Is(eerr, errTooLarge):
		WriteError(w, http.StatusUnprocessableEntity, fmt.Sprintf("answer too large: more than %d bytes%s", h.MaxBytes, limitNote(h.Raise.MaxBytes)))
	case errors.Is(eerr, context.DeadlineExceeded):
		WriteError(w, http.StatusUnprocessableEntity, fmt.Sprintf("query timed out: it took longer than %v%s", h.Timeout, limitNote(h.Raise.Timeout)))
	default:
		WriteError(w, http.StatusInternalServerError, "evaluating the query failed: "+eerr.Error())
	}
}

// answer evaluates prog and encodes its answer as encoding/json would
// encode Apptuit's shape:
//
//	{"outputs":[{"id":…,"result":[{"metric":…,"tags":{…},"aggregatedTags":[…],"dps":[[ts,v],…]}]}],
//	 "hints":[],"query":{"querytext":…,"startTime":…,"endTime":…}}
func (h *Query) answer(ctx context.Context, prog *ql.Program, st ql.Store, text string, start, end int64) ([]byte, error) {
	outs, err := ql.Eval(ctx, prog, st, start, end, h.MaxPoints)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, answerSize(outs, text, h.MaxBytes))
	b = append(b, `{"outputs":[`...)
	for i, o := range outs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, o.ID)
		b = append(b, `,"result":[`...)
		for j, s := range o.Series {
			if j > 0 {
				b = append(b, ',')
			}
			if b, err = appendSeries(ctx, b, s, h.MaxBytes); err != nil {
				return nil, err
			}
		}
		b = append(b, "]}"...)
		if h.MaxBytes > 0 && len(b) > h.MaxBytes {
			return nil, errTooLarge
		}
	}
	b = append(b, `],"hints":[],"query":{"querytext":`...)
	b = appendString(b, text)
	b = append(b, `,"startTime":`...)
	b = strconv.AppendInt(b, start, 10)
	b = append(b, `,"endTime":`...)
	b = strconv.AppendInt(b, end, 10)
	b = append(b, "}}"...)
	if h.MaxBytes > 0 && len(b) > h.MaxBytes {
		return nil, errTooLarge
	}
	return b, nil
}

// answerSize is the capacity of the buffer of the answer of outs to the
// query text: about 24 bytes a point and 100 a series; at most maxBytes
// (when > 0) and room for the point or series header that passes it, so
// that the buffer does not grow (a copy) just to be abandoned.
func answerSize(outs []ql.Output, text string, maxBytes int) int {
	size := 128 + len(text)
	for _, o := range outs {
		for _, s := range o.Series {
			size += 100 + 24*len(s.Points)
		}
	}
	if maxBytes > 0 {
		size = min(size, maxBytes+4096)
	}
	return size
}

// appendSeries appends s as an object of an output's result, or fails
// with errTooLarge once b passes maxBytes (when > 0).
func appendSeries(ctx context.Context, b []byte, s ql.Series, maxBytes int) ([]byte, error) {
	b = append(b, `{"metric":`...)
	b = appendString(b, s.Metric)
	if maxBytes > 0 && len(b) > maxBytes {
		return nil, errTooLarge
	}
	b = append(b, `,"tags":{`...)
	for k, key := range slices.Sorted(maps.Keys(s.Tags)) {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendString(b, key)
		b = append(b, ':')
		b = appendString(b, s.Tags[key])
	}
	b = append(b, `},"aggregatedTags":[`...)
	for k, key := range s.AggregatedTags {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendString(b, key)
	}
	b = append(b, `],"dps":`...)
	b, err := appendDps(ctx, b, s.Points, maxBytes)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string, escaped as encoding/json does.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// parseTime parses a query time: Unix seconds, Unix milliseconds (more than
// 10 digits), "now", or "<n><unit>-ago" with unit s, m, h, d or w. It
// returns Unix seconds, or a message.
func parseTime(s string, now time.Time) (int64, string) {
	if s == "now" {
		return now.Unix(), ""
	}
	if rel, ok := strings.CutSuffix(s, "-ago"); ok {
		iv, ok := ql.ParseInterval(rel)
		if !ok {
			return 0, strconv.Quote(s) + " (want e.g. 1h-ago)"
		}
		return now.Unix() - iv, ""
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || !isInteger([]byte(s)) {
		return 0, strconv.Quote(s) + " (want Unix seconds, Unix milliseconds, now or <n><s|m|h|d|w>-ago)"
	}
	if n > 9999999999 {
		n /= 1000
	}
	return n, ""
}
