package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Prometheus's HTTP API (the part Grafana and promtool use), at
// Prometheus's paths and under /prometheus (Apptuit's): its parameters,
// answers and errors as in Prometheus's web/api/v1.

// Bounds of the PromQL endpoints' requests.
const (
	maxPromForm  = 1 << 20  // a form body
	maxQueryText = 64 << 10 // a query
)

// promRoutes adds the endpoints to mux.
func (s *Server) promRoutes(mux *http.ServeMux) {
	for _, prefix := range []string{"", "/prometheus"} {
		for path, h := range map[string]struct {
			f       func(*http.Request) result
			getPost bool
		}{
			"/api/v1/query":               {s.promql.query, true},
			"/api/v1/query_range":         {s.promql.queryRange, true},
			"/api/v1/labels":              {s.promql.labelNames, true},
			"/api/v1/label/{name}/values": {s.promql.labelValues, false},
			"/api/v1/series":              {s.promql.series, true},
			"/api/v1/metadata":            {metadata, false},
			"/api/v1/status/buildinfo":    {buildInfo, false},
		} {
			mux.Handle(prefix+path, promHandler(h.f, h.getPost))
		}
	}
}

// result is what an endpoint answers: data (appended by a function), or an
// error; warnings and infos either way.
type result struct {
	data     func([]byte) []byte
	err      *apiError
	warnings annotations.Annotations
}

func failed(t errorType, err error) result { return result{err: &apiError{t, err}} }

// invalidParam is Prometheus's error for a bad parameter.
func invalidParam(err error, name string) *apiError {
	return &apiError{errorBadData, fmt.Errorf("invalid parameter %q: %w", name, err)}
}

// promHandler serves one endpoint: GET, and POST with a form when getPost.
// A panic, which Prometheus's engine should never let out, answers 500
// "internal" rather than dropping the connection.
func promHandler(f func(*http.Request) result, getPost bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allowed := r.Method == http.MethodGet || (getPost && r.Method == http.MethodPost)
		if !allowed {
			w.Header().Set("Allow", map[bool]string{true: "GET, POST", false: "GET"}[getPost])
			writeProm(w, r, result{err: &apiError{errorBadData, fmt.Errorf("method %s not allowed", r.Method)}}, http.StatusMethodNotAllowed)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxPromForm)
		if err := r.ParseForm(); err != nil {
			writeProm(w, r, failed(errorBadData, fmt.Errorf("error parsing form values: %w", err)), 0)
			return
		}
		var res result
		func() {
			defer func() {
				if p := recover(); p != nil {
					res = failed(errorInternal, fmt.Errorf("unexpected error: %v", p))
				}
			}()
			res = f(r)
		}()
		writeProm(w, r, res, 0)
	})
}

// writeProm answers res; status 0 is the status of res's error type (200
// without an error).
func writeProm(w http.ResponseWriter, r *http.Request, res result, status int) {
	warn, info := res.warnings.AsStrings(r.FormValue("query"), 10, 10)
	var b []byte
	if res.err != nil {
		b = appendErrorResponse(nil, res.err)
		if status == 0 {
			status = res.err.typ.status()
		}
	} else {
		b = appendResponse(nil, res.data, warn, info)
		status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// query answers /api/v1/query: query at time (default now).
func (p *promQL) query(r *http.Request) result {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return result{err: invalidParam(err, "limit")}
	}
	ts, err := parseTimeParam(r, "time", p.now())
	if err != nil {
		return result{err: invalidParam(err, "time")}
	}
	return p.run(r, limit, func(ctx context.Context, opts promql.QueryOpts, qs string) (promql.Query, error) {
		return p.engine.NewInstantQuery(ctx, p.queryable, opts, qs, ts)
	})
}

// queryRange answers /api/v1/query_range: query from start to end, every
// step.
func (p *promQL) queryRange(r *http.Request) result {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return result{err: invalidParam(err, "limit")}
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return result{err: invalidParam(err, "start")}
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return result{err: invalidParam(err, "end")}
	}
	if end.Before(start) {
		return result{err: invalidParam(errors.New("end timestamp must not be before start time"), "end")}
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return result{err: invalidParam(err, "step")}
	}
	if step <= 0 {
		return result{err: invalidParam(errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"), "step")}
	}
	// For safety, Prometheus limits the points per series: 60 s for a
	// week, 1 h for a year.
	if end.Sub(start)/step > 11000 {
		return failed(errorBadData, errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))
	}
	return p.run(r, limit, func(ctx context.Context, opts promql.QueryOpts, qs string) (promql.Query, error) {
		return p.engine.NewRangeQuery(ctx, p.queryable, opts, qs, start, end, step)
	})
}

// run builds a query with build and evaluates it, within the request's
// timeout parameter and the engine's, and answers its value.
func (p *promQL) run(r *http.Request, limit int, build func(context.Context, promql.QueryOpts, string) (promql.Query, error)) result {
	ctx := r.Context()
	if v := r.FormValue("timeout"); v != "" {
		timeout, err := parseDuration(v)
		if err != nil {
			return result{err: invalidParam(err, "timeout")}
		}
		if timeout <= 0 {
			return result{err: invalidParam(fmt.Errorf("timeout must be positive, got %s", timeout), "timeout")}
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var lookback time.Duration
	if v := r.FormValue("lookback_delta"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return failed(errorBadData, fmt.Errorf("error parsing lookback delta duration: %w", err))
		}
		lookback = d
	}
	qs := r.FormValue("query")
	if len(qs) > maxQueryText {
		return result{err: invalidParam(fmt.Errorf("the query is %d bytes long, more than the %d this server takes", len(qs), maxQueryText), "query")}
	}
	// Building a query waits for a slot, as evaluating it does: within the
	// engine's timeout.
	bctx, cancel := context.WithTimeout(ctx, p.lim.Timeout)
	defer cancel()
	qry, err := build(bctx, promql.NewPrometheusQueryOpts(false, lookback, nil), qs)
	if err != nil {
		return result{err: constructionError(err)}
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return result{err: execError(res.Err), warnings: res.Warnings}
	}
	warnings := res.Warnings
	if limit > 0 {
		truncated := false
		switch v := res.Value.(type) {
		case promql.Matrix:
			if truncated = len(v) > limit; truncated {
				res.Value = v[:limit]
			}
		case promql.Vector:
			if truncated = len(v) > limit; truncated {
				res.Value = v[:limit]
			}
		}
		if truncated {
			warnings = warnings.Add(errors.New("results truncated due to limit"))
		}
	}
	// The value is encoded now: the query's memory goes back to the engine
	// on Close.
	b := appendQueryData(nil, res.Value)
	return result{data: func(dst []byte) []byte { return append(dst, b...) }, warnings: warnings}
}

// labelNames answers /api/v1/labels: the label names of the series that
// match any of match[] (every series without) between start and end.
func (p *promQL) labelNames(r *http.Request) result {
	q, limit, sets, res := p.labelsQuerier(r)
	if q == nil {
		return res
	}
	hints := &storage.LabelHints{Limit: hintLimit(limit)}
	names, err := collect(sets, func(ms []*labels.Matcher) ([]string, error) {
		v, _, err := q.LabelNames(r.Context(), hints, ms...)
		return v, err
	})
	if err != nil {
		return result{err: execError(err)}
	}
	return stringsResult(names, limit)
}

// labelValues answers /api/v1/label/<name>/values.
func (p *promQL) labelValues(r *http.Request) result {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return failed(errorBadData, fmt.Errorf("invalid label name: %q", name))
	}
	q, limit, sets, res := p.labelsQuerier(r)
	if q == nil {
		return res
	}
	hints := &storage.LabelHints{Limit: hintLimit(limit)}
	vals, err := collect(sets, func(ms []*labels.Matcher) ([]string, error) {
		v, _, err := q.LabelValues(r.Context(), name, hints, ms...)
		return v, err
	})
	if err != nil {
		return failed(errorExec, err)
	}
	return stringsResult(vals, limit)
}

// labelsQuerier reads the parameters of the label endpoints and returns a
// querier over their range, or the error to answer (and a nil querier).
func (p *promQL) labelsQuerier(r *http.Request) (storage.Querier, int, [][]*labels.Matcher, result) {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return nil, 0, nil, result{err: invalidParam(err, "limit")}
	}
	start, end, res := timeRange(r)
	if res.err != nil {
		return nil, 0, nil, res
	}
	sets, err := p.parseMatchers(r.Form["match[]"])
	if err != nil {
		return nil, 0, nil, failed(errorBadData, err)
	}
	q, _ := p.queryable.Querier(start.UnixMilli(), end.UnixMilli())
	return q, limit, sets, result{}
}

// collect merges, sorted and without duplicates, what get returns for
// each matcher set (for none, what it returns for no matchers).
func collect(sets [][]*labels.Matcher, get func([]*labels.Matcher) ([]string, error)) ([]string, error) {
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var all []string
	for _, ms := range sets {
		v, err := get(ms)
		if err != nil {
			return nil, err
		}
		all = append(all, v...)
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}

func stringsResult(list []string, limit int) result {
	var res result
	if limit > 0 && len(list) > limit {
		list = list[:limit]
		res.warnings = res.warnings.Add(errors.New("results truncated due to limit"))
	}
	if list == nil {
		list = []string{}
	}
	res.data = func(b []byte) []byte { return appendArray(b, list, appendString) }
	return res
}

// series answers /api/v1/series: the label sets of the series that match
// any of match[] (at least one) between start and end.
func (p *promQL) series(r *http.Request) result {
	if len(r.Form["match[]"]) == 0 {
		return failed(errorBadData, errors.New("no match[] parameter provided"))
	}
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return result{err: invalidParam(err, "limit")}
	}
	start, end, res := timeRange(r)
	if res.err != nil {
		return res
	}
	sets, err := p.parseMatchers(r.Form["match[]"])
	if err != nil {
		return result{err: invalidParam(err, "match[]")}
	}
	q, _ := p.queryable.Querier(start.UnixMilli(), end.UnixMilli())
	defer q.Close()
	hints := &storage.SelectHints{Start: start.UnixMilli(), End: end.UnixMilli(), Func: "series", Limit: hintLimit(limit)}
	var found []labels.Labels
	for _, ms := range sets {
		set := q.Select(r.Context(), false, hints, ms...)
		for set.Next() {
			found = append(found, set.At().Labels())
		}
		if err := set.Err(); err != nil {
			return result{err: execError(err)}
		}
	}
	slices.SortFunc(found, labels.Compare)
	found = slices.CompactFunc(found, labels.Equal)
	if limit > 0 && len(found) > limit {
		found = found[:limit]
		res.warnings = res.warnings.Add(errors.New("results truncated due to limit"))
	}
	res.data = func(b []byte) []byte { return appendArray(b, found, appendLabels) }
	return res
}

// metadata answers /api/v1/metadata: this server has no metric metadata
// (OpenTSDB's put carries none), so an empty object, as Prometheus answers
// without targets.
func metadata(r *http.Request) result {
	for _, name := range []string{"limit", "limit_per_metric"} {
		if s := r.FormValue(name); s != "" {
			if _, err := strconv.Atoi(s); err != nil {
				return failed(errorBadData, fmt.Errorf("%s must be a number", name))
			}
		}
	}
	return result{data: func(b []byte) []byte { return append(b, "{}"...) }}
}

// buildInfo answers /api/v1/status/buildinfo with the version of the
// Prometheus engine this server runs, so that clients such as Grafana
// enable what that version supports.
func buildInfo(*http.Request) result {
	version := "3.16.0" // of github.com/prometheus/prometheus v0.316.0
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if v, ok := strings.CutPrefix(m.Version, "v0.3"); ok && m.Path == "github.com/prometheus/prometheus" {
				if minor, patch, ok := strings.Cut(v, "."); ok {
					version = "3." + strings.TrimLeft(minor, "0") + "." + strings.SplitN(patch, "-", 2)[0]
				}
			}
		}
	}
	info := fmt.Sprintf(`{"version":%s,"revision":"","branch":"","buildUser":"apptuit-go","buildDate":"","goVersion":%s}`,
		appendString(nil, version), appendString(nil, runtime.Version()))
	return result{data: func(b []byte) []byte { return append(b, info...) }}
}

// timeRange reads start and end, by default the widest range.
func timeRange(r *http.Request) (start, end time.Time, res result) {
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return start, end, result{err: invalidParam(err, "start")}
	}
	end, err = parseTimeParam(r, "end", maxTime)
	if err != nil {
		return start, end, result{err: invalidParam(err, "end")}
	}
	return start, end, result{}
}

// parseMatchers parses match[] selectors, each needing a matcher that does
// not match the empty string.
func (p *promQL) parseMatchers(matchers []string) ([][]*labels.Matcher, error) {
	sets, err := p.parser.ParseMetricSelectors(matchers)
	if err != nil {
		return nil, err
	}
outer:
	for _, ms := range sets {
		for _, m := range ms {
			if m != nil && !m.Matches("") {
				continue outer
			}
		}
		return nil, errors.New("match[] must contain at least one non-empty matcher")
	}
	return sets, nil
}

// The default start and end of the label and series endpoints:
// Prometheus's MinTime and MaxTime.
var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()
)

func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time value for '%s': %w", name, err)
	}
	return t, nil
}

// parseTime parses Unix seconds (to the millisecond) or RFC 3339, as
// Prometheus.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		s, ns := math.Modf(t)
		ns = math.Round(ns*1000) / 1000
		return time.Unix(int64(s), int64(ns*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTime.Format(time.RFC3339Nano):
		return minTime, nil
	case maxTime.Format(time.RFC3339Nano):
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration parses seconds or a Prometheus duration (15s, 1h30m).
func parseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if math.IsNaN(ts) || ts >= float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errors.New("limit must be non-negative")
	}
	return n, nil
}

// hintLimit asks the storage for one more than limit, so that a truncation
// is noticed.
func hintLimit(limit int) int {
	if limit > 0 && limit < math.MaxInt {
		return limit + 1
	}
	return limit
}
