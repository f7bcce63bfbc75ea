package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vmAgreeQueries are queries whose answers PromQL and MetricsQL agree on,
// for the data of TestPromQLAgainstVictoriaMetrics ({P} is the run's
// metric prefix).
//
// rate, increase and delta are taken only on lin_total, a counter that
// grows linearly: Prometheus extrapolates the increase between the
// window's first and last samples to the window's edges, MetricsQL takes
// the increase from the last sample before the window (no extrapolation),
// and the two agree only when the series is a straight line. On other
// data they differ by design (ours is Prometheus's engine itself).
//
// Queries marked with a leading "~" are compared without VictoriaMetrics'
// __name__: MetricsQL keeps the metric name through avg_over_time,
// min_over_time, max_over_time and round, where Prometheus (and so this
// server) drops it; values and the other labels must still agree.
var vmAgreeQueries = []string{
	`{P}temp`,
	`{P}temp{room!="a"}`,
	`{__name__=~"{P}temp2?", room=~"a|c"}`,
	`{__name__="{P}orders.count"}`,
	`{__name__="{P}orders.count", region!~"e.*"} * 2`,
	`{P}temp - {P}temp2`,
	`{P}temp > 10`,
	`{P}temp > bool 10`,
	`2 * {P}temp + 1 - {P}temp2 / 4`,
	`-{P}temp ^ 2 % 7`,
	`sum({P}temp)`,
	`avg by (job) ({P}reqs_total)`,
	`min without (code) ({P}reqs_total)`,
	`max by (room) ({P}temp)`,
	`count by (code) ({P}reqs_total)`,
	`topk(2, {P}temp)`,
	`bottomk(1, {P}temp)`,
	`irate({P}reqs_total[1m])`,
	`idelta({P}temp[2m])`,
	`rate({P}lin_total[1m])`,
	`increase({P}lin_total[5m])`,
	`delta({P}lin_total[2m])`,
	`sum by (job) (rate({P}lin_total[2m]))`,
	`~avg_over_time({P}temp[2m])`,
	`sum_over_time({P}temp[1m])`,
	`~min_over_time({P}temp[5m])`,
	`~max_over_time({P}temp[5m] offset 1m)`,
	`count_over_time({P}reqs_total[2m])`,
	`last_over_time({P}temp[1m])`,
	`{P}temp offset 5m`,
	`histogram_quantile(0.9, sum by (le) (rate({P}lat_bucket[5m])))`,
	`histogram_quantile(0.5, {P}lat_bucket)`,
	`abs({P}temp - 12)`,
	`ceil({P}temp2 / 3) + floor({P}temp / 3)`,
	`~round({P}temp)`,
	`scalar(sum({P}temp)) - {P}temp`,
}

// TestPromQLAgainstVictoriaMetrics loads the same points into the fake and
// into a VictoriaMetrics (APPTUIT_TEST_VM_HTTP, its query API, and
// APPTUIT_TEST_VM_OPENTSDB, its OpenTSDB HTTP put listener), then compares
// the answers of range queries on which PromQL and MetricsQL agree: the
// same series (labels) with the same points, values within 1e-9
// (relative).
func TestPromQLAgainstVictoriaMetrics(t *testing.T) {
	vmHTTP, vmPut := os.Getenv("APPTUIT_TEST_VM_HTTP"), os.Getenv("APPTUIT_TEST_VM_OPENTSDB")
	if vmHTTP == "" || vmPut == "" {
		t.Skip("APPTUIT_TEST_VM_HTTP and APPTUIT_TEST_VM_OPENTSDB are not set")
	}
	srv := newServer(t)
	// A prefix per run, so that reruns against the same VictoriaMetrics
	// do not see each other's points.
	prefix := fmt.Sprintf("apt%x_", time.Now().UnixNano())
	// Three hours back, on the hour: past VictoriaMetrics' caches of recent
	// data, within any retention. Samples every 15 s for 30 minutes.
	base := time.Now().Truncate(time.Hour).Add(-3 * time.Hour).Unix()
	const samples = 121
	type point struct {
		Metric    string            `json:"metric"`
		Timestamp int64             `json:"timestamp"`
		Value     float64           `json:"value"`
		Tags      map[string]string `json:"tags"`
	}
	var pts []point
	series := 0
	add := func(metric string, tags map[string]string, f func(i int) float64) {
		series++
		for i := range samples {
			pts = append(pts, point{prefix + metric, (base + 15*int64(i)) * 1000, f(i), tags})
		}
	}
	for j, room := range []string{"a", "b", "c"} {
		// distinct fractions per room: no ties for topk
		add("temp", map[string]string{"room": room}, func(i int) float64 { return float64((i*7+j*13)%23) + 0.1*float64(j+1) })
		add("temp2", map[string]string{"room": room}, func(i int) float64 { return float64((i*5+j*3)%17) + 0.05 })
	}
	for j, job := range []string{"api", "web"} {
		add("lin_total", map[string]string{"job": job}, func(i int) float64 { return float64(i * (3 + 2*j)) })
		for k, code := range []string{"200", "500"} {
			// a counter with resets every 40 samples
			add("reqs_total", map[string]string{"job": job, "code": code}, func(i int) float64 { return float64((i%40)*(i%40+j+k) + j) })
		}
	}
	for j, le := range []string{"0.1", "0.5", "1", "+Inf"} {
		slope := []float64{2, 5, 7, 8}[j]
		add("lat_bucket", map[string]string{"job": "api", "le": le}, func(i int) float64 { return slope * float64(i) })
	}
	for j, region := range []string{"eu", "us"} {
		add("orders.count", map[string]string{"region": region}, func(i int) float64 { return float64(i%9+j) * 1.5 })
	}

	body, err := json.Marshal(pts)
	if err != nil {
		t.Fatal(err)
	}
	if code, resp := post(t, srv, "", string(body)); code != 204 {
		t.Fatalf("put to the fake: %d %s", code, resp)
	}
	if code, b, _ := do(t, http.MethodPost, strings.TrimSuffix(vmPut, "/")+"/api/put", body, map[string]string{"Content-Type": "application/json"}); code/100 != 2 {
		t.Fatalf("put to VictoriaMetrics: %d %s", code, b)
	}

	vmQuery := func(q string, start, end int64, step int) (int, []byte) {
		form := url.Values{"query": {q}, "start": {fmt.Sprint(start)}, "end": {fmt.Sprint(end)}, "step": {fmt.Sprint(step)}, "nocache": {"1"}}
		code, b, _ := do(t, http.MethodGet, strings.TrimSuffix(vmHTTP, "/")+"/api/v1/query_range?"+form.Encode(), nil, nil)
		return code, []byte(b)
	}

	// Wait until VictoriaMetrics has every point.
	countQ := fmt.Sprintf(`sum(count_over_time({__name__=~"%s.*"}[31m]))`, prefix)
	want := fmt.Sprintf(`"%d"`, len(pts))
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, b := vmQuery(countQ, base+30*60, base+30*60, 60)
		if code == 200 && bytes.Contains(b, []byte(want)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("VictoriaMetrics at %s does not show the %d points of %d series after 30 s: %d %s", vmHTTP, len(pts), series, code, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("VictoriaMetrics at %s holds the %d points of %d series under %s", vmHTTP, len(pts), series, prefix)

	// Windows reach back at most 6 minutes (5m plus an offset of 1m);
	// steps end within the data, where the 5-minute lookback of Prometheus
	// and VictoriaMetrics' staleness heuristics see the same last sample.
	start, end, step := base+6*60, base+29*60, 60
	for _, tmpl := range vmAgreeQueries {
		tmpl, vmKeepsName := strings.CutPrefix(tmpl, "~")
		q := strings.ReplaceAll(tmpl, "{P}", prefix)
		code, ours, _ := promDo(t, srv, http.MethodPost, "/api/v1/query_range", rangeForm(q, fmt.Sprint(start), fmt.Sprint(end), fmt.Sprint(step)), nil)
		if code != 200 {
			t.Errorf("%s: the fake answers %d %s", tmpl, code, ours)
			continue
		}
		vcode, theirs := vmQuery(q, start, end, step)
		if vcode != 200 {
			t.Errorf("%s: VictoriaMetrics answers %d %s", tmpl, vcode, theirs)
			continue
		}
		a, err := decodeMatrix([]byte(ours))
		if err != nil {
			t.Fatalf("%s: the fake: %v", tmpl, err)
		}
		if vmKeepsName {
			theirs = dropNameRe.ReplaceAll(theirs, nil)
		}
		v, err := decodeMatrix(theirs)
		if err != nil {
			t.Fatalf("%s: VictoriaMetrics: %v", tmpl, err)
		}
		if diff := compareMatrices(a, v); diff != "" {
			t.Errorf("%s: the fake and VictoriaMetrics differ: %s\nfake: %.2000s\nVM:   %.2000s", tmpl, diff, ours, theirs)
			continue
		}
		n := 0
		for _, s := range a {
			n += len(s)
		}
		if n == 0 {
			t.Errorf("%s: no points: the comparison shows nothing", tmpl)
		}
		t.Logf("agree: %-60s %d series, %d points", tmpl, len(a), n)
	}
}

// dropNameRe matches the __name__ label of an answer's series (metric
// names here are plain: no quotes or backslashes).
var dropNameRe = regexp.MustCompile(`"__name__":"[^"\\]*",?`)

// decodeMatrix reads a matrix answer as label set → timestamp (ms) → value.
func decodeMatrix(b []byte) (map[string]map[int64]float64, error) {
	var r struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Values [][2]any
			}
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.Status != "success" || r.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("status %q, resultType %q", r.Status, r.Data.ResultType)
	}
	out := map[string]map[int64]float64{}
	for _, s := range r.Data.Result {
		keys := make([]string, 0, len(s.Metric))
		for k, v := range s.Metric {
			keys = append(keys, k+"="+strconv.Quote(v))
		}
		sort.Strings(keys)
		key := "{" + strings.Join(keys, ",") + "}"
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("series %s twice", key)
		}
		pts := map[int64]float64{}
		for _, p := range s.Values {
			ts, _ := p[0].(float64)
			vs, _ := p[1].(string)
			v, err := strconv.ParseFloat(vs, 64)
			if err != nil {
				return nil, fmt.Errorf("series %s: value %v: %v", key, p[1], err)
			}
			pts[int64(math.Round(ts*1000))] = v
		}
		out[key] = pts
	}
	return out, nil
}

// compareMatrices describes the first differences between a and b, or
// returns "".
func compareMatrices(a, b map[string]map[int64]float64) string {
	var diffs []string
	for k, pa := range a {
		pb, ok := b[k]
		if !ok {
			diffs = append(diffs, "series "+k+" only in the fake")
			continue
		}
		for ts, va := range pa {
			vb, ok := pb[ts]
			switch {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("%s at %d only in the fake", k, ts/1000))
			case !closeEnough(va, vb):
				diffs = append(diffs, fmt.Sprintf("%s at %d: %v vs %v", k, ts/1000, va, vb))
			}
		}
		for ts := range pb {
			if _, ok := pa[ts]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s at %d only in VictoriaMetrics", k, ts/1000))
			}
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, "series "+k+" only in VictoriaMetrics")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("… %d more", len(diffs)-5))
	}
	return strings.Join(diffs, "; ")
}

func closeEnough(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	d := math.Abs(a - b)
	return d <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) || d < 1e-12
}
