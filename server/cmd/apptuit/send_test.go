package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
)

func pt(metric string, sec int64, ms int64, v float64, kv ...string) apptuit.DataPoint {
	tags := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		tags[kv[i]] = kv[i+1]
	}
	return apptuit.DataPoint{Metric: metric, Tags: tags, Timestamp: time.UnixMilli(sec*1000 + ms).UTC(), Value: v}
}

// summaryRE matches a whole standard error that is just the summary line.
var summaryRE = regexp.MustCompile(`^sent \d+ points? in \d+\.\d\d s \(\d+ points/s\)\n$`)

func TestSendTelnet(t *testing.T) {
	cleanEnv(t)
	srv := apptuittest.NewServer(apptuittest.WithToken("t"))
	defer srv.Close()
	in := `# a comment, then a blank line

put sys.cpu 1700000000 42.5 host=web1 cpu=0
sys.cpu 1700000060 43 host=web1 cpu=0
sys.cpu abc 1 host=web1
  sys.cpu 1700000120000 44 host=web2
sys.cpu 1700000000 NaN host=web1
sys.cpu 1700000000 1
bad$name 1700000000 1 host=x
sys.cpu 1700000000 1 host
sys.cpu 1700000000
put sys.mem 1700000180.25 -1.5e3 host=web1 dc=eu
sys.cpu 1700000000 1 host=a host=b
`
	code, out, errOut := runCmd(t, in, "send", "--endpoint", srv.URL(), "--token", "t")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if out != "" {
		t.Errorf("stdout %q", out)
	}
	wantErr := []string{
		`line 5: bad timestamp "abc": sys.cpu abc 1 host=web1`,
		`line 7: value NaN is not finite: sys.cpu 1700000000 NaN host=web1`,
		`line 8: no tags: a point needs at least one tag (give it tags, or pass --tag or set APPTUIT_TAGS): sys.cpu 1700000000 1`,
		`line 9: metric name "bad$name" has a character outside the allowed set`,
		`line 10: tag "host" is not k=v: sys.cpu 1700000000 1 host`,
		`line 11: want [put] <metric> <timestamp> <value> [<k>=<v> ...]: sys.cpu 1700000000`,
		`line 13: tag "host" given twice: sys.cpu 1700000000 1 host=a host=b`,
		"sent 4 points in ",
		" points/s); 7 malformed skipped\n",
	}
	for _, w := range wantErr {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	if strings.Contains(errOut, "\r") {
		t.Errorf("progress shown on a non-terminal:\n%q", errOut)
	}
	want := []apptuit.DataPoint{
		pt("sys.cpu", 1700000000, 0, 42.5, "host", "web1", "cpu", "0"),
		pt("sys.cpu", 1700000060, 0, 43, "host", "web1", "cpu", "0"),
		pt("sys.cpu", 1700000120, 0, 44, "host", "web2"),
		pt("sys.mem", 1700000180, 250, -1500, "host", "web1", "dc", "eu"),
	}
	if got := srv.Points(); !reflect.DeepEqual(got, want) {
		t.Errorf("stored\n%v\nwant\n%v", got, want)
	}
}

func TestSendFileGlobalTagsBatches(t *testing.T) {
	cleanEnv(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	var b strings.Builder
	for i := range 5 {
		fmt.Fprintf(&b, "m %d %d\n", 1700000000+i, i)
	}
	path := filepath.Join(t.TempDir(), "points.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("APPTUIT_API_ENDPOINT", srv.URL())
	t.Setenv("APPTUIT_API_TOKEN", "from-env")
	code, _, errOut := runCmd(t, "", "send", "--tag", "dc=eu", "--tag", "env=test", "--batch", "2", path)
	if code != 0 || !summaryRE.MatchString(errOut) || !strings.HasPrefix(errOut, "sent 5 points in ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	pts := srv.Points()
	if len(pts) != 5 {
		t.Fatalf("stored %d points", len(pts))
	}
	for i, p := range pts {
		if want := pt("m", int64(1700000000+i), 0, float64(i), "dc", "eu", "env", "test"); !reflect.DeepEqual(p, want) {
			t.Errorf("point %d: %v, want %v", i, p, want)
		}
	}
	puts := 0
	for _, r := range srv.Requests() {
		if r.Path == "/api/put" {
			puts++
			if got := r.Header.Get("Authorization"); got != "Bearer [redacted]" {
				t.Errorf("Authorization %q", got)
			}
		}
	}
	if puts != 3 {
		t.Errorf("%d requests, want 3 batches of at most 2", puts)
	}
}

func TestSendJSON(t *testing.T) {
	cleanEnv(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	in := ` [
	  {"metric": "m", "timestamp": 1700000000, "value": 1.5, "tags": {"k": "v"}},
	  {"metric": "m", "timestamp": "1700000060", "value": "2", "tags": {"k": "v"}},
	  {"metric": "m", "timestamp": 1700000000, "value": "NaN", "tags": {"k": "v"}},
	  {"timestamp": 1700000000, "value": 1, "tags": {"k": "v"}},
	  "nonsense",
	  {"metric": "m", "timestamp": 1700000120500, "value": 3e2, "tags": {"k": "w"}, "extra": true}
	]`
	code, _, errOut := runCmd(t, in, "send", "--endpoint", srv.URL(), "--token", "t", "-")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{
		`line 4, column 4 (point 3): value NaN is not finite: {"metric": "m", "timestamp": 1700000000, "value": "NaN", "tags": {"k": "v"}}`,
		`line 5, column 4 (point 4): metric is missing: `,
		`line 6, column 4 (point 5): a JSON string is not a point: want {"metric": "m", "timestamp": 1700000000, "value": 1.5, "tags": {"k": "v"}}: "nonsense"`,
		"sent 3 points in ",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	want := []apptuit.DataPoint{
		pt("m", 1700000000, 0, 1.5, "k", "v"),
		pt("m", 1700000060, 0, 2, "k", "v"),
		pt("m", 1700000120, 500, 300, "k", "w"),
	}
	if got := srv.Points(); !reflect.DeepEqual(got, want) {
		t.Errorf("stored\n%v\nwant\n%v", got, want)
	}

	// One object, and JSON lines.
	srv.Reset()
	code, _, errOut = runCmd(t, `{"metric": "a", "timestamp": 1700000000, "value": 1, "tags": {"k": "v"}}
{"metric": "b", "timestamp": 1700000000, "value": 2, "tags": {"k": "v"}}`, "send", "--endpoint", srv.URL(), "--token", "t")
	if code != 0 || len(srv.Points()) != 2 {
		t.Errorf("JSON lines: exit %d, %d points stored, stderr %q", code, len(srv.Points()), errOut)
	}

	// Broken JSON: what was read before is still sent.
	srv.Reset()
	code, _, errOut = runCmd(t, `[{"metric": "a", "timestamp": 1700000000, "value": 1, "tags": {"k": "v"}}, {"metric": `, "send", "--endpoint", srv.URL(), "--token", "t")
	if code != 1 || len(srv.Points()) != 1 || !strings.Contains(errOut, "apptuit send: reading standard input: line 1, column 87 (point 2): the JSON ends in the middle of the point\n") {
		t.Errorf("broken JSON: exit %d, %d points stored, stderr %q", code, len(srv.Points()), errOut)
	}
}

// TestSendRefused sends to a server that refuses a point, as Apptuit
// answers /api/put?details.
func TestSendRefused(t *testing.T) {
	cleanEnv(t)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/api/put" || r.URL.RawQuery != "details" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"success":1,"failed":1,"errors":[{"datapoint":{"metric":"m","timestamp":1700000060,"value":"2.0","tags":{"k":"v"}},"error":"Value is too cold"}]}`)
	}))
	defer hs.Close()
	code, out, errOut := runCmd(t, "m 1700000000 1 k=v\nm 1700000060 2 k=v\n", "send", "--endpoint", hs.URL, "--token", "t")
	if code != 1 || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	for _, w := range []string{
		"refused: Value is too cold: {metric: m, timestamp: 1700000060, value: 2.0, tags: map[k:v]}\n",
		" points/s): 1 accepted, 1 refused\n",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
}

func TestSendUnauthorized(t *testing.T) {
	cleanEnv(t)
	srv := apptuittest.NewServer(apptuittest.WithToken("right"))
	defer srv.Close()
	code, _, errOut := runCmd(t, "m 1700000000 1 k=v\n", "send", "--endpoint", srv.URL(), "--token", "wrong")
	if code != 1 || !strings.Contains(errOut, "401") || strings.Contains(errOut, "wrong") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if len(srv.Points()) != 0 {
		t.Error("points stored")
	}
}

func TestSendEmptyAndMissingFile(t *testing.T) {
	cleanEnv(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	code, _, errOut := runCmd(t, "\n# nothing\n", "send", "--endpoint", srv.URL(), "--token", "t")
	if code != 0 || !summaryRE.MatchString(errOut) || !strings.HasPrefix(errOut, "sent 0 points in ") {
		t.Errorf("empty: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "", "send", "--endpoint", srv.URL(), "--token", "t", filepath.Join(t.TempDir(), "missing"))
	if code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
}

func TestParseTelnet(t *testing.T) {
	for line, want := range map[string]apptuit.DataPoint{
		"put m 1700000000 1 k=v":    pt("m", 1700000000, 0, 1, "k", "v"),
		"m 1700000000123 1 k=v":     pt("m", 1700000000, 123, 1, "k", "v"),
		"m 4294967295 1 k=v":        pt("m", 4294967295, 0, 1, "k", "v"),
		"m 4294967296 1 k=v":        pt("m", 4294967, 296, 1, "k", "v"),
		"m 1700000000.001 -0.5 k=v": pt("m", 1700000000, 1, -0.5, "k", "v"),
		"m\t1700000000  1e3\tk=v=w": pt("m", 1700000000, 0, 1000, "k", "v=w"),
	} {
		got, err := parseTelnet(line)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseTelnet(%q) = %v, %v; want %v", line, got, err, want)
		}
	}
	for _, line := range []string{"put", "m 1 ", "m 0 1 k=v", "m -5 1 k=v", "m 1e3 1 k=v", "m 99999999999999 1 k=v",
		"m 1700000000 Inf k=v", "m 1700000000 0x10 k=v", "m 1700000000 1 =v", "m 1700000000 1 k="} {
		if got, err := parseTelnet(line); err == nil {
			t.Errorf("parseTelnet(%q) = %v, want an error", line, got)
		}
	}
}

// readAll runs readPoints over in and returns the positions of the points
// and the errors, as text.
func readAll(in string) (points []string, bad []string, err error) {
	err = readPoints(strings.NewReader(in),
		func(p inputPoint) error { points = append(points, p.at.String()); return nil },
		func(e *inputError) { bad = append(bad, e.Error()) })
	return points, bad, err
}

func TestReadPointsPositions(t *testing.T) {
	long := strings.Repeat("y", maxLine)
	for _, tc := range []struct {
		name, in string
		points   []string
		bad      []string
		err      string
	}{
		{"leading blank lines count", "\n\n  \nm 1700000000 1 k=v\nbad\n", []string{"line 4"}, []string{"line 5: want [put] <metric> <timestamp> <value> [<k>=<v> ...]: bad"}, ""},
		{"CRLF and no final newline", "m 1700000000 1 k=v\r\n\r\nm 1700000001 1 k=v", []string{"line 1", "line 3"}, nil, ""},
		{"a line of exactly 1 MiB is read", long + "\nm 1700000000 1 k=v\n", []string{"line 2"}, []string{"line 1: want [put] <metric> <timestamp> <value> [<k>=<v> ...]: " + strings.Repeat("y", 200) + "…"}, ""},
		{"a line of 1 MiB and a byte is skipped", long + "y\nm 1700000000 1 k=v\n", []string{"line 2"}, []string{"line 1: longer than 1048576 bytes (1 MiB): 1048577 bytes, skipped: " + strings.Repeat("y", 200) + "…"}, ""},
		{"an over-long last line", "m 1700000000 1 k=v\n" + long + long, []string{"line 1"}, []string{"line 2: longer than 1048576 bytes (1 MiB): 2097152 bytes, skipped: " + strings.Repeat("y", 200) + "…"}, ""},
		{"JSON after blank lines", "\n\n  [{\"metric\": \"m\", \"timestamp\": 1700000000, \"value\": 1, \"tags\": {\"k\": \"v\"}}]", []string{"line 3, column 4 (point 1)"}, nil, ""},
		{"JSON columns count characters", "[{\"metric\": \"é\", \"timestamp\": 1700000000, \"value\": 1, \"tags\": {\"k\": \"v\"}}, {\"metric\": \"ü\", \"value\": x}]",
			[]string{"line 1, column 2 (point 1)"}, nil, "line 1, column 101 (point 2): broken JSON: invalid character 'x' looking for beginning of value"},
		{"JSON lines", "{\"metric\": \"m\", \"timestamp\": 1700000000, \"value\": 1, \"tags\": {\"k\": \"v\"}}\n\n{\"metric\": \"m\"}\n{\"metric\" 1}",
			[]string{"line 1, column 1 (point 1)"}, []string{`line 3, column 1 (point 2): timestamp is missing: {"metric": "m"}`}, "line 4, column 11 (point 3): broken JSON: invalid character '1' after object key"},
		{"JSON missing comma", "[{\"metric\": \"m\"}\n  {\"metric\": \"m\"}]", nil, []string{`line 1, column 2 (point 1): timestamp is missing: {"metric": "m"}`}, "line 2, column 3 (point 2): broken JSON: expected comma after array element"},
		{"JSON without its ]", "[{\"metric\": \"m\"}, ", nil, []string{`line 1, column 2 (point 1): timestamp is missing: {"metric": "m"}`}, "line 1, column 19 (point 2): the JSON ends in the middle of the point"},
		{"JSON without its ] after an element", "[{\"metric\": \"m\"}\n", nil, []string{`line 1, column 2 (point 1): timestamp is missing: {"metric": "m"}`}, "line 2, column 1 (point 2): the JSON ends before the ']' that closes the array"},
		{"JSON element over 1 MiB", "[{\"metric\": \"" + long + "\"}, {\"metric\": \"m\"}]", nil, []string{
			"line 1, column 2 (point 1): longer than 1048576 bytes (1 MiB): 1048590 bytes, skipped: {\"metric\": \"" + strings.Repeat("y", 188) + "…",
			`line 1, column 1048594 (point 2): timestamp is missing: {"metric": "m"}`}, ""},
		{"JSON element far over 1 MiB", "[{\"metric\": \"" + long + long + "\"}]", nil, nil, "line 1, column 2 (point 1): the point is longer than 1048576 bytes (1 MiB); the rest of the input is not read"},
		{"JSON element with a control character", "[{\"metric\": \"a\x1bb\"}]", nil, nil, "line 1, column 15 (point 1): broken JSON: invalid character '\\x1b' in string literal"},
	} {
		points, bad, err := readAll(tc.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if !reflect.DeepEqual(points, tc.points) || !reflect.DeepEqual(bad, tc.bad) || gotErr != tc.err {
			t.Errorf("%s:\npoints %q\nbad    %.400q\nerr    %q\nwant\npoints %q\nbad    %.400q\nerr    %q", tc.name, points, bad, gotErr, tc.points, tc.bad, tc.err)
		}
	}
}

func TestEscapeText(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, ünïcödé, 日本": "plain text, ünïcödé, 日本",
		"\x1b[2Jclear":            `\x1b[2Jclear`,
		"a\x00b\tc\nd\re":         `a\x00b\tc\nd\re`,
		"bad \xff utf-8":          `bad \xff utf-8`,
		"rtl \u202e override":     `rtl \u202e override`,
		"del \x7f, c1 \u0085":     `del \x7f, c1 \u0085`,
		"":                        "",
	} {
		if got := escapeText(in); got != want {
			t.Errorf("escapeText(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := clipText(strings.Repeat("é", 150)), strings.Repeat("é", 100)+"…"; got != want {
		t.Errorf("clipText cuts inside a character: %q", got)
	}
}

// FuzzReadPoints checks that no input panics readPoints, that every
// position is a real one, and that nothing echoed holds a control
// character.
func FuzzReadPoints(f *testing.F) {
	for _, s := range []string{
		"put m 1700000000 1 k=v\n", "\n\nm 1 2 k=v\r\n# c\n", "[{\"metric\": \"m\", \"timestamp\": 1700000000, \"value\": 1, \"tags\": {\"k\": \"v\"}}]",
		"{\"metric\": \"m\"}\n{\"metric\" 1}", "[{\"a\":1},\n {\"b\":2}\n {\"c\":3}]", "[1, \"x\", {\"tags\": {\"k\": 1}}", "\x1b[2J\x00\xff 1 2 k=v",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		check := func(p position, text string) {
			if p.line < 1 || p.elem != 0 && (p.col < 1 || p.elem < 1) {
				t.Errorf("position %+v", p)
			}
			if strings.ContainsFunc(text, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Errorf("control character in %q", text)
			}
		}
		err := readPoints(strings.NewReader(in),
			func(p inputPoint) error { check(p.at, p.text); return nil },
			func(e *inputError) { check(e.at, e.Error()) })
		var ie *inputError
		if errors.As(err, &ie) {
			check(ie.at, ie.Error())
		}
	})
}
