package apptuittest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// seed stores the data the query tests run on: cpu for hosts a, b (dc x)
// and c (dc y), and a mem series.
func seed(t *testing.T, srv *Server) {
	t.Helper()
	var pts []string
	add := func(metric, tags string, tv ...float64) {
		for i := 0; i < len(tv); i += 2 {
			pts = append(pts, fmt.Sprintf(`{"metric":%q,"timestamp":%d,"value":%v,"tags":%s}`, metric, int64(tv[i]), tv[i+1], tags))
		}
	}
	add("cpu", `{"host":"a","dc":"x"}`, 1000, 1, 1010, 3, 1020, 2, 1030, 8, 1050, 4, 1085, 10)
	add("cpu", `{"host":"b","dc":"x"}`, 1000, 10, 1020, 20, 1040, 30)
	add("cpu", `{"host":"c","dc":"y"}`, 1010, 5)
	add("mem", `{"host":"a"}`, 1000, 1.5, 1000, 2.5) // same second twice: the later wins
	add("ms", `{"host":"a"}`, 1500000000000, 1)
	pts = append(pts, `{"metric":"ms","timestamp":1500000000999,"value":7,"tags":{"host":"a"}}`)
	if code, resp := post(t, srv, "", "["+strings.Join(pts, ",")+"]"); code != 204 {
		t.Fatalf("seed: %d %s", code, resp)
	}
}

func query(t *testing.T, srv *Server, params string) (int, string) {
	t.Helper()
	code, body, _ := do(t, "GET", srv.URL()+"/api/query?"+params, nil, nil)
	return code, body
}

func q(start, end int64, text string) string {
	return fmt.Sprintf("start=%d&end=%d&q=%s", start, end, url.QueryEscape(text))
}

// outputsOf returns the raw "outputs" member of a query response.
func outputsOf(t *testing.T, body string) string {
	t.Helper()
	var r struct{ Outputs json.RawMessage }
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return string(r.Outputs)
}

const (
	serA = `{"metric":"cpu","tags":{"dc":"x","host":"a"},"aggregatedTags":[],"dps":`
	serB = `{"metric":"cpu","tags":{"dc":"x","host":"b"},"aggregatedTags":[],"dps":`
	serC = `{"metric":"cpu","tags":{"dc":"y","host":"c"},"aggregatedTags":[],"dps":`
)

func TestQueryFunctions(t *testing.T) {
	srv := newServer(t)
	seed(t, srv)
	tests := []struct {
		name, q    string
		start, end int64
		outputs    string
	}{
		{"fetch", "fetch('cpu')", 0, 2000, `[{"id":"cpu","result":[` +
			serA + `[[1000,1.0],[1010,3.0],[1020,2.0],[1030,8.0],[1050,4.0],[1085,10.0]]},` +
			serB + `[[1000,10.0],[1020,20.0],[1040,30.0]]},` +
			serC + `[[1010,5.0]]}]}]`},
		{"range inclusive", "fetch('cpu')", 1010, 1030, `[{"id":"cpu","result":[` +
			serA + `[[1010,3.0],[1020,2.0],[1030,8.0]]},` + serB + `[[1020,20.0]]},` + serC + `[[1010,5.0]]}]}]`},
		{"no data", "fetch('nope')", 0, 2000, `[{"id":"nope","result":[]}]`},
		{"tag filter", `fetch("cpu", {"host": "a"})`, 0, 1020, `[{"id":"cpu","result":[` + serA + `[[1000,1.0],[1010,3.0],[1020,2.0]]}]}]`},
		{"alternatives", "fetch('cpu', {'host': 'b|c'})", 0, 2000, `[{"id":"cpu","result":[` + serB + `[[1000,10.0],[1020,20.0],[1040,30.0]]},` + serC + `[[1010,5.0]]}]}]`},
		{"star", "fetch('cpu', {'dc': '*', 'host': 'c'})", 0, 2000, `[{"id":"cpu","result":[` + serC + `[[1010,5.0]]}]}]`},
		{"star needs tag", "fetch('cpu', {'rack': '*'})", 0, 2000, `[{"id":"cpu","result":[]}]`},
		{"downsample avg", "fetch('cpu', {'host': 'a'}).downsample('1m', 'avg')", 0, 2000, `[{"id":"cpu","result":[` + serA + `[[960,2.0],[1020,4.666666666666667],[1080,10.0]]}]}]`},
		{"downsample sum", "fetch('cpu', {'host': 'a'}).downsample('1m', 'sum')", 0, 2000, `[{"id":"cpu","result":[` + serA + `[[960,4.0],[1020,14.0],[1080,10.0]]}]}]`},
		{"downsample min", "fetch('cpu', {'host': 'a'}).downsample('30s', 'min')", 0, 2000, `[{"id":"cpu","result":[` + serA + `[[990,1.0],[1020,2.0],[1050,4.0],[1080,10.0]]}]}]`},
		{"downsample max", "fetch('cpu', {'host': 'a'}).downsample('30s', 'max')", 0, 2000, `[{"id":"cpu","result":[` + serA + `[[990,3.0],[1020,8.0],[1050,4.0],[1080,10.0]]}]}]`},
		{"downsample count", "fetch('cpu').downsample('1h', 'count')", 0, 2000, `[{"id":"cpu","result":[` + serA + `[[0,6.0]]},` + serB + `[[0,3.0]]},` + serC + `[[0,1.0]]}]}]`},
		{"downsample 1d", "fetch('cpu', {'host': 'b'}).downsample('1d', 'sum')", 0, 2000, `[{"id":"cpu","result":[` + serB + `[[0,60.0]]}]}]`},
		{"rate", "fetch('cpu', {'host': 'a'}).rate()", 0, 2000, `[{"id":"cpu","result":[` + serA + `[[1010,0.2],[1030,0.6],[1085,0.17142857142857143]]}]}]`},
		{"series_sum", "fetch('cpu').series_sum()", 0, 2000, `[{"id":"cpu","result":[{"metric":"cpu","tags":{},"aggregatedTags":["dc","host"],"dps":[[1000,11.0],[1010,8.0],[1020,22.0],[1030,8.0],[1040,30.0],[1050,4.0],[1085,10.0]]}]}]`},
		{"series_avg", "fetch('cpu').series_avg()", 0, 2000, `[{"id":"cpu","result":[{"metric":"cpu","tags":{},"aggregatedTags":["dc","host"],"dps":[[1000,5.5],[1010,4.0],[1020,11.0],[1030,8.0],[1040,30.0],[1050,4.0],[1085,10.0]]}]}]`},
		{"series_min", "fetch('cpu', {'dc': 'x'}).series_min()", 0, 1020, `[{"id":"cpu","result":[{"metric":"cpu","tags":{"dc":"x"},"aggregatedTags":["host"],"dps":[[1000,1.0],[1010,3.0],[1020,2.0]]}]}]`},
		{"series_max", "fetch('cpu', {'dc': 'x'}).series_max()", 0, 1020, `[{"id":"cpu","result":[{"metric":"cpu","tags":{"dc":"x"},"aggregatedTags":["host"],"dps":[[1000,10.0],[1010,3.0],[1020,20.0]]}]}]`},
		{"div", "fetch('cpu', {'host': 'c'}).div(4)", 0, 2000, `[{"id":"cpu","result":[` + serC + `[[1010,1.25]]}]}]`},
		{"mul", "fetch('cpu', {'host': 'c'}).mul(-2)", 0, 2000, `[{"id":"cpu","result":[` + serC + `[[1010,-10.0]]}]}]`},
		{"add", "fetch('cpu', {'host': 'c'}).add(0.5)", 0, 2000, `[{"id":"cpu","result":[` + serC + `[[1010,5.5]]}]}]`},
		{"sub", "fetch('cpu', {'host': 'c'}).sub(1e-7)", 0, 2000, `[{"id":"cpu","result":[` + serC + `[[1010,4.9999999]]}]}]`},
		{"tiny and huge", "a = fetch('cpu', {'host': 'c'}).mul(1e-10); b = fetch('cpu', {'host': 'c'}).mul(1e30)", 0, 2000,
			`[{"id":"a","result":[` + serC + `[[1010,5e-10]]}]},{"id":"b","result":[` + serC + `[[1010,5e+30]]}]}]`},
		{"same second later wins", "fetch('mem')", 0, 2000, `[{"id":"mem","result":[{"metric":"mem","tags":{"host":"a"},"aggregatedTags":[],"dps":[[1000,2.5]]}]}]`},
		{"ms truncated to seconds", "fetch('ms')", 1500000000, 1500000000, `[{"id":"ms","result":[{"metric":"ms","tags":{"host":"a"},"aggregatedTags":[],"dps":[[1500000000,7.0]]}]}]`},
		{"ids and output", "cpu=fetch('cpu', {'host': 'c'});\nm = fetch('mem')\nfetch('cpu', {'host': 'c'}).add(1)", 0, 2000,
			`[{"id":"cpu","result":[` + serC + `[[1010,5.0]]}]},{"id":"m","result":[{"metric":"mem","tags":{"host":"a"},"aggregatedTags":[],"dps":[[1000,2.5]]}]},{"id":"cpu","result":[` + serC + `[[1010,6.0]]}]}]`},
		{"output order", "a=fetch('cpu', {'host': 'c'})\nb=a.mul(10)\noutput(b, a)", 0, 2000,
			`[{"id":"b","result":[` + serC + `[[1010,50.0]]}]},{"id":"a","result":[` + serC + `[[1010,5.0]]}]}]`},
		{"chain", "A=fetch('cpu', {'dc': 'x'}).downsample('1m', 'sum').series_sum().div(2);", 0, 2000,
			`[{"id":"A","result":[{"metric":"cpu","tags":{"dc":"x"},"aggregatedTags":["host"],"dps":[[960,7.0],[1020,32.0],[1080,5.0]]}]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := query(t, srv, q(tt.start, tt.end, tt.q))
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			if got := outputsOf(t, body); got != tt.outputs {
				t.Errorf("q %q\n got %s\nwant %s", tt.q, got, tt.outputs)
			}
		})
	}
}

func TestQueryResponseShape(t *testing.T) {
	srv := newServer(t)
	seed(t, srv)
	code, body := query(t, srv, q(1000, 1000, "fetch('cpu', {'host': 'c|b'})"))
	want := `{"outputs":[{"id":"cpu","result":[` + serB + `[[1000,10.0]]}]}],"hints":[],"query":{"querytext":"fetch('cpu', {'host': 'c|b'})","startTime":1000,"endTime":1000}}`
	if code != 200 || body != want {
		t.Errorf("got %d %s\nwant %s", code, body, want)
	}
}

func TestQueryErrors(t *testing.T) {
	now := time.Unix(1100, 0)
	srv := newServer(t, WithClock(func() time.Time { return now }))
	seed(t, srv)
	e := func(msg string) string {
		b, _ := json.Marshal(msg)
		return `{"error":{"code":400,"message":` + string(b) + `}}`
	}
	tests := []struct {
		params string
		status int
		resp   string
	}{
		{q(0, 2000, "fetch('cpu').foo()"), 400, e(`parse error at line 1, column 14: unknown function "foo"`)},
		{q(0, 2000, "a = fetch('cpu')\noutput(a, b)"), 400, e(`parse error at line 2, column 11: unknown variable "b" in output()`)},
		{q(0, 2000, "fetch('cpu'"), 400, e(`parse error at line 1, column 12: expected ',' or ')', found end of query`)},
		{"end=5&q=fetch('cpu')", 400, e("Missing parameter: start")},
		{"start=abc&q=fetch('cpu')", 400, e(`Invalid start: "abc" (want Unix seconds, Unix milliseconds, now or <n><s|m|h|d|w>-ago)`)},
		{"start=-5&q=fetch('cpu')", 400, e(`Invalid start: "-5" (want Unix seconds, Unix milliseconds, now or <n><s|m|h|d|w>-ago)`)},
		{"start=1x-ago&q=fetch('cpu')", 400, e(`Invalid start: "1x-ago" (want e.g. 1h-ago)`)},
		{"start=0&end=zz&q=fetch('cpu')", 400, e(`Invalid end: "zz" (want Unix seconds, Unix milliseconds, now or <n><s|m|h|d|w>-ago)`)},
		{"start=10&end=5&q=fetch('cpu')", 400, e("start is after end")},
		{"start=0&end=5", 400, e("Missing parameter: q")},
		{"start=0&end=5&q=%20%0A", 400, e("Missing parameter: q")},
		{"start=0&q=%3B", 400, e("parse error at line 1, column 2: empty query")},
	}
	for _, tt := range tests {
		code, body := query(t, srv, tt.params)
		if code != tt.status || body != tt.resp {
			t.Errorf("%s: got %d %s\nwant %d %s", tt.params, code, body, tt.status, tt.resp)
		}
	}
}

func TestQueryTimes(t *testing.T) {
	now := time.Unix(1100, 0)
	srv := newServer(t, WithClock(func() time.Time { return now }))
	seed(t, srv)
	tests := []struct {
		params     string
		start, end int64
	}{
		{"start=1000", 1000, 1100},
		{"start=1000&end=now", 1000, 1100},
		{"start=1m-ago", 1040, 1100},
		{"start=2m-ago&end=30s-ago", 980, 1070},
		{"start=1000000&end=1085000", 1000, 1085}, // 7 digits: seconds
		{"start=1500000000000&end=1500000000999", 1500000000, 1500000000},
		{"start=0&end=1m-ago", 0, 1040},
	}
	for _, tt := range tests {
		code, body := query(t, srv, tt.params+"&q=fetch('cpu')")
		if code != 200 {
			t.Errorf("%s: %d %s", tt.params, code, body)
			continue
		}
		var r struct {
			Query struct{ StartTime, EndTime int64 }
		}
		json.Unmarshal([]byte(body), &r)
		if tt.params == "start=1000000&end=1085000" {
			tt.start, tt.end = 1000000, 1085000
		}
		if r.Query.StartTime != tt.start || r.Query.EndTime != tt.end {
			t.Errorf("%s: range [%d, %d], want [%d, %d]", tt.params, r.Query.StartTime, r.Query.EndTime, tt.start, tt.end)
		}
	}
}

// TestQueryRecordedResponse stores the points of the recorded Apptuit
// response for fetch('nyc.taxi.rides') and checks that the fake answers the
// same "outputs", byte for byte.
func TestQueryRecordedResponse(t *testing.T) {
	raw, err := os.ReadFile("../../shared/fixtures/apptuit-py/response.json")
	if err != nil {
		t.Skip("fixture not available:", err)
	}
	var rec struct {
		Outputs []struct {
			Result []struct {
				Metric string
				Tags   map[string]string
				Dps    [][2]float64
			}
		}
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	var pts []string
	res := rec.Outputs[0].Result[0]
	tags, _ := json.Marshal(res.Tags)
	for _, dp := range res.Dps {
		pts = append(pts, fmt.Sprintf(`{"metric":%q,"timestamp":%d,"value":%v,"tags":%s}`, res.Metric, int64(dp[0]), dp[1], tags))
	}
	srv := newServer(t)
	if code, resp := post(t, srv, "", "["+strings.Join(pts, ",")+"]"); code != 204 {
		t.Fatalf("%d %s", code, resp)
	}
	first, last := int64(res.Dps[0][0]), int64(res.Dps[len(res.Dps)-1][0])
	code, body := query(t, srv, q(first, last, "fetch('nyc.taxi.rides')"))
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if got, want := outputsOf(t, body), outputsOf(t, string(raw)); got != want {
		t.Errorf("outputs differ from the recording:\n got %.300s…\nwant %.300s…", got, want)
	}
}
