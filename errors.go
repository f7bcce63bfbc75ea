package apptuit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrUnauthorized is matched (errors.Is) by errors for requests the server
// answered with 401: the token was rejected.
var ErrUnauthorized = errors.New("apptuit: the API token was rejected (401 Unauthorized)")

// ErrNoToken is matched (errors.Is) by the error New returns when no API
// token was given with WithToken or found in APPTUIT_API_TOKEN or
// APPTUIT_PY_TOKEN.
var ErrNoToken = errors.New("apptuit: no API token")

// HTTPError is a non-success HTTP answer to a query or a send that carried no
// per-point details. Body is the start of the response body, capped.
type HTTPError struct {
	Op         string // "send", "query" or "promql"
	StatusCode int
	Body       string
}

func (e *HTTPError) Error() string {
	if e.StatusCode == 401 {
		return fmt.Sprintf("apptuit: %s: the API token was rejected (401 Unauthorized)", e.Op)
	}
	msg := fmt.Sprintf("apptuit: %s: server answered %d", e.Op, e.StatusCode)
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + clip(b)
	}
	return msg
}

// maxErrorText is how much of a response body an Error() string quotes; the
// error's fields keep all of it (up to the read cap).
const maxErrorText = 512

func clip(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	cut := maxErrorText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}

// Is makes errors.Is(err, ErrUnauthorized) true for 401 answers.
func (e *HTTPError) Is(target error) bool {
	return target == ErrUnauthorized && e.StatusCode == 401
}

// Retryable reports whether the same request may succeed later: 429 and 5xx.
func (e *HTTPError) Retryable() bool { return retryableStatus(e.StatusCode) }

func retryableStatus(code int) bool { return code == 429 || code >= 500 }

// SendError reports a send the server did not fully accept. For a 400 with
// the details body, Success and Failed count points and Errors holds one
// entry per refused point; for a 400 whose body is plain text (as from
// VictoriaMetrics or InfluxDB), Message holds that text and Failed counts
// the points of the batch. When a send spans several batches, the counts
// and errors of all failed batches are added up.
type SendError struct {
	StatusCode int
	Success    int
	Failed     int
	Errors     []PointError
	Message    string
}

// PointError is one point the server refused, as it echoed it back.
type PointError struct {
	Datapoint EchoedPoint
	Message   string
}

// EchoedPoint is a point as a server echoed it in an error. Value is kept as
// text because Apptuit echoes values as strings (e.g. "NaN").
type EchoedPoint struct {
	Metric    string
	Timestamp int64
	Value     string
	Tags      map[string]string
}

func (p EchoedPoint) String() string {
	return fmt.Sprintf("{metric: %s, timestamp: %d, value: %s, tags: %v}", p.Metric, p.Timestamp, p.Value, p.Tags)
}

// Error reads like apptuit-py's ApptuitSendException: the failed count and
// status, then one line per point error.
func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("apptuit: ")
	b.WriteString(strconv.Itoa(e.Failed))
	b.WriteString(" points failed with status: ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(clip(strings.TrimSpace(e.Message)))
	}
	for _, pe := range e.Errors {
		b.WriteString("\n")
		b.WriteString(pe.Message)
		b.WriteString(" error occurred in the datapoint ")
		b.WriteString(pe.Datapoint.String())
	}
	return b.String()
}

// Retryable reports whether resending the same points may succeed: 429 and
// 5xx. Points refused with 400, and batches still too large (413) at the
// smallest split, are not retryable.
func (e *SendError) Retryable() bool { return retryableStatus(e.StatusCode) }

func (e *SendError) add(o *SendError) {
	if e.StatusCode == 0 || e.StatusCode == 400 {
		e.StatusCode = o.StatusCode
	}
	e.Success += o.Success
	e.Failed += o.Failed
	e.Errors = append(e.Errors, o.Errors...)
	if e.Message == "" {
		e.Message = o.Message
	}
}

// ValidationError reports a point that was not sent because it breaks a
// rule; nothing of the call was sent. Index is the point's position in the
// input (for SendTimeSeries: the series' position, and Point the point's
// within it, else -1); an Index below 0 means no position applies.
type ValidationError struct {
	Index  int
	Point  int
	Metric string
	Rule   string
}

func (e *ValidationError) Error() string {
	switch {
	case e.Index < 0:
		return fmt.Sprintf("apptuit: metric %q: %s", e.Metric, e.Rule)
	case e.Point >= 0:
		return fmt.Sprintf("apptuit: series %d point %d (metric %q): %s", e.Index, e.Point, e.Metric, e.Rule)
	}
	return fmt.Sprintf("apptuit: point %d (metric %q): %s", e.Index, e.Metric, e.Rule)
}

// IsRetryable reports whether err, from Send, SendTimeSeries, Query or
// QueryRange, is worth trying again later with the same input: a 429 or
// 5xx answer, or a network failure. Validation errors, 400s and 401s are
// not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Retryable()
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Retryable()
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return false
	}
	var ne *NetworkError
	return errors.As(err, &ne)
}

// NetworkError is a request that got no HTTP answer (connection refused,
// reset, timeout of an attempt) after all retries.
type NetworkError struct {
	Op  string
	Err error
}

func (e *NetworkError) Error() string { return fmt.Sprintf("apptuit: %s: %v", e.Op, e.Err) }
func (e *NetworkError) Unwrap() error { return e.Err }
