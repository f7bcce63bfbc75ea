package opentsdb

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit/internal/ql"
)

type queryResponse struct {
	Outputs []outputJSON `json:"outputs"`
	Hints   []string     `json:"hints"`
	Query   queryInfo    `json:"query"`
}

type queryInfo struct {
	QueryText string `json:"querytext"`
	StartTime int64  `json:"startTime"`
	EndTime   int64  `json:"endTime"`
}

type outputJSON struct {
	ID     string       `json:"id"`
	Result []resultJSON `json:"result"`
}

type resultJSON struct {
	Metric         string            `json:"metric"`
	Tags           map[string]string `json:"tags"`
	AggregatedTags []string          `json:"aggregatedTags"`
	Dps            dps               `json:"dps"`
}

// dps marshals as [[ts, v], …] with ts in Unix seconds and v always written
// as a float ("23050.0", as Apptuit does); NaN and ±Inf are written as null.
type dps []ql.Point

func (d dps) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(d)*24)
	b = append(b, '[')
	for i, p := range d {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, p.T, 10)
		b = append(b, ',')
		b = appendFloat(b, p.V)
		b = append(b, ']')
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

// ServeQuery answers GET /api/query: the Apptuit query language over st,
// with times relative to now (see the package documentation).
func ServeQuery(w http.ResponseWriter, r *http.Request, st ql.Store, now time.Time) {
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
	outs := ql.Eval(prog, st, start, end)
	resp := queryResponse{
		Outputs: make([]outputJSON, 0, len(outs)),
		Hints:   []string{},
		Query:   queryInfo{QueryText: text, StartTime: start, EndTime: end},
	}
	for _, o := range outs {
		oj := outputJSON{ID: o.ID, Result: make([]resultJSON, 0, len(o.Series))}
		for _, se := range o.Series {
			rj := resultJSON{Metric: se.Metric, Tags: se.Tags, AggregatedTags: se.AggregatedTags, Dps: dps(se.Points)}
			if rj.Tags == nil {
				rj.Tags = map[string]string{}
			}
			if rj.AggregatedTags == nil {
				rj.AggregatedTags = []string{}
			}
			if rj.Dps == nil {
				rj.Dps = dps{}
			}
			oj.Result = append(oj.Result, rj)
		}
		resp.Outputs = append(resp.Outputs, oj)
	}
	WriteJSON(w, http.StatusOK, resp)
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
