package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pdInstantTimes are the instant queries' times, as offsets from pdT0 in
// milliseconds (always at .500 s, see pdJitter): before the first 5
// minutes are full, mid-data, in pd_gappy_total's 12-minute gap, late, and
// after the last sample (within the lookback).
var pdInstantTimes = []int64{100_500, 1_023_500, 2_171_500, 4_187_500, 6_089_500, 7_387_500}

// pdRange is the range queries' start, end and step (ms from pdT0, ms):
// from the first minute to 6 minutes after the last sample, so that
// series end by lookback within it.
var pdRange = [3]int64{40_500, 7_600_500, 60_000}

// TestPromQLAgainstPrometheus is the differential test of this server's
// PromQL against a real Prometheus (Debian's prometheus 2.42, with
// promtool, on PATH): the same data (pdData) goes into this server with
// /api/put and into Prometheus with promtool tsdb create-blocks-from
// openmetrics; then every query of pdQueries is asked of both, as instant
// queries and as a range query, and every answer must be equal (see
// pdQueries for what is compared, and for what is kept off the
// differences between Prometheus 2.42 and 3). Without prometheus and
// promtool on PATH it skips; CI installs them and fails if it skips.
func TestPromQLAgainstPrometheus(t *testing.T) {
	data := pdData()
	prom := startPrometheus(t, data)
	srv := newServer(t)
	bodies, err := putBodies(data, 5000)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		if code, resp := post(t, srv, "", string(b)); code != 204 {
			t.Fatalf("put: %d %s", code, resp)
		}
	}
	checkCoverage(t)
	checkNonFiniteRefused(t, srv)

	// Both hold every sample, alike.
	all := pdForm(`{__name__=~"pd.+"}[4h]`, 3*3600_000+500)
	a := pdAsk(t, srv.URL(), "/api/v1/query", all, all.Get("query"), false, 0)
	b := pdAsk(t, prom, "/api/v1/query", all, all.Get("query"), true, 0)
	if diff := pdCompare(a, b, false); diff != "" {
		t.Fatalf("this server and Prometheus do not hold the same samples: %s", diff)
	}
	n := 0
	for _, s := range a.series {
		n += len(s.pts)
	}
	if n != pdCount(data) || len(a.series) != len(data) {
		t.Fatalf("this server and Prometheus hold %d samples of %d series, want %d of %d", n, len(a.series), pdCount(data), len(data))
	}
	t.Logf("this server and Prometheus at %s hold the same %d samples of %d series", prom, n, len(a.series))

	type tally struct{ queries, answers, series, points int }
	perFamily := map[string]*tally{}
	var families []string
	var total tally
	for _, pq := range pdQueries {
		ours := pdExpand(pq.q)
		theirs := pdPromQuery(ours)
		tl := perFamily[pq.family]
		if tl == nil {
			tl = &tally{}
			perFamily[pq.family] = tl
			families = append(families, pq.family)
		}
		tl.queries++
		nonEmpty, errs, asked := 0, 0, 0
		ask := func(path string, form url.Values, instant bool) {
			asked++
			a := pdAsk(t, srv.URL(), path, form, ours, false, pq.flags)
			f := pdCopy(form)
			f.Set("query", theirs)
			b := pdAsk(t, prom, path, f, theirs, true, pq.flags)
			what := fmt.Sprintf("%s %s", path, pdWhen(form))
			if diff := pdCompare(a, b, instant && pq.flags&pdOrdered != 0); diff != "" {
				t.Errorf("%s\n  %s: this server and Prometheus differ: %s\n  this server: %.1500s\n  Prometheus:  %.1500s", pq.q, what, diff, a.body, b.body)
				return
			}
			tl.answers++
			if a.errType != "" {
				errs++
				return
			}
			for _, s := range a.series {
				tl.series++
				tl.points += len(s.pts)
			}
			if len(a.series) > 0 {
				nonEmpty++
			}
		}
		for _, ms := range pdInstantTimes {
			ask("/api/v1/query", pdForm(ours, ms), true)
		}
		rf := url.Values{"query": {ours}, "start": {pdTime(pdRange[0])}, "end": {pdTime(pdRange[1])}, "step": {fmt.Sprint(pdRange[2] / 1000)}}
		ask("/api/v1/query_range", rf, false)
		switch {
		case pq.flags&pdError != 0 && errs != asked:
			t.Errorf("%s: %d of %d answers are errors, want all", pq.q, errs, asked)
		case pq.flags&pdEmpty != 0 && (nonEmpty != 0 || errs != 0):
			t.Errorf("%s: %d answers are not empty and %d are errors, want every answer empty", pq.q, nonEmpty, errs)
		case pq.flags&(pdError|pdEmpty) == 0 && nonEmpty == 0:
			t.Errorf("%s: every answer is empty or an error: the comparison shows nothing", pq.q)
		}
	}
	for _, f := range families {
		tl := perFamily[f]
		t.Logf("%-12s %3d queries, %4d answers equal: %5d series, %7d points", f, tl.queries, tl.answers, tl.series, tl.points)
		total.queries += tl.queries
		total.answers += tl.answers
		total.series += tl.series
		total.points += tl.points
	}
	if !t.Failed() {
		t.Logf("all %d answers to %d queries (%d families) equal Prometheus's: %d series, %d points", total.answers, total.queries, len(families), total.series, total.points)
	}
}

// checkCoverage fails t unless pdQueries has at least 100 queries and
// every family the issue names.
func checkCoverage(t *testing.T) {
	t.Helper()
	if len(pdQueries) < 100 {
		t.Errorf("%d queries, want at least 100", len(pdQueries))
	}
	have := map[string]int{}
	for _, q := range pdQueries {
		have[q.family]++
	}
	for _, f := range []string{"selector", "dotted", "rate", "over_time", "math", "nan_inf", "time", "label", "sort", "scalar", "absent", "histogram", "aggregation", "binary", "subquery", "offset_at"} {
		if have[f] == 0 {
			t.Errorf("no query of family %s", f)
		}
	}
}

// checkNonFiniteRefused shows why the data holds no NaN or ±Inf sample:
// /api/put refuses them, as OpenTSDB does, whichever way they are written.
func checkNonFiniteRefused(t *testing.T, srv *testServer) {
	t.Helper()
	for value, msg := range map[string]string{
		`"NaN"`:      "Unable to parse value to a number",
		`NaN`:        "Unable to parse value to a number", // Python's bare token
		`"Infinity"`: "Unable to parse value to a number",
		`-Infinity`:  "Unable to parse value to a number",
		`1e999`:      "value is NaN or Infinite: 1e999",
		`"-1.8e308"`: "value is NaN or Infinite: -1.8e308",
	} {
		body := `{"metric":"pd_nonfinite","timestamp":1700000000,"value":` + value + `,"tags":{"a":"b"}}`
		if code, resp := post(t, srv, "details", body); code != 400 || !strings.Contains(resp, msg) {
			t.Errorf("put of the value %s: %d %s, want 400 %q", value, code, resp, msg)
		}
	}
}

// startPrometheus writes data as OpenMetrics, makes TSDB blocks of it
// with promtool and serves them with prometheus on a free loopback port
// until the test ends; it returns the base URL. It skips t when either
// program is not on PATH.
func startPrometheus(t *testing.T, data []*pdSeries) string {
	t.Helper()
	bin, err1 := exec.LookPath("prometheus")
	tool, err2 := exec.LookPath("promtool")
	if err := errors.Join(err1, err2); err != nil {
		t.Skipf("Prometheus 2.42 (Debian's prometheus package: prometheus and promtool) is not installed: %v", err)
	}
	dir := t.TempDir()
	om := filepath.Join(dir, "data.om")
	f, err := os.Create(om)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(writeOpenMetrics(f, data), f.Close()); err != nil {
		t.Fatal(err)
	}
	tsdb := filepath.Join(dir, "tsdb")
	if out, err := exec.Command(tool, "tsdb", "create-blocks-from", "openmetrics", om, tsdb).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o644); err != nil { // no scrape configs
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(dir, "prometheus.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+tsdb,
		"--storage.tsdb.retention.time=100y", "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		logf.Close()
	})
	base := "http://" + addr
	tail := func() string { b, _ := os.ReadFile(logPath); return string(b[max(0, len(b)-3000):]) }
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited: %v\n%s", err, tail())
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s is not ready after 60 s\n%s", base, tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var info struct{ Data struct{ Version string } }
	if code, body := pdGet(t, base+"/api/v1/status/buildinfo"); code != 200 || json.Unmarshal([]byte(body), &info) != nil {
		t.Fatalf("prometheus buildinfo: %d %s", code, body)
	}
	if !strings.HasPrefix(info.Data.Version, "2.42.") {
		t.Fatalf("prometheus %s: this test is written for 2.42 (see pdQueries for the differences it keeps off)", info.Data.Version)
	}
	t.Logf("prometheus %s (pid %d) at %s", info.Data.Version, cmd.Process.Pid, base)
	return base
}

// pdTime formats pdT0 plus ms milliseconds as Unix seconds.
func pdTime(ms int64) string {
	t := pdT0*1000 + ms
	return fmt.Sprintf("%d.%03d", t/1000, t%1000)
}

// pdForm is an instant query's form at pdT0 plus ms (no time if ms < 0).
func pdForm(q string, ms int64) url.Values {
	f := url.Values{"query": {q}}
	if ms >= 0 {
		f.Set("time", pdTime(ms))
	}
	return f
}

func pdWhen(f url.Values) string {
	if f.Has("time") {
		return "at " + f.Get("time")
	}
	return fmt.Sprintf("from %s to %s every %ss", f.Get("start"), f.Get("end"), f.Get("step"))
}

func pdCopy(f url.Values) url.Values {
	c := url.Values{}
	for k, v := range f {
		c[k] = slices.Clone(v)
	}
	return c
}

var pdTimeRe = regexp.MustCompile(`\{T\+(\d+)\}`)

// pdExpand replaces {T+n} in q by pdT0+n.
func pdExpand(q string) string {
	return pdTimeRe.ReplaceAllStringFunc(q, func(m string) string {
		n, _ := strconv.ParseInt(pdTimeRe.FindStringSubmatch(m)[1], 10, 64)
		return strconv.FormatInt(pdT0+n, 10)
	})
}

// pdPromQuery is q as Prometheus 2.42 is asked it: pdDotted named
// pdDottedProm, and quoted metric names as __name__ matchers.
func pdPromQuery(q string) string {
	q = strings.ReplaceAll(q, `{"`+pdDotted+`"`, `{__name__="`+pdDotted+`"`)
	return strings.ReplaceAll(q, pdDotted, pdDottedProm)
}

func pdPost(t *testing.T, base, path string, form url.Values) (int, string) {
	t.Helper()
	code, body, _ := do(t, http.MethodPost, base+path, []byte(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	return code, body
}

func pdGet(t *testing.T, u string) (int, string) {
	t.Helper()
	code, body, _ := do(t, http.MethodGet, u, nil, nil)
	return code, body
}

// pdAnswer is an answer of the query API, decoded for comparison.
type pdAnswer struct {
	body    string
	code    int
	errType string // for an error
	typ     string // resultType
	series  []pdAnswerSeries
}

// pdAnswerSeries is a series of an answer (one point for a vector's
// sample; no labels for a scalar or a string).
type pdAnswerSeries struct {
	key string // the label set, sorted: {a="1",b="2"}
	pts []pdPoint
}

type pdPoint struct {
	ms int64
	v  float64
	s  string // a string result's value
}

// pdAsk asks base for path with form and decodes the answer. From
// Prometheus (prom), label values pdDottedProm read as pdDotted; with
// pdIgnoreName, __name__ is dropped.
func pdAsk(t *testing.T, base, path string, form url.Values, q string, prom bool, flags pdFlags) pdAnswer {
	t.Helper()
	code, body := pdPost(t, base, path, form)
	a := pdAnswer{body: body, code: code}
	var r struct {
		Status    string
		ErrorType string
		Data      struct {
			ResultType string
			Result     json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%s %s of %s: %d %s: %v", path, q, base, code, body, err)
	}
	if r.Status != "success" {
		a.errType = r.ErrorType
		if a.errType == "" {
			t.Fatalf("%s %s of %s: %d %s: neither success nor an errorType", path, q, base, code, body)
		}
		return a
	}
	a.typ = r.Data.ResultType
	label := func(m map[string]string) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			if k == metricName && flags&pdIgnoreName != 0 {
				continue
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			v := m[k]
			if prom && v == pdDottedProm {
				v = pdDotted
			}
			fmt.Fprintf(&b, "%s=%q", k, v)
		}
		b.WriteByte('}')
		return b.String()
	}
	var err error
	switch a.typ {
	case "vector":
		var res []struct {
			Metric map[string]string
			Value  [2]json.RawMessage
		}
		if err = json.Unmarshal(r.Data.Result, &res); err == nil {
			for _, s := range res {
				var p pdPoint
				if p, err = pdDecodePoint(s.Value); err != nil {
					break
				}
				a.series = append(a.series, pdAnswerSeries{key: label(s.Metric), pts: []pdPoint{p}})
			}
		}
	case "matrix":
		var res []struct {
			Metric map[string]string
			Values [][2]json.RawMessage
		}
		if err = json.Unmarshal(r.Data.Result, &res); err == nil {
			for _, s := range res {
				as := pdAnswerSeries{key: label(s.Metric)}
				for _, v := range s.Values {
					var p pdPoint
					if p, err = pdDecodePoint(v); err != nil {
						break
					}
					as.pts = append(as.pts, p)
				}
				a.series = append(a.series, as)
			}
		}
	case "scalar", "string":
		var v [2]json.RawMessage
		if err = json.Unmarshal(r.Data.Result, &v); err == nil {
			var p pdPoint
			if p, err = pdDecodePoint(v); err == nil {
				a.series = []pdAnswerSeries{{key: "", pts: []pdPoint{p}}}
			}
		}
	default:
		err = fmt.Errorf("unknown resultType %q", a.typ)
	}
	if err != nil {
		t.Fatalf("%s %s of %s: %s: %v", path, q, base, body, err)
	}
	return a
}

// pdDecodePoint decodes [seconds, "value"].
func pdDecodePoint(raw [2]json.RawMessage) (pdPoint, error) {
	sec, err := strconv.ParseFloat(string(raw[0]), 64)
	if err != nil {
		return pdPoint{}, fmt.Errorf("timestamp %s: %w", raw[0], err)
	}
	var s string
	if err := json.Unmarshal(raw[1], &s); err != nil {
		return pdPoint{}, fmt.Errorf("value %s: %w", raw[1], err)
	}
	p := pdPoint{ms: int64(math.Round(sec * 1000)), s: s}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		p.v, p.s = v, ""
	}
	return p, nil
}

// pdCompare describes how a and b differ (the first few differences), or
// returns "". Series are compared in order when ordered, else as sets.
func pdCompare(a, b pdAnswer, ordered bool) string {
	switch {
	case a.code != b.code:
		return fmt.Sprintf("status %d vs %d", a.code, b.code)
	case a.errType != b.errType:
		return fmt.Sprintf("errorType %q vs %q", a.errType, b.errType)
	case a.errType != "":
		return ""
	case a.typ != b.typ:
		return fmt.Sprintf("resultType %s vs %s", a.typ, b.typ)
	}
	var diffs []string
	as, bs := a.series, b.series
	if !ordered {
		byKey := func(x, y pdAnswerSeries) int { return strings.Compare(x.key, y.key) }
		as, bs = slices.SortedFunc(slices.Values(as), byKey), slices.SortedFunc(slices.Values(bs), byKey)
	}
	keys := func(ss []pdAnswerSeries) []string {
		var k []string
		for _, s := range ss {
			k = append(k, s.key)
		}
		return k
	}
	if ka, kb := keys(as), keys(bs); !slices.Equal(ka, kb) {
		return fmt.Sprintf("series %v vs %v", ka, kb)
	}
	for i := range as {
		pa, pb := as[i].pts, bs[i].pts
		j, k := 0, 0
		for j < len(pa) || k < len(pb) {
			switch {
			case k == len(pb) || (j < len(pa) && pa[j].ms < pb[k].ms):
				diffs = append(diffs, fmt.Sprintf("%s at %s only here", as[i].key, pdSeconds(pa[j].ms)))
				j++
			case j == len(pa) || pb[k].ms < pa[j].ms:
				diffs = append(diffs, fmt.Sprintf("%s at %s only in Prometheus", as[i].key, pdSeconds(pb[k].ms)))
				k++
			default:
				if !pdClose(pa[j].v, pb[k].v) || pa[j].s != pb[k].s {
					diffs = append(diffs, fmt.Sprintf("%s at %s: %v%s vs %v%s", as[i].key, pdSeconds(pa[j].ms), pa[j].v, pa[j].s, pb[k].v, pb[k].s))
				}
				j++
				k++
			}
		}
	}
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("… %d more", len(diffs)-5))
	}
	return strings.Join(diffs, "; ")
}

func pdSeconds(ms int64) string { return fmt.Sprintf("%d.%03d", ms/1000, ms%1000) }

// pdClose reports whether a and b are equal within 1e-9 relative,
// NaN equal to NaN.
func pdClose(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
