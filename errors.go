package apptuit

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrUnauthorized is matched (errors.Is) by errors for requests the server
// answered with 401: the token was rejected, or none was sent to a server
// that wants one.
var ErrUnauthorized = errors.New("apptuit: the API token was rejected (401 Unauthorized)")

// ErrNoToken is matched (errors.Is) by the error New returns when no API
// token was given with WithToken or found in APPTUIT_API_TOKEN or
// APPTUIT_PY_TOKEN, and when WithNoAuth is given for Apptuit's own endpoint,
// which always needs one.
var ErrNoToken = errors.New("apptuit: no API token")

// HTTPError is a non-2xx answer to a request that is not the server judging
// points: for Send and SendTimeSeries every status but 400 (and 413 at the
// smallest split, see SendError), for Query and QueryRange every non-2xx
// status. Typical causes: 401 (the token; matches ErrUnauthorized), 403,
// 404 or 405 (a wrong endpoint or path), 429 and 5xx (IsRetryable; these
// come after the client's retries).
//
// Message is the server's own message when its body has one: the
// "message" of an Apptuit/OpenTSDB {"error":{"message":…}} body (with its
// "details"), the "error" of a Prometheus {"status":"error","error":…}
// body (which Unwrap then gives as a *PromQLError, with its errorType), an
// "error" or "message" string, the title of an HTML page, or else the text
// of the body on one line. Body keeps the start of the body itself (at most
// 1 MiB).
type HTTPError struct {
	Op         string // "send", "query" or "promql"
	Method     string // the request's method
	URL        string // the URL requested, without its query string, any password redacted
	StatusCode int
	Attempts   int // requests made, the retries included
	Message    string
	Body       string

	// For Send and SendTimeSeries: the points of the call that were not
	// delivered (those of the failed request and of the batches not sent
	// after it), out of the call's Total. Total - Undelivered points were
	// accepted or refused by the server. Both are 0 for queries.
	Undelivered, Total int

	noAuth bool  // the request carried no token (WithNoAuth)
	cause  error // a *PromQLError, or nil
}

// Error reads, for example,
//
//	apptuit: send: 50000 points not delivered: server answered 503 Service Unavailable after 3 attempts: busy
//	apptuit: query: server answered 404 Not Found for GET http://127.0.0.1:4242/api/query
//	apptuit: send: 2 points not delivered: the API token was rejected (401 Unauthorized)
//
// The URL is named for 404 and 405, the answers that say it is wrong. The
// message is clipped to 512 bytes.
func (e *HTTPError) Error() string {
	var b strings.Builder
	b.WriteString("apptuit: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	writeUndelivered(&b, e.Undelivered, e.Total)
	switch {
	case e.StatusCode == http.StatusUnauthorized && e.noAuth:
		b.WriteString("the server wants an API token (401 Unauthorized) and none was sent (WithNoAuth)")
	case e.StatusCode == http.StatusUnauthorized:
		b.WriteString("the API token was rejected (401 Unauthorized)")
	default:
		b.WriteString("server answered ")
		b.WriteString(statusText(e.StatusCode))
		if e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusMethodNotAllowed {
			b.WriteString(" for ")
			b.WriteString(e.Method)
			b.WriteString(" ")
			b.WriteString(e.URL)
		}
		if e.Attempts > 1 {
			b.WriteString(" after ")
			b.WriteString(strconv.Itoa(e.Attempts))
			b.WriteString(" attempts")
		}
	}
	if !redundant(e.Message, e.StatusCode) {
		b.WriteString(": ")
		b.WriteString(clip(e.Message))
	}
	return b.String()
}

// redundant reports whether a server's message says nothing the status does
// not ("", "Service Unavailable", "413 Request Entity Too Large").
func redundant(msg string, code int) bool {
	return msg == "" || strings.EqualFold(msg, http.StatusText(code)) || strings.EqualFold(msg, statusText(code))
}

// Is makes errors.Is(err, ErrUnauthorized) true for 401 answers.
func (e *HTTPError) Is(target error) bool {
	return target == ErrUnauthorized && e.StatusCode == http.StatusUnauthorized
}

// Unwrap returns the *PromQLError of a Prometheus error body, else nil.
func (e *HTTPError) Unwrap() error { return e.cause }

// Retryable reports whether the same request may succeed later: 429 and 5xx.
func (e *HTTPError) Retryable() bool { return retryableStatus(e.StatusCode) }

func retryableStatus(code int) bool { return code == 429 || code >= 500 }

// statusText is "503 Service Unavailable", or the bare code when the status
// has no standard text.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// writeUndelivered writes "N points not delivered: " or "N of T points not
// delivered: " when total is not 0.
func writeUndelivered(b *strings.Builder, undelivered, total int) {
	writeCount(b, undelivered, total, "not delivered")
}

// writeCount writes "N points <what>: " or "N of T points <what>: " when
// total is not 0.
func writeCount(b *strings.Builder, n, total int, what string) {
	if total == 0 {
		return
	}
	b.WriteString(strconv.Itoa(n))
	if n != total {
		b.WriteString(" of ")
		b.WriteString(strconv.Itoa(total))
	}
	if total == 1 {
		b.WriteString(" point ")
	} else {
		b.WriteString(" points ")
	}
	b.WriteString(what)
	b.WriteString(": ")
}

// mayNotHaveArrived is "N points may not have arrived: ", the count of a
// TelnetTCP Send that failed.
func mayNotHaveArrived(n, total int) string {
	var b strings.Builder
	writeCount(&b, n, total, "may not have arrived")
	return b.String()
}

// notSent is "N of T points not sent: ", the count of an XCollectorUDP Send
// that failed.
func notSent(n, total int) string {
	var b strings.Builder
	writeCount(&b, n, total, "not sent")
	return b.String()
}

// maxErrorText is how much of a server's message an Error() string quotes;
// the error's fields keep all of it (up to the read cap).
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

// SendError reports points the server judged and refused; the rest of the
// call was delivered. It is returned for
//
//   - a 400 answer with Apptuit/OpenTSDB details: Success and Failed are the
//     server's counts and Errors holds one entry per refused point. Counts
//     that cannot be right (negative, more than the batch, not adding up to
//     it, or none failed) are not trusted: the whole batch counts as failed
//     and Hint says so, so that Success + Failed is always the number of
//     points sent;
//   - a 400 answer with any other body (VictoriaMetrics and InfluxDB answer
//     in plain text): Failed counts the batch and Message holds the server's
//     message;
//   - a 413 answer to a batch that cannot be split further (100 points):
//     StatusCode is 413 and Failed counts the points of such batches. The
//     server judged them too large to take at all, so they are not
//     delivered by sending them again as they are.
//
// Batches after a refused one are still sent, and when a call spans several
// batches the counts and errors of the refused ones are added up; Success
// then counts every point of the call the server accepted. Every other
// failure is an *HTTPError or a *NetworkError. A SendError is never
// retryable.
type SendError struct {
	StatusCode int // 400 or 413
	Success    int
	Failed     int
	Errors     []PointError
	Message    string // the server's message, when it sent one
	Hint       string // what the client can tell when the server's answer does not say it
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

// Error reads "apptuit: send: the server refused F of N points (<status>)",
// then the server's message and the hint, then one line per point error in
// apptuit-py's words ("<error> error occurred in the datapoint {…}").
func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("apptuit: send: the server refused ")
	b.WriteString(strconv.Itoa(e.Failed))
	if total := e.Success + e.Failed; total != e.Failed {
		b.WriteString(" of ")
		b.WriteString(strconv.Itoa(total))
	}
	if e.Success+e.Failed == 1 {
		b.WriteString(" point (")
	} else {
		b.WriteString(" points (")
	}
	b.WriteString(statusText(e.StatusCode))
	b.WriteString(")")
	if !redundant(e.Message, e.StatusCode) {
		b.WriteString(": ")
		b.WriteString(clip(e.Message))
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	for _, pe := range e.Errors {
		b.WriteString("\n")
		b.WriteString(pe.Message)
		b.WriteString(" error occurred in the datapoint ")
		b.WriteString(pe.Datapoint.String())
	}
	return b.String()
}

// Retryable reports false: points the server refused would be refused
// again. It is here so that callers can ask any error of the package.
func (e *SendError) Retryable() bool { return false }

func (e *SendError) add(o *SendError) {
	if e.StatusCode == 0 || e.StatusCode == http.StatusBadRequest {
		e.StatusCode = o.StatusCode
	}
	e.Success += o.Success
	e.Failed += o.Failed
	e.Errors = append(e.Errors, o.Errors...)
	if e.Message == "" {
		e.Message = o.Message
	}
	if e.Hint == "" {
		e.Hint = o.Hint
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

// PartialError is an answer the server marked as partial ("isPartial":
// true: a VictoriaMetrics cluster whose vmselect could not reach every
// vmstorage node) to a QueryRange of a client made WithDenyPartial. It is
// retryable: the missing nodes may answer later. It is not retried by the
// client, which got a whole HTTP answer; Result keeps the partial answer
// for a caller that wants it after all.
type PartialError struct {
	Op     string // "promql"
	URL    string // the URL requested, without its query string
	Result *QueryResult
}

// Error reads "apptuit: promql: the server marked its answer as partial
// (some of its storage did not answer) and partial answers are refused:
// <URL>", followed by the server's warnings.
func (e *PartialError) Error() string {
	var b strings.Builder
	b.WriteString("apptuit: ")
	b.WriteString(e.Op)
	b.WriteString(": the server marked its answer as partial (some of its storage did not answer) and partial answers are refused: ")
	b.WriteString(e.URL)
	if e.Result != nil {
		for _, w := range e.Result.Warnings {
			b.WriteString("; ")
			b.WriteString(clip(w))
		}
	}
	return b.String()
}

// Retryable reports true: the answer may be whole later.
func (e *PartialError) Retryable() bool { return true }

// IsRetryable reports whether err, from Send, SendTimeSeries, Query or
// QueryRange, is worth trying again later with the same input: an
// *HTTPError for 429 or 5xx, a *NetworkError, or a *PartialError.
// Validation errors, refused points (*SendError), refused redirects
// (*RedirectError) and other statuses (401, 403, 404, …) are not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var pe *PartialError
	if errors.As(err, &pe) {
		return true
	}
	var se *SendError
	if errors.As(err, &se) {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Retryable()
	}
	var ne *NetworkError
	return errors.As(err, &ne)
}

// NetworkError is a request that got no HTTP answer (connection refused,
// reset, timeout of an attempt) after all retries, or a line transport's
// Send that failed (see LineTransport): a connection that could not be
// made or written, that the server closed or reset, or a server that did
// not take the lines within the timeout.
type NetworkError struct {
	Op       string
	Attempts int // requests tried, the retries included
	// For Send and SendTimeSeries, as in HTTPError: the points of the call
	// not delivered, out of Total. For TelnetTCP: the points that may not
	// have arrived, which is all of the call (see LineTransport); for
	// XCollectorUDP: the points of the datagrams not sent.
	Undelivered, Total int
	Err                error

	words errWords
}

// errWords says how a *NetworkError words its count.
type errWords uint8

const (
	wordsHTTP errWords = iota // "N points not delivered: no answer"
	wordsTCP                  // "N points may not have arrived"
	wordsUDP                  // "N of T points not sent"
)

// Error reads, for example,
//
//	apptuit: send: 2 points not delivered: no answer after 3 attempts: Post …: connection refused
//	apptuit: send: 1000 points may not have arrived: after 2 attempts: TelnetTCP(127.0.0.1:4242): the server closed the connection with 90890 bytes written: EOF
//	apptuit: send: 310 of 3000 points not sent: XCollectorUDP(127.0.0.1:8953): write udp …: connection refused
func (e *NetworkError) Error() string {
	var b strings.Builder
	b.WriteString("apptuit: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch e.words {
	case wordsTCP:
		writeCount(&b, e.Undelivered, e.Total, "may not have arrived")
	case wordsUDP:
		writeCount(&b, e.Undelivered, e.Total, "not sent")
	default:
		writeUndelivered(&b, e.Undelivered, e.Total)
		b.WriteString("no answer")
	}
	if e.Attempts > 1 {
		if e.words != wordsHTTP {
			b.WriteString("after ")
		} else {
			b.WriteString(" after ")
		}
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts")
	}
	if e.words == wordsHTTP || e.Attempts > 1 {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *NetworkError) Unwrap() error { return e.Err }

// sizeError is a response larger than the cap; it matches
// ErrResponseTooLarge.
type sizeError struct {
	limit    int64
	declared int64 // the Content-Length, when that is what told
}

func (e *sizeError) Error() string {
	if e.declared > 0 {
		return fmt.Sprintf("the response is %d bytes (Content-Length), more than the limit of %d (WithMaxResponseBytes); nothing was read", e.declared, e.limit)
	}
	return fmt.Sprintf("the response is larger than the limit of %d bytes (WithMaxResponseBytes)", e.limit)
}

func (e *sizeError) Is(target error) bool { return target == ErrResponseTooLarge }
