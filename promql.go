package apptuit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit/internal/timestamp"
)

// PromQLError is the error a Prometheus API reports in its body:
// {"status":"error","errorType":...,"error":...}. With a non-2xx status
// (typically 400 bad_data, 422 execution, 503 timeout) QueryRange returns
// an *HTTPError whose Unwrap gives the PromQLError, so errors.As finds
// both; a PromQLError is returned by itself only when a server reports an
// error with a 2xx status.
//
// Apptuit answers a rejected token with 200 and an empty success whose
// warning reads "server returned HTTP status 401 Unauthorized"; QueryRange
// reports that as an *HTTPError with StatusCode 401 (so it matches
// ErrUnauthorized), the warning as its Message.
type PromQLError struct {
	StatusCode int    // the HTTP status it came with
	ErrorType  string // "bad_data", "execution", "timeout", ...
	Message    string // the server's "error" text
}

// Error reads "apptuit: promql: <errorType>: <error> (HTTP <status>)".
func (e *PromQLError) Error() string {
	return fmt.Sprintf("apptuit: promql: %s: %s (HTTP %d)", e.ErrorType, e.Message, e.StatusCode)
}

// authWarning is Apptuit's 401 in a successful answer's warnings.
type authWarning struct{ warning string }

func (e *authWarning) Error() string { return "apptuit: promql: " + e.warning }

// PromQLStep returns the step QueryRange uses when given 0, chosen as
// Apptuit's Java client does for about 1,000 points: s = range in whole
// seconds / 1000 (at least 1), rounded down to a multiple of the largest of
// 5, 15, 60, 300, 900 and 3600 seconds below s (of 1 when none is). For
// example 1,000 s → 1 s, 7,000 s → 5 s, 59,000 s → 45 s, 7,501,000 s →
// 7,200 s. It costs a few integer operations.
func PromQLStep(start, end time.Time) time.Duration {
	rangeMs := end.UnixMilli() - start.UnixMilli()
	s := rangeMs / 1000 / 1000
	if s < 1 {
		s = 1
	}
	lower := int64(1)
	for _, v := range [...]int64{5, 15, 60, 300, 900, 3600} {
		if v < s {
			lower = v
		}
	}
	return time.Duration(lower*(s/lower)) * time.Second
}

// QueryRange runs a PromQL range query over [start, end] with a POST of the
// form query, start, end, step (in that order; times and step in seconds,
// fractional when needed) to {endpoint}{PromQL path} (default
// /prometheus/api/v1/query_range, see WithPromQLPath). A zero end means
// now; a zero step is chosen by PromQLStep.
//
// The matrix result becomes one Output whose ID is the query and whose
// series take their metric from the "__name__" label and their tags from
// the other labels. Values ("1.5", "NaN", "+Inf") are parsed; timestamps
// are kept to the millisecond. What the server says about the answer is
// kept: QueryResult.Partial (VictoriaMetrics cluster's "isPartial"),
// Warnings and Infos. With WithDenyPartial the form also carries
// deny_partial_response=1 and an answer still marked partial is a
// *PartialError. Unlike Query, no points are filtered and an empty matrix
// still gives one output with no series.
//
// A non-2xx answer returns an *HTTPError with Op "promql" (unwrapping to a
// *PromQLError when the body is a Prometheus error); a timestamp beyond
// ±9999999999999 ms or a result type other than "matrix" is an error.
// Retries and the response size cap are as for Query.
//
// Cost: the response is decoded with encoding/json, a few allocations per
// point; use Query for bulk reads.
func (c *Client) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (*QueryResult, error) {
	if err := c.made(); err != nil {
		return nil, err
	}
	if err := c.lineUnsupported("promql"); err != nil {
		return nil, err
	}
	if end.IsZero() {
		end = time.Now()
	}
	if start.IsZero() {
		return nil, fmt.Errorf("apptuit: promql: start is the zero time")
	}
	if end.Before(start) {
		return nil, fmt.Errorf("apptuit: promql: end %v is before start %v", end, start)
	}
	if step < 0 {
		return nil, fmt.Errorf("apptuit: promql: step %v is negative", step)
	}
	if step == 0 {
		step = PromQLStep(start, end)
	}
	form := "query=" + url.QueryEscape(query) +
		"&start=" + formatUnixSeconds(start) +
		"&end=" + formatUnixSeconds(end) +
		"&step=" + strconv.FormatFloat(step.Seconds(), 'f', -1, 64)
	if c.cfg.denyPartial {
		form += "&deny_partial_response=1"
	}

	req := request{
		op:     "promql",
		method: http.MethodPost,
		url:    c.endpoint + c.cfg.promPath,
		header: http.Header{
			"Content-Type": {"application/x-www-form-urlencoded"},
			"Accept":       {"application/json"},
		},
		body: func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(form)), nil
		},
		maxBytes: c.cfg.maxResponse,
	}
	body, resp, attempts, err := c.fetch(ctx, &req)
	if err != nil {
		return nil, err
	}
	res, err := decodePromQLResponse(body, resp.StatusCode, query)
	var aw *authWarning
	if errors.As(err, &aw) {
		// Apptuit's way of answering 401: report it as the 401 it stands for.
		he := c.httpError(&req, resp, attempts, body)
		he.StatusCode, he.Message = http.StatusUnauthorized, aw.warning
		return nil, he
	}
	if err == nil && res.Partial && c.cfg.denyPartial {
		return nil, &PartialError{Op: req.op, URL: displayURL(resp.Request.URL.String()), Result: res}
	}
	return res, err
}

// formatUnixSeconds writes t as Unix seconds, with up to three decimals
// when it has milliseconds.
func formatUnixSeconds(t time.Time) string {
	ms := t.UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	s := sign + strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1000+frac, 10)[1:], "0")
	}
	return s
}

type promResponse struct {
	Status    string   `json:"status"`
	IsPartial bool     `json:"isPartial"` // VictoriaMetrics cluster
	ErrorType string   `json:"errorType"`
	Error     string   `json:"error"`
	Warnings  []string `json:"warnings"`
	Infos     []string `json:"infos"` // Prometheus 3
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

type promSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

// series turns the i-th series of a matrix into a TimeSeries: __name__ is
// its metric, the other labels its tags.
func (m *promSeries) series(i int) (*TimeSeries, error) {
	tags := make(map[string]string, len(m.Metric))
	name := ""
	for k, v := range m.Metric {
		if k == "__name__" {
			name = v
			continue
		}
		tags[k] = v
	}
	s := newSeriesUnchecked(name, tags, len(m.Values))
	for j, p := range m.Values {
		t, tok := p[0].(float64)
		vs, vok := p[1].(string)
		if !tok || !vok {
			return nil, fmt.Errorf("apptuit: promql: series %d point %d: want [seconds, \"value\"], got %v", i, j, p)
		}
		v, err := strconv.ParseFloat(vs, 64)
		if err != nil {
			return nil, fmt.Errorf("apptuit: promql: series %d point %d: value %q: %w", i, j, vs, err)
		}
		ms := math.Round(t * 1000)
		if !(math.Abs(ms) <= timestamp.MaxMillis) { // NaN too
			return nil, fmt.Errorf("apptuit: promql: series %d point %d: timestamp %v is out of range (at most %d ms in magnitude)", i, j, t, int64(timestamp.MaxMillis))
		}
		s.ts = append(s.ts, int64(ms))
		s.vals = append(s.vals, v)
	}
	return s, nil
}

// decodePromQLResponse turns the body of a 2xx Prometheus API answer into a
// result or an error.
func decodePromQLResponse(body []byte, status int, query string) (*QueryResult, error) {
	var pr promResponse
	if err := json.Unmarshal(body, &pr); err != nil || pr.Status == "" {
		if err == nil {
			err = fmt.Errorf(`no "status" field`)
		}
		return nil, fmt.Errorf("apptuit: promql: decoding the response: %w", err)
	}
	if pr.Status == "error" {
		return nil, &PromQLError{StatusCode: status, ErrorType: pr.ErrorType, Message: pr.Error}
	}
	if pr.Status != "success" {
		return nil, fmt.Errorf("apptuit: promql: unknown status %q", pr.Status)
	}
	if pr.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("apptuit: promql: result type is %q, want \"matrix\"", pr.Data.ResultType)
	}
	var matrix []promSeries
	if r := bytes.TrimSpace(pr.Data.Result); len(r) > 0 {
		if err := json.Unmarshal(r, &matrix); err != nil {
			return nil, fmt.Errorf("apptuit: promql: decoding the matrix: %w", err)
		}
	}
	if len(matrix) == 0 {
		for _, w := range pr.Warnings {
			if strings.Contains(w, "HTTP status 401") {
				return nil, &authWarning{w}
			}
		}
	}
	out := &Output{ID: query, Series: make([]*TimeSeries, 0, len(matrix))}
	for i := range matrix {
		s, err := matrix[i].series(i)
		if err != nil {
			return nil, err
		}
		out.Series = append(out.Series, s)
	}
	return &QueryResult{outputs: []*Output{out}, Partial: pr.IsPartial, Warnings: pr.Warnings, Infos: pr.Infos}, nil
}
