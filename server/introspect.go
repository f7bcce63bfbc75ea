package server

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/server/internal/store"
)

// The introspection endpoints: what the server holds and has received, for
// the web page of apptuit serve and for tools. They need the token like the
// rest of the API, are not recorded in the request log (a page that polls
// them would fill it) and take no injected fault (those are for the client
// under test).
const (
	introspectPrefix = "/apptuittest/"
	seriesPath       = introspectPrefix + "series"
	requestsPath     = introspectPrefix + "requests"
	authPath         = introspectPrefix + "auth"
)

// Bounds of the introspection endpoints' parameters.
const (
	DefaultSeriesLimit   = 100  // series per page of /apptuittest/series
	MaxSeriesLimit       = 5000 // most series per page
	DefaultRequestsLimit = 100  // records per answer of /apptuittest/requests
	MaxRequestsLimit     = 10000
	maxFilterBytes       = 1024
	maxFilterTerms       = 16
	maxTagValuesListed   = 10 // per tag key in a metric's summary
)

// jsonFloat is a float that encodes NaN and ±Inf as the strings "NaN",
// "+Inf" and "-Inf", as Prometheus does, since JSON has no such numbers.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

type seriesPage struct {
	Points       int             `json:"points"`       // stored, in all
	SeriesTotal  int             `json:"seriesTotal"`  // stored, in all
	MetricsTotal int             `json:"metricsTotal"` // stored, in all
	Matched      matchCounts     `json:"matched"`      // of those, matching the filter
	Offset       int             `json:"offset"`
	Limit        int             `json:"limit"`
	Metrics      []metricSummary `json:"metrics"` // summaries of the metrics on this page
	Series       []seriesEntry   `json:"series"`
}

type matchCounts struct {
	Series  int `json:"series"`
	Metrics int `json:"metrics"`
}

type metricSummary struct {
	Metric        string              `json:"metric"`
	Series        int                 `json:"series"` // matching the filter
	Points        int                 `json:"points"`
	Last          int64               `json:"last"`                    // Unix ms of the newest point
	Tags          map[string][]string `json:"tags"`                    // tag key -> values (in natural order, at most 10)
	TagsTruncated map[string]bool     `json:"tagsTruncated,omitempty"` // keys with more values than listed
}

type seriesEntry struct {
	Metric    string            `json:"metric"`
	Tags      map[string]string `json:"tags"`
	Points    int               `json:"points"`
	First     int64             `json:"first"` // Unix ms
	Last      int64             `json:"last"`  // Unix ms
	LastValue jsonFloat         `json:"lastValue"`
}

// authAnswer says whether the server needs a token and whether the
// request carried it.
type authAnswer struct {
	Required bool `json:"required"`
	Valid    bool `json:"valid"`
}

// serveIntrospect answers the endpoints under /apptuittest/. GET
// /apptuittest/auth needs no token: it tells a page whether it needs one,
// and whether the one it sent is right, without a 401.
func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == authPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Cache-Control", "no-store")
		opentsdb.WriteJSON(w, http.StatusOK, authAnswer{Required: s.cfg.token != "", Valid: opentsdb.Authorized(r, s.cfg.token)})
		return
	}
	if !opentsdb.Authorized(r, s.cfg.token) {
		opentsdb.WriteUnauthorized(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		opentsdb.WriteError(w, http.StatusMethodNotAllowed, "Method not allowed: "+r.Method+" (use GET)")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case seriesPath:
		s.serveSeries(w, r)
	case requestsPath:
		s.serveRequests(w, r)
	default:
		opentsdb.WriteError(w, http.StatusNotFound, "Endpoint not found: "+opentsdb.Cut(r.URL.Path, 200)+" (the introspection endpoints are "+seriesPath+", "+requestsPath+" and "+authPath+")")
	}
}

// intParam reads the integer parameter name, def when absent, and checks
// it against [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int) (int, string) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, "Invalid " + name + " " + strconv.Quote(opentsdb.Cut(v, 40)) + ": must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)
	}
	return n, ""
}

func boolParam(r *http.Request, name string) (bool, string) {
	switch v := r.URL.Query().Get(name); v {
	case "", "0", "false":
		return false, ""
	case "1", "true":
		return true, ""
	default:
		return false, "Invalid " + name + " " + strconv.Quote(opentsdb.Cut(v, 40)) + ": must be 1, true, 0 or false"
	}
}

// seriesFilter is the text filter of /apptuittest/series: terms separated
// by spaces, all of which must be found, case-insensitively, in the metric
// name or in one of the series' tags written as key=value.
type seriesFilter []string

func parseFilter(q string) (seriesFilter, string) {
	if len(q) > maxFilterBytes {
		return nil, "Invalid q: " + strconv.Itoa(len(q)) + " bytes, at most " + strconv.Itoa(maxFilterBytes)
	}
	if !utf8.ValidString(q) {
		return nil, "Invalid q: not UTF-8"
	}
	terms := strings.Fields(q)
	if len(terms) > maxFilterTerms {
		return nil, "Invalid q: " + strconv.Itoa(len(terms)) + " terms, at most " + strconv.Itoa(maxFilterTerms)
	}
	return terms, ""
}

func (f seriesFilter) match(metric string, tags store.Tags) bool {
	for _, term := range f {
		if !termMatches(term, metric, tags) {
			return false
		}
	}
	return true
}

func termMatches(term, metric string, tags store.Tags) bool {
	if containsFold(metric, term) {
		return true
	}
	tk, tv, eq := strings.Cut(term, "=")
	for k, v := range tags.All() {
		if eq {
			// Within "k=v" across the '=': a suffix of k and a prefix of v.
			if hasSuffixFold(k, tk) && hasPrefixFold(v, tv) {
				return true
			}
		} else if containsFold(k, term) || containsFold(v, term) {
			return true
		}
	}
	return false
}

func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }
func hasSuffixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[len(s)-len(p):], p)
}

// serveSeries answers GET /apptuittest/series?q=&offset=&limit=: the
// series stored, in the order of order.go (the user's metrics before the
// meta metrics, names and tag values in natural order), that match the filter q,
// a page of them, with a summary of each metric on the page. Its cost is
// one pass over the series under the store's read lock (a filter match per
// series), a sort of the metric names, and a sort of the series of the
// metrics on the page; it copies only the page.
func (s *Server) serveSeries(w http.ResponseWriter, r *http.Request) {
	filter, msg := parseFilter(r.URL.Query().Get("q"))
	if msg != "" {
		opentsdb.WriteError(w, http.StatusBadRequest, msg)
		return
	}
	limit, msg := intParam(r, "limit", DefaultSeriesLimit, 1, MaxSeriesLimit)
	if msg == "" {
		var off int
		off, msg = intParam(r, "offset", 0, 0, math.MaxInt32)
		if msg == "" {
			opentsdb.WriteJSON(w, http.StatusOK, s.seriesPage(filter, off, limit))
			return
		}
	}
	opentsdb.WriteError(w, http.StatusBadRequest, msg)
}

func (s *Server) seriesPage(filter seriesFilter, offset, limit int) seriesPage {
	page := seriesPage{Offset: offset, Limit: limit, Metrics: []metricSummary{}, Series: []seriesEntry{}}
	var match func(string, store.Tags) bool
	if len(filter) > 0 {
		match = filter.match
	}
	s.store.Read(func(rd store.Reader) {
		page.Points, page.SeriesTotal = rd.Counts()
		var names []string
		rd.Metrics(func(m string, _ int) bool { names = append(names, m); return true })
		page.MetricsTotal = len(names)
		slices.SortFunc(names, compareMetrics)
		var buf []store.View
		end := offset + limit
		for _, m := range names {
			buf = buf[:0]
			rd.EachSeries(m, match, func(v store.View) bool { buf = append(buf, v); return true })
			if len(buf) == 0 {
				continue
			}
			first := page.Matched.Series
			page.Matched.Series += len(buf)
			page.Matched.Metrics++
			if page.Matched.Series <= offset || first >= end {
				continue
			}
			slices.SortFunc(buf, func(a, b store.View) int { return compareTags(a.Tags(), b.Tags()) })
			page.Metrics = append(page.Metrics, summarize(m, buf))
			lo, hi := max(offset-first, 0), min(end-first, len(buf))
			for _, v := range buf[lo:hi] {
				ms, val := v.Last()
				tags := v.Tags().Map()
				page.Series = append(page.Series, seriesEntry{
					Metric: m, Tags: tags, Points: v.Len(), First: v.First(), Last: ms, LastValue: jsonFloat(val),
				})
			}
		}
	})
	return page
}

// summarize is the summary of metric over its matching series.
func summarize(metric string, views []store.View) metricSummary {
	m := metricSummary{Metric: metric, Series: len(views), Tags: map[string][]string{}, Last: math.MinInt64}
	values := map[string]map[string]bool{}
	for _, v := range views {
		m.Points += v.Len()
		if ms, _ := v.Last(); ms > m.Last {
			m.Last = ms
		}
		for k, tv := range v.Tags().All() {
			set := values[k]
			if set == nil {
				set = map[string]bool{}
				values[k] = set
			}
			if len(set) <= maxTagValuesListed {
				set[tv] = true
			}
		}
	}
	for k, set := range values {
		list := make([]string, 0, len(set))
		for tv := range set {
			list = append(list, tv)
		}
		slices.SortFunc(list, naturalCompare)
		if len(list) > maxTagValuesListed {
			list = list[:maxTagValuesListed]
			if m.TagsTruncated == nil {
				m.TagsTruncated = map[string]bool{}
			}
			m.TagsTruncated[k] = true
		}
		m.Tags[k] = list
	}
	return m
}

type requestsAnswer struct {
	Total    uint64        `json:"total"`    // requests received (the log keeps the newest)
	Capacity int           `json:"capacity"` // records the log keeps
	Requests []requestJSON `json:"requests"` // newest first
}

type requestJSON struct {
	Time       string   `json:"time"` // RFC 3339, UTC, with nanoseconds
	Method     string   `json:"method"`
	Path       string   `json:"path"`
	Query      string   `json:"query,omitempty"`
	Status     int      `json:"status"`
	Accepted   int      `json:"accepted"`
	Failed     int      `json:"failed"`
	Evicted    int      `json:"evicted"`
	BodySize   int64    `json:"bodySize"`
	DurationMs float64  `json:"durationMs"`
	UserAgent  string   `json:"userAgent,omitempty"`
	Page       bool     `json:"page"` // sent by the web page (header X-Apptuit-Client: web-page)
	Errors     []string `json:"errors"`
}

// PageClientHeader is the header, with the value "web-page", by which the
// web page of apptuit serve marks its own requests, so that the request
// log can leave them out (/apptuittest/requests?exclude_page=1).
const PageClientHeader = "X-Apptuit-Client"

func fromPage(r *Request) bool { return r.Header.Get(PageClientHeader) == "web-page" }

// serveRequests answers GET /apptuittest/requests?limit=&failures=&exclude_page=:
// the newest records of the request log first, at most limit, only the
// failed ones (status 0 or ≥ 400, or a point rejected) with failures=1, and
// without the web page's own with exclude_page=1. Its cost is a copy of the
// log (at most WithRequestLogSize records).
func (s *Server) serveRequests(w http.ResponseWriter, r *http.Request) {
	limit, msg := intParam(r, "limit", DefaultRequestsLimit, 1, MaxRequestsLimit)
	failures, msg2 := boolParam(r, "failures")
	excludePage, msg3 := boolParam(r, "exclude_page")
	for _, m := range []string{msg, msg2, msg3} {
		if m != "" {
			opentsdb.WriteError(w, http.StatusBadRequest, m)
			return
		}
	}
	log := s.reqs.Snapshot()
	ans := requestsAnswer{Total: s.reqs.Count(), Capacity: s.reqs.Cap(), Requests: []requestJSON{}}
	for i := len(log) - 1; i >= 0 && len(ans.Requests) < limit; i-- {
		rec := &log[i]
		if failures && !(rec.Status == 0 || rec.Status >= 400 || rec.Failed > 0) {
			continue
		}
		if excludePage && fromPage(rec) {
			continue
		}
		errs := rec.Errors
		if errs == nil {
			errs = []string{}
		}
		ans.Requests = append(ans.Requests, requestJSON{
			Time: rec.Time.UTC().Format(time.RFC3339Nano), Method: rec.Method, Path: rec.Path, Query: rec.RawQuery,
			Status: rec.Status, Accepted: rec.Accepted, Failed: rec.Failed, Evicted: rec.Evicted,
			BodySize: rec.BodySize, DurationMs: float64(rec.Duration.Microseconds()) / 1000,
			UserAgent: rec.Header.Get("User-Agent"), Page: fromPage(rec), Errors: errs,
		})
	}
	opentsdb.WriteJSON(w, http.StatusOK, ans)
}
