package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
	"github.com/apptuit-go/apptuit/internal/promql"
	"github.com/apptuit-go/apptuit/server/internal/store"
)

// The PromQL endpoints: Prometheus's paths, and Apptuit's under /prometheus.
var promqlPaths = []struct {
	path    string
	instant bool
}{
	{"/api/v1/query_range", false},
	{"/api/v1/query", true},
	{"/prometheus/api/v1/query_range", false},
	{"/prometheus/api/v1/query", true},
}

// Bounds of the PromQL endpoints.
const (
	// DefaultPromQLTimeout bounds the evaluation of one PromQL query; past
	// it the query gets 422 with errorType "execution".
	DefaultPromQLTimeout = 30 * time.Second
	// maxPromQLForm bounds a PromQL request's form body.
	maxPromQLForm = 1 << 20
)

// PromQLLimits bound what one PromQL query may cost; past a bound the
// query gets 422 with errorType "execution" naming it. A zero field takes
// its default.
type PromQLLimits struct {
	MaxSeries  int           // series one selector may match (default 10,000)
	MaxSamples int           // samples all the selectors of a query may read (default 5,000,000; 16 bytes each)
	MaxPoints  int           // points in an answer, all series (default 1,000,000)
	Timeout    time.Duration // evaluation time, including any wait for a slot (default DefaultPromQLTimeout, 30 s)
	// MaxConcurrent is how many queries are evaluated at once (default
	// DefaultPromQLConcurrency, 4); the others wait for a slot within
	// their Timeout.
	MaxConcurrent int
}

// DefaultPromQLConcurrency is how many PromQL queries are evaluated at
// once by default.
const DefaultPromQLConcurrency = 4

// WithPromQLLimits sets the bounds of the PromQL endpoints (see
// PromQLLimits); negative fields are invalid (Open fails). The memory a
// query may take is about 16 bytes per sample read plus 16 per point
// answered, so the defaults allow about 100 MB per query in flight, and
// 400 MB for the 4 evaluated at once.
func WithPromQLLimits(l PromQLLimits) Option { return func(c *config) { c.promql = l } }

func (l PromQLLimits) check() error {
	if l.MaxSeries < 0 || l.MaxSamples < 0 || l.MaxPoints < 0 || l.Timeout < 0 || l.MaxConcurrent < 0 {
		return fmt.Errorf("WithPromQLLimits(%+v): bounds must not be negative", l)
	}
	return nil
}

// promQL holds the PromQL endpoints' state: the limits, a slot per query
// being evaluated.
type promQL struct {
	lim   PromQLLimits
	slots chan struct{}
}

func newPromQL(l PromQLLimits) *promQL {
	if l.MaxConcurrent == 0 {
		l.MaxConcurrent = DefaultPromQLConcurrency
	}
	return &promQL{lim: l, slots: make(chan struct{}, l.MaxConcurrent)}
}

// promqlRoutes adds the PromQL endpoints to mux.
func (s *Server) promqlRoutes(mux *http.ServeMux) {
	for _, p := range promqlPaths {
		mux.HandleFunc(p.path, s.servePromQL(p.instant))
	}
}

// servePromQL answers Prometheus's query (instant) or query_range API from
// the store. Errors are Prometheus's: 400 bad_data for a bad parameter or
// query, 422 execution for a bound exceeded.
func (s *Server) servePromQL(instant bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			writePromError(w, http.StatusMethodNotAllowed, "bad_data", "method "+r.Method+" not allowed (use GET or POST)")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxPromQLForm)
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writePromError(w, http.StatusRequestEntityTooLarge, "bad_data", fmt.Sprintf("the form body is larger than %d bytes", mbe.Limit))
				return
			}
			writePromError(w, http.StatusBadRequest, "bad_data", "invalid form: "+err.Error())
			return
		}
		lim := s.promql.lim
		timeout := lim.Timeout
		if timeout == 0 {
			timeout = DefaultPromQLTimeout
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		select { // a free slot first, even when the timeout has passed
		case s.promql.slots <- struct{}{}:
		default:
			if !s.waitPromQLSlot(ctx, w) {
				return
			}
		}
		defer func() { <-s.promql.slots }()
		plim := promql.Limits{MaxSeries: lim.MaxSeries, MaxSamples: lim.MaxSamples, MaxPoints: lim.MaxPoints}
		st := promStorage{s.store}

		badData := func(msg string) { writePromError(w, http.StatusBadRequest, "bad_data", msg) }
		var eval func(promql.Expr) (*promql.Result, error)
		if instant {
			t := s.cfg.now().UnixMilli()
			if v := r.Form.Get("time"); v != "" {
				var err error
				if t, err = parsePromTime(v); err != nil {
					badData(`invalid parameter "time": ` + err.Error())
					return
				}
			}
			eval = func(e promql.Expr) (*promql.Result, error) { return promql.EvalInstant(ctx, st, e, t, plim) }
		} else {
			start, end, step, msg := parsePromRange(r)
			if msg != "" {
				badData(msg)
				return
			}
			eval = func(e promql.Expr) (*promql.Result, error) {
				return promql.EvalRange(ctx, st, e, start, end, step, plim)
			}
		}
		e, err := promql.Parse(r.Form.Get("query"))
		var res *promql.Result
		if err == nil {
			res, err = eval(e)
		}
		if err != nil {
			var pe *promql.Error // Parse's, or EvalRange's for a bad expression type
			if errors.As(err, &pe) {
				badData(`invalid parameter "query": ` + err.Error())
				return
			}
			writePromError(w, http.StatusUnprocessableEntity, "execution", err.Error())
			return
		}
		opentsdb.WriteRawJSON(w, http.StatusOK, res.AppendJSON(nil))
	}
}

// parsePromRange parses a range query's start, end and step, as
// Prometheus: Unix milliseconds and the step in milliseconds, or the
// message of the first bad parameter.
func parsePromRange(r *http.Request) (start, end, step int64, msg string) {
	var err error
	if start, err = parsePromTime(r.Form.Get("start")); err != nil {
		return 0, 0, 0, `invalid parameter "start": ` + err.Error()
	}
	if end, err = parsePromTime(r.Form.Get("end")); err != nil {
		return 0, 0, 0, `invalid parameter "end": ` + err.Error()
	}
	if end < start {
		return 0, 0, 0, "end timestamp must not be before start time"
	}
	d, err := parsePromDuration(r.Form.Get("step"))
	switch {
	case err != nil:
		return 0, 0, 0, `invalid parameter "step": ` + err.Error()
	case d <= 0:
		return 0, 0, 0, "zero or negative query resolution step widths are not accepted. Try a positive integer"
	case d < time.Millisecond:
		return 0, 0, 0, fmt.Sprintf("query resolution step %v is less than the 1ms resolution of timestamps", d)
	}
	// Prometheus: (end-start)/step > 11,000, in nanoseconds (floats here,
	// against overflow: end-start may exceed int64; exact for ranges below
	// 2⁵³ ns).
	if math.Floor((float64(end)-float64(start))*1e6/float64(d)) > promql.MaxStepsPerSeries {
		return 0, 0, 0, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
	}
	return start, end, int64(d / time.Millisecond), ""
}

// waitPromQLSlot waits for an evaluation slot, or answers the error of
// ctx's end or the server's closing and reports false.
func (s *Server) waitPromQLSlot(ctx context.Context, w http.ResponseWriter) bool {
	select {
	case s.promql.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		writePromError(w, http.StatusUnprocessableEntity, "execution", fmt.Sprintf("query evaluation stopped: waiting for one of the %d evaluation slots: %v", cap(s.promql.slots), ctx.Err()))
	case <-s.done:
		writePromError(w, http.StatusServiceUnavailable, "unavailable", "server closed")
	}
	return false
}

func writePromError(w http.ResponseWriter, status int, errorType, msg string) {
	opentsdb.WriteRawJSON(w, status, promql.AppendErrorJSON(nil, errorType, msg))
}

// parsePromTime parses a time as Prometheus's API: Unix seconds (to the
// millisecond) or RFC 3339. It returns Unix milliseconds.
func parsePromTime(s string) (int64, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(t)
		ms := sec*1000 + math.Round(frac*1000)
		if !(math.Abs(ms) <= 9_223_372_036_854_775_000) { // NaN too
			return 0, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		return int64(ms), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parsePromDuration parses a step as Prometheus's API: seconds (possibly
// fractional) or a duration like 15s or 1m30s.
func parsePromDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if ts >= float64(math.MaxInt64) || ts <= float64(math.MinInt64) || math.IsNaN(ts) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if ms, ok := promql.ParseDuration(s); ok {
		return time.Duration(ms) * time.Millisecond, nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// promStorage reads the store for the PromQL engine: the metric is
// __name__, the tags are the other labels.
type promStorage struct{ st *store.Store }

// Select copies the samples of the matching series in [minMs, maxMs]. With
// an = matcher on __name__ only that metric's series are visited; else
// every series is.
func (p promStorage) Select(ms []*promql.Matcher, minMs, maxMs int64, lim promql.Limits, n int) ([]promql.Series, error) {
	metric := ""
	for _, m := range ms {
		if m.Name == "__name__" && m.Type == promql.MatchEqual {
			if m.Value == "" {
				return nil, nil
			}
			metric = m.Value
		}
	}
	var out []promql.Series
	var err error
	p.st.Read(func(r store.Reader) {
		r.EachSeries(metric, func(metric string, tags map[string]string) bool {
			for _, m := range ms {
				v := metric
				if m.Name != "__name__" {
					v = tags[m.Name]
				}
				if !m.Matches(v) {
					return false
				}
			}
			return true
		}, func(v store.View) bool {
			var samples []promql.Sample
			v.Samples(minMs, maxMs, func(ms int64, val float64) bool {
				if n >= lim.MaxSamples {
					err = lim.TooManySamples()
					return false
				}
				n++
				samples = append(samples, promql.Sample{T: ms, V: val})
				return true
			})
			if err != nil {
				return false
			}
			if len(samples) == 0 {
				return true
			}
			if len(out) >= lim.MaxSeries {
				err = lim.TooManySeries(selectorString(ms))
				return false
			}
			out = append(out, promql.Series{Labels: promql.FromMap(v.Metric(), v.Tags()), Samples: samples})
			return true
		})
	})
	return out, err
}

func selectorString(ms []*promql.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ",") + "}"
}
