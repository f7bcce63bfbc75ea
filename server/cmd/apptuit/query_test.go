package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
)

// preloaded returns a server holding two series of metric cpu.
func preloaded(t *testing.T) *apptuittest.Server {
	t.Helper()
	srv := apptuittest.NewServer()
	t.Cleanup(srv.Close)
	c, err := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithToken("t"), apptuit.WithIgnoreEnvTags())
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(context.Background(), []apptuit.DataPoint{
		pt("cpu", 1700000000, 0, 1, "host", "a"),
		pt("cpu", 1700000060, 0, 2.5, "host", "a"),
		pt("cpu", 1700000120, 0, 3, "host", "a"),
		pt("cpu", 1700000000, 0, 10, "host", "b"),
		pt("cpu", 1700000120, 0, 0.25, "host", "b"),
		pt("mem", 1700000060, 0, 1e9, "host", "a"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func query(t *testing.T, srv *apptuittest.Server, args ...string) (int, string, string) {
	t.Helper()
	base := []string{"query", "--endpoint", srv.URL(), "--token", "t", "--start", "1699999000", "--end", "2023-11-14T22:30:00Z"}
	return runCmd(t, "", append(base, args...)...)
}

func TestQueryTable(t *testing.T) {
	cleanEnv(t)
	srv := preloaded(t)
	code, out, errOut := query(t, srv, "fetch('cpu')")
	want := `time                 cpu{host:a}  cpu{host:b}
2023-11-14 22:13:20            1           10
2023-11-14 22:14:20          2.5            -
2023-11-14 22:15:20            3         0.25
`
	if code != 0 || out != want || errOut != "" {
		t.Errorf("exit %d, stderr %q, stdout\n%s\nwant\n%s", code, errOut, out, want)
	}
	// Flags after the query, several outputs.
	code, out, _ = query(t, srv, "total = fetch('cpu').series_sum(); fetch('mem').div(1e6)", "--format", "table")
	want = `# total
time                 cpu{}
2023-11-14 22:13:20     11
2023-11-14 22:14:20    2.5
2023-11-14 22:15:20   3.25

# mem
time                 mem{host:a}
2023-11-14 22:14:20         1000
`
	if code != 0 || out != want {
		t.Errorf("exit %d, stdout\n%s\nwant\n%s", code, out, want)
	}
}

func TestQueryCSV(t *testing.T) {
	cleanEnv(t)
	srv := preloaded(t)
	code, out, errOut := query(t, srv, "--format", "csv", "fetch('cpu')")
	want := `,cpu{host:a},cpu{host:b}
2023-11-14 22:13:20,1.0,10.0
2023-11-14 22:14:20,2.5,
2023-11-14 22:15:20,3.0,0.25
`
	if code != 0 || out != want || errOut != "" {
		t.Errorf("exit %d, stderr %q, stdout\n%s\nwant\n%s", code, errOut, out, want)
	}
}

func TestQueryJSON(t *testing.T) {
	cleanEnv(t)
	srv := preloaded(t)
	code, out, errOut := query(t, srv, "--format", "json", "fetch('cpu'); m = fetch('mem')")
	want := `{"outputs":[{"id":"cpu","series":[{"metric":"cpu","tags":{"host":"a"},"points":[[1700000000,1],[1700000060,2.5],[1700000120,3]]},{"metric":"cpu","tags":{"host":"b"},"points":[[1700000000,10],[1700000120,0.25]]}]},{"id":"m","series":[{"metric":"mem","tags":{"host":"a"},"points":[[1700000060,1000000000]]}]}]}
`
	if code != 0 || out != want || errOut != "" {
		t.Errorf("exit %d, stderr %q, stdout\n%s\nwant\n%s", code, errOut, out, want)
	}
}

func TestQueryChart(t *testing.T) {
	cleanEnv(t)
	srv := preloaded(t)
	code, out, errOut := query(t, srv, "--format", "chart", "fetch('cpu')")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	t.Logf("\n%s", out)
	_, again, _ := query(t, srv, "--format", "chart", "fetch('cpu')")
	if again != out {
		t.Errorf("two runs differ:\n%s\n%s", out, again)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2*14-1 {
		t.Errorf("%d lines, want two charts of 13 lines and a blank line", len(lines))
	}
	for _, w := range []string{"cpu{host:a}\n", "cpu{host:b}\n", "\n3 ┤", "\n1 ┤", "\n  10 ┤", "\n0.25 ┤",
		"2023-11-14 22:13:20", "22:15:20 UTC\n", "└───"} {
		if !strings.Contains(out, w) {
			t.Errorf("chart lacks %q", w)
		}
	}
	for i, l := range lines {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line %d is %d columns wide: %q", i, n, l)
		}
	}
	if !strings.ContainsAny(out, "⠁⠂⠄⡀⠈⠐⠠⢀") {
		t.Error("no braille dots")
	}
	// The first point of host:a is at the bottom left, the last at the top right.
	if !strings.HasPrefix(lines[10], "1 ┤⣀") || !strings.HasSuffix(lines[1], "⠚") {
		t.Errorf("bottom row %q", lines[10])
	}
}

func TestDrawChart(t *testing.T) {
	var b strings.Builder
	idx := []time.Time{time.Unix(0, 0), time.Unix(10, 0), time.Unix(20, 0)}
	drawChart(&b, "up", idx, []float64{0, 1, 0}, idx[0], idx[2], 20, 2)
	want := `up
1 ┤     ⣀⡤⠴⠚⠙⠒⠦⣄⡀
0 ┤⣀⡤⠴⠚⠉⠁       ⠉⠓⠲⢤
  └─────────────────
  00:00:00  00:00:20
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	drawChart(&b, "gap", idx, []float64{1, nan(), 1}, idx[0], idx[2], 20, 2)
	want = `gap
1 ┤⡀               ⢀
  │
  └─────────────────
  00:00:00  00:00:20
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	drawChart(&b, "flat", idx[:1], []float64{5}, idx[0], idx[0], 20, 3)
	if !strings.Contains(b.String(), "5 ┤") {
		t.Errorf("one point:\n%s", b.String())
	}
	b.Reset()
	drawChart(&b, "none", idx, []float64{nan(), nan(), nan()}, idx[0], idx[2], 20, 3)
	if b.String() != "none\n  (no values)\n" {
		t.Errorf("no values: %q", b.String())
	}
}

func TestQueryErrors(t *testing.T) {
	cleanEnv(t)
	srv := preloaded(t)
	code, out, errOut := query(t, srv, "fetch('cpu'")
	if code != 1 || out != "" || !strings.Contains(errOut, "parse error") {
		t.Errorf("bad query: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = query(t, srv, "fetch('nothing')")
	if code != 0 || out != "" || errOut != "no data\n" {
		t.Errorf("no data: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestQueryPromQL(t *testing.T) {
	cleanEnv(t)
	var form string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prometheus/api/v1/query_range" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		form = string(b)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","warnings":["took a while"],"data":{"resultType":"matrix","result":[
			{"metric":{"__name__":"up","job":"api"},"values":[[1700000000,"1"],[1700000060,"0"],[1700000120,"NaN"]]},
			{"metric":{"job":"db"},"values":[[1700000060,"1.5"]]}]}}`)
	}))
	defer hs.Close()
	code, out, errOut := runCmd(t, "", "query", "--endpoint", hs.URL, "--token", "t", "--promql", "--step", "1m",
		"--start", "1700000000", "--end", "1700000120", "up{job=~'api|db'}")
	want := `time                 up{job:api}  {job:db}
2023-11-14 22:13:20            1         -
2023-11-14 22:14:20            0       1.5
2023-11-14 22:15:20            -         -
`
	if code != 0 || out != want || errOut != "warning: took a while\n" {
		t.Errorf("exit %d, stderr %q, stdout\n%s\nwant\n%s", code, errOut, out, want)
	}
	if wantForm := "query=up%7Bjob%3D~%27api%7Cdb%27%7D&start=1700000000&end=1700000120&step=60"; form != wantForm {
		t.Errorf("form %q, want %q", form, wantForm)
	}
}

func nan() float64 { return math.NaN() }

func TestDrawChartExtremeValues(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	done := make(chan string)
	go func() {
		var b strings.Builder
		drawChart(&b, "x", []time.Time{t0, t0.Add(time.Second), t0.Add(2 * time.Second)}, []float64{-1e308, 0, 1e308}, t0, t0.Add(2*time.Second), 60, 10)
		done <- b.String()
	}()
	select {
	case out := <-done:
		if !strings.Contains(out, "1e+308") || !strings.Contains(out, "-1e+308") {
			t.Errorf("chart lacks its axis labels:\n%s", out)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("drawChart did not return within 5s for values ±1e308")
	}
}

func TestWriteJSONNegativeSubSecond(t *testing.T) {
	s, _ := apptuit.NewTimeSeries("m", map[string]string{"a": "b"})
	s.Add(time.UnixMilli(-500), 1)
	s.Add(time.UnixMilli(1700000000123), 2)
	var b strings.Builder
	writeJSON(&b, []*apptuit.Output{{ID: "m", Series: []*apptuit.TimeSeries{s}}})
	if !strings.Contains(b.String(), "[-0.5,1]") || !strings.Contains(b.String(), "[1700000000.123,2]") {
		t.Errorf("json = %s", b.String())
	}
}
