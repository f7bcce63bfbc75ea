package apptuit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// qCall is one request as a query test server saw it.
type qCall struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// qAnswer is one canned answer of a query test server.
type qAnswer struct {
	Status int
	Body   string
	Header map[string]string
}

// qServer is an httptest server on loopback answering with the queued
// answers in turn (the last one repeats) and recording every request.
type qServer struct {
	*httptest.Server
	mu      sync.Mutex
	calls   []qCall
	answers []qAnswer
}

func newQServer(t *testing.T, answers ...qAnswer) *qServer {
	t.Helper()
	s := &qServer{answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.calls)
		s.calls = append(s.calls, qCall{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		a := s.answers[min(n, len(s.answers)-1)]
		s.mu.Unlock()
		for k, v := range a.Header {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.Status)
		io.WriteString(w, a.Body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *qServer) Calls() []qCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]qCall(nil), s.calls...)
}

func newQClient(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithEndpoint(url), WithToken("t"), WithRetries(0), WithIgnoreEnvTags()}
	c, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The recorded response and CSV from apptuit-py's tests.
var (
	fixtureStart = time.Unix(1406831400, 0)
	fixtureEnd   = time.Unix(1407609000, 0)
)

// sharedFixture reads a file of ../shared/fixtures/apptuit-py (relative to
// the repository root, which is this package's directory) or skips.
func sharedFixture(t testing.TB, name string) []byte {
	t.Helper()
	p := filepath.Join("..", "shared", "fixtures", "apptuit-py", name)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("fixture %s is absent (the shared fixtures live in ../shared next to the repository; CI provides them)", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const smallResponse = `{"outputs":[
 {"id":"cpu","result":[
  {"metric":"node.cpu","tags":{"host":"a","dc":"x"},"aggregatedTags":[],"dps":[[99,1.0],[100,1.5],[160,2],[220,null],[280,3e2],[340,9]]},
  {"metric":"node.cpu","tags":{"host":"b"},"dps":[[160,-0.25],[400,7]]}]},
 {"id":"empty","result":[]},
 {"id":"nullres","result":null},
 {"id":"load","result":[{"metric":"node.load1","tags":{},"dps":[]}]}],
 "hints":[],"query":{"querytext":"x","options":"{}"},"query_stats":{"numSeries":3},
 "timing_diagnostics":[{"tag":"T","instanceCount":1,"totalElapsedTimeMillis":152}]}`

func TestQueryRequestShape(t *testing.T) {
	tests := []struct {
		name       string
		q          string
		start, end time.Time
		wantRaw    string
	}{
		{"fetch", "fetch('nyc.taxi.rides')", fixtureStart, fixtureEnd,
			"start=1406831400&end=1407609000&q=fetch%28%27nyc.taxi.rides%27%29"},
		{"end omitted when zero", "fetch('nyc.taxi.rides')", fixtureStart, time.Time{},
			"start=1406831400&q=fetch%28%27nyc.taxi.rides%27%29"},
		{"multi-line docstring query", "cpu=fetch('node.cpu').downsample('1h', 'avg');\n load=fetch('node.load1').downsample('1h', 'avg');\n output(cpu, load)",
			fixtureStart, fixtureEnd,
			"start=1406831400&end=1407609000&q=cpu%3Dfetch%28%27node.cpu%27%29.downsample%28%271h%27%2C%20%27avg%27%29%3B%0A%20load%3Dfetch%28%27node.load1%27%29.downsample%28%271h%27%2C%20%27avg%27%29%3B%0A%20output%28cpu%2C%20load%29"},
		{"safe set and reserved characters", "a~b_c.d-e f/g+h&i?j#k%l", fixtureStart, fixtureEnd,
			"start=1406831400&end=1407609000&q=a~b_c.d-e%20f%2Fg%2Bh%26i%3Fj%23k%25l"},
		{"non-ASCII as UTF-8 bytes", "fetch('café')", fixtureStart, fixtureEnd,
			"start=1406831400&end=1407609000&q=fetch%28%27caf%C3%A9%27%29"},
		{"sub-second times truncate", `A=fetch("x").series_sum().div(24);`, time.Unix(100, 900e6), time.Unix(200, 1),
			"start=100&end=200&q=A%3Dfetch%28%22x%22%29.series_sum%28%29.div%2824%29%3B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newQServer(t, qAnswer{Status: 200, Body: `{"outputs":[]}`})
			c := newQClient(t, srv.URL+"/")
			res, err := c.Query(context.Background(), tt.q, tt.start, tt.end)
			if err != nil {
				t.Fatal(err)
			}
			if res.Len() != 0 {
				t.Errorf("Len = %d, want 0", res.Len())
			}
			calls := srv.Calls()
			if len(calls) != 1 {
				t.Fatalf("%d requests, want 1", len(calls))
			}
			got := calls[0]
			if got.Method != "GET" || got.Path != "/api/query" {
				t.Errorf("request %s %s, want GET /api/query", got.Method, got.Path)
			}
			if got.RawQuery != tt.wantRaw {
				t.Errorf("raw query\n got %s\nwant %s", got.RawQuery, tt.wantRaw)
			}
			if a := got.Header.Get("Authorization"); a != "Bearer t" {
				t.Errorf("Authorization = %q", a)
			}
			if got.Body != "" {
				t.Errorf("GET with a body %q", got.Body)
			}
		})
	}
}

func TestQueryDecodeFilteringAndOutputs(t *testing.T) {
	srv := newQServer(t, qAnswer{Status: 200, Body: smallResponse})
	c := newQClient(t, srv.URL)
	res, err := c.Query(context.Background(), "q", time.Unix(100, 0), time.Unix(340, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (empty results skipped)", res.Len())
	}
	if ids := []string{res.Output(0).ID, res.Output(1).ID}; !reflect.DeepEqual(ids, []string{"cpu", "load"}) {
		t.Errorf("ids %v", ids)
	}
	for _, i := range []int{-1, 2, 100} {
		if o := res.Output(i); o != nil {
			t.Errorf("Output(%d) = %v, want nil", i, o)
		}
	}
	for _, id := range []string{"empty", "nullres", "nope", ""} {
		if o := res.Get(id); o != nil {
			t.Errorf("Get(%q) = %v, want nil", id, o)
		}
	}
	if res.Get("load") != res.Output(1) || res.Get("cpu") != res.Output(0) {
		t.Error("Get and Output disagree")
	}
	if outs := res.Outputs(); len(outs) != 2 || outs[0] != res.Output(0) {
		t.Errorf("Outputs() = %v", outs)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("Warnings = %v", res.Warnings)
	}

	cpu := res.Get("cpu")
	if len(cpu.Series) != 2 {
		t.Fatalf("%d cpu series", len(cpu.Series))
	}
	type pt struct {
		ms int64
		v  float64
	}
	points := func(s *TimeSeries) []pt {
		var ps []pt
		for tm, v := range s.Points() {
			ps = append(ps, pt{tm.UnixMilli(), v})
		}
		return ps
	}
	s0 := cpu.Series[0]
	if s0.Metric() != "node.cpu" || !reflect.DeepEqual(s0.Tags(), map[string]string{"host": "a", "dc": "x"}) {
		t.Errorf("series 0: %s %v", s0.Metric(), s0.Tags())
	}
	got := points(s0)
	want := []pt{{100000, 1.5}, {160000, 2}, {220000, math.NaN()}, {280000, 300}, {340000, 9}}
	if len(got) != len(want) {
		t.Fatalf("series 0 points %v, want %v", got, want)
	}
	for i := range want {
		if got[i].ms != want[i].ms || !(got[i].v == want[i].v || math.IsNaN(got[i].v) && math.IsNaN(want[i].v)) {
			t.Errorf("point %d = %v, want %v", i, got[i], want[i])
		}
	}
	if got := points(cpu.Series[1]); !reflect.DeepEqual(got, []pt{{160000, -0.25}}) {
		t.Errorf("series 1 points %v (400 is after end)", got)
	}
	load := res.Get("load").Series[0]
	if load.Len() != 0 || load.Metric() != "node.load1" || load.Tags() == nil {
		t.Errorf("load series %v %v %v", load.Len(), load.Metric(), load.Tags())
	}

	// With a zero end nothing is dropped at the top.
	res, err = c.Query(context.Background(), "q", time.Unix(100, 0), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Get("cpu").Series[1].Len(); n != 2 {
		t.Errorf("zero end: series 1 has %d points, want 2", n)
	}
	if calls := srv.Calls(); calls[1].RawQuery != "start=100&q=q" {
		t.Errorf("raw query %q", calls[1].RawQuery)
	}
}

func TestQueryDecodeValuesAndTimestamps(t *testing.T) {
	body := `{"outputs":[{"query_extra":{"a":[1,{"b":null}]},"id":"i\u00e9\n","result":[
	 {"dps":[[1.5,1],[2,-0],[3, 1e-07 ],[4,0.1],[5,NaN],[6,Infinity],[7,-Infinity],[8,123456789012345678],[9,1E+3],
	         [10000000000,5],[10000000000.4,6],[-1,7]],
	  "tags":{"k\"q":"v\\w","nullv":null},"metric":"m\/x"}]}],"extra":true}`
	res, err := decodeQueryBytes([]byte(body), time.UnixMilli(-1000), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	o := res.Output(0)
	if o.ID != "ié\n" {
		t.Errorf("id %q", o.ID)
	}
	s := o.Series[0]
	if s.Metric() != "m/x" || !reflect.DeepEqual(s.Tags(), map[string]string{`k"q`: `v\w`}) {
		t.Errorf("metric %q tags %v", s.Metric(), s.Tags())
	}
	wantTs := []int64{1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000000000, 10000000000, -1000}
	wantV := []float64{1, math.Copysign(0, -1), 1e-07, 0.1, math.NaN(), math.Inf(1), math.Inf(-1), 123456789012345678, 1000, 5, 6, 7}
	if !reflect.DeepEqual(s.ts, wantTs) {
		t.Errorf("ts %v\nwant %v", s.ts, wantTs)
	}
	for i, v := range wantV {
		g := s.vals[i]
		if math.Float64bits(g) != math.Float64bits(v) && !(math.IsNaN(g) && math.IsNaN(v)) {
			t.Errorf("value %d = %v, want %v", i, g, v)
		}
	}
}

func TestQueryDecodeErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"empty", ``, "at byte 0: expected '{' starting the response object, found end of input"},
		{"array", `[]`, "at byte 0: expected '{'"},
		{"no outputs", `{"hints":[]}`, `no "outputs" field`},
		{"trailing", `{"outputs":[]} x`, `at byte 15: expected end of input`},
		{"outputs not array", `{"outputs":{}}`, `at byte 11: expected '[' starting "outputs"`},
		{"unterminated", `{"outputs":[{"id":"abc`, `expected '"' closing a string, found end of input`},
		{"bad pair", `{"outputs":[{"id":"a","result":[{"dps":[[1,2,3]]}]}]}`, `at byte 44: expected ']' closing a [timestamp, value] pair, found ",3]]}]}]}"`},
		{"string value", `{"outputs":[{"id":"a","result":[{"dps":[[1,"2"]]}]}]}`, `at byte 43: expected a number, null, NaN or Infinity (value)`},
		{"string ts", `{"outputs":[{"id":"a","result":[{"dps":[["1",2]]}]}]}`, `at byte 41: expected a number (timestamp)`},
		{"huge ts", `{"outputs":[{"id":"a","result":[{"dps":[[1e300,2]]}]}]}`, `at byte 41: timestamp 1e300 is out of range`},
		{"bad number", `{"outputs":[{"id":"a","result":[{"dps":[[1.,2]]}]}]}`, `expected a digit after '.'`},
		{"missing colon", `{"outputs" []}`, `at byte 11: expected ':' after an object key`},
		{"bad escape", `{"outputs":[],"x":"\q"}`, `expected one of "\/bfnrtu after '\'`},
		{"control char", "{\"outputs\":[],\"x\":\"a\nb\"}", `no control character in a string`},
		{"tags not object", `{"outputs":[{"result":[{"tags":[]}]}]}`, `expected '{' starting "tags"`},
		{"deep nesting", `{"outputs":[],"x":` + strings.Repeat("[", 2000), `nested more than 1000 deep`},
		{"missing comma", `{"outputs":[] "x":1}`, `at byte 14: expected ',' or '}' in an object`},
		{"html", `<html>502</html>`, `at byte 0: expected '{'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeQueryBytes([]byte(tt.body), time.Unix(0, 0), time.Time{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestQueryFixture(t *testing.T) {
	resp := sharedFixture(t, "response.json")
	wantCSV := sharedFixture(t, "nyc.taxi.rides.csv")

	check := func(t *testing.T, res *QueryResult) {
		t.Helper()
		if res.Len() != 1 {
			t.Fatalf("Len = %d", res.Len())
		}
		if res.Output(0) != res.Get("nyc.taxi.rides") {
			t.Error("Output(0) is not Get(\"nyc.taxi.rides\")")
		}
		o := res.Output(0)
		if len(o.Series) != 1 {
			t.Fatalf("%d series", len(o.Series))
		}
		s := o.Series[0]
		if s.Metric() != "nyc.taxi.rides" || !reflect.DeepEqual(s.Tags(), map[string]string{"host": "localhost"}) {
			t.Errorf("metadata %s %v", s.Metric(), s.Tags())
		}
		f := o.Frame()
		if f.Rows() != 433 || len(f.Columns) != 1 {
			t.Errorf("frame shape (%d, %d), want (433, 1)", f.Rows(), len(f.Columns))
		}
		var buf bytes.Buffer
		if err := f.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), wantCSV) {
			t.Errorf("CSV differs from nyc.taxi.rides.csv:\n%s", firstDiff(buf.Bytes(), wantCSV))
		}
	}
	t.Run("decoder", func(t *testing.T) {
		res, err := decodeQueryBytes([]byte(resp), fixtureStart, fixtureEnd)
		if err != nil {
			t.Fatal(err)
		}
		check(t, res)
	})
	t.Run("client", func(t *testing.T) {
		srv := newQServer(t, qAnswer{Status: 200, Body: string(resp)})
		c := newQClient(t, srv.URL)
		res, err := c.Query(context.Background(), "fetch('nyc.taxi.rides')", fixtureStart, fixtureEnd)
		if err != nil {
			t.Fatal(err)
		}
		check(t, res)
		if raw := srv.Calls()[0].RawQuery; raw != "start=1406831400&end=1407609000&q=fetch%28%27nyc.taxi.rides%27%29" {
			t.Errorf("raw query %s", raw)
		}
	})
}

// firstDiff describes where two byte strings first differ.
func firstDiff(got, want []byte) string {
	gl := strings.Split(string(got), "\n")
	wl := strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return "line " + strconv.Itoa(i+1) + ":\n got " + g + "\nwant " + w
		}
	}
	return "(same lines)"
}

func TestQueryHTTPErrors(t *testing.T) {
	const token = "s3cr3t-token-value"
	tests := []struct {
		status       int
		body         string
		unauthorized bool
		retryable    bool
		message      string
	}{
		{400, `{"error":"bad query: fetch(unclosed"}`, false, false, "bad query: fetch(unclosed"},
		{401, `{"error":"token is invalid"}`, true, false, "token is invalid"},
		{404, `no such page`, false, false, "no such page"},
		{500, `internal error`, false, true, "internal error"},
		{503, "<html><title>\nunavailable </title></html>", false, true, "unavailable"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := newQServer(t, qAnswer{Status: tt.status, Body: tt.body})
			c := newQClient(t, srv.URL, WithToken(token))
			res, err := c.Query(context.Background(), "fetch('x')", fixtureStart, fixtureEnd)
			if err == nil || res != nil {
				t.Fatalf("res %v, err %v", res, err)
			}
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("%T %v is not an *HTTPError", err, err)
			}
			if he.Op != "query" || he.StatusCode != tt.status || he.Body != tt.body || he.Message != tt.message ||
				he.Method != "GET" || he.URL != srv.URL+"/api/query" || he.Attempts != 1 {
				t.Errorf("HTTPError %+v", he)
			}
			if errors.Is(err, ErrUnauthorized) != tt.unauthorized {
				t.Errorf("errors.Is(err, ErrUnauthorized) = %v", !tt.unauthorized)
			}
			if IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable = %v", !tt.retryable)
			}
			if !strings.HasSuffix(err.Error(), ": "+tt.message) {
				t.Errorf("error %q does not end with the message", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q contains the token", err)
			}
			if n := len(srv.Calls()); n != 1 {
				t.Errorf("%d requests with WithRetries(0)", n)
			}
		})
	}
}

func TestQueryRetries(t *testing.T) {
	srv := newQServer(t,
		qAnswer{Status: 503, Body: "busy"},
		qAnswer{Status: 429, Body: "slow down", Header: map[string]string{"Retry-After": "0"}},
		qAnswer{Status: 200, Body: smallResponse})
	c := newQClient(t, srv.URL, WithRetries(2), WithBackoff(time.Millisecond, 2*time.Millisecond))
	res, err := c.Query(context.Background(), "q", time.Unix(100, 0), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Len() != 2 || len(srv.Calls()) != 3 {
		t.Errorf("Len %d after %d requests", res.Len(), len(srv.Calls()))
	}

	srv = newQServer(t, qAnswer{Status: 502, Body: "bad gateway"})
	c = newQClient(t, srv.URL, WithRetries(2), WithBackoff(time.Millisecond, 2*time.Millisecond))
	_, err = c.Query(context.Background(), "q", time.Unix(100, 0), time.Time{})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 502 || len(srv.Calls()) != 3 {
		t.Errorf("err %v after %d requests", err, len(srv.Calls()))
	}
}

func TestQueryMalformedAndTooLarge(t *testing.T) {
	srv := newQServer(t, qAnswer{Status: 200, Body: `{"outputs":[{"id":"a","result":[{"dps":[[1,2]`})
	c := newQClient(t, srv.URL)
	_, err := c.Query(context.Background(), "q", time.Unix(0, 0), time.Time{})
	if err == nil || !strings.Contains(err.Error(), "apptuit: query: decoding the response: at byte 45") {
		t.Errorf("malformed: %v", err)
	}

	srv = newQServer(t, qAnswer{Status: 200, Body: smallResponse})
	c = newQClient(t, srv.URL, WithMaxResponseBytes(100))
	_, err = c.Query(context.Background(), "q", time.Unix(0, 0), time.Time{})
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("too large: %v does not wrap ErrResponseTooLarge", err)
	}
	// Exactly at the cap is fine.
	c = newQClient(t, srv.URL, WithMaxResponseBytes(int64(len(smallResponse))))
	if _, err = c.Query(context.Background(), "q", time.Unix(0, 0), time.Time{}); err != nil {
		t.Errorf("at the cap: %v", err)
	}
}

func TestQueryArguments(t *testing.T) {
	srv := newQServer(t, qAnswer{Status: 200, Body: `{"outputs":[]}`})
	c := newQClient(t, srv.URL)
	if _, err := c.Query(context.Background(), "q", time.Time{}, time.Time{}); err == nil {
		t.Error("zero start accepted")
	}
	if _, err := c.Query(context.Background(), "q", time.Unix(10, 0), time.Unix(5, 0)); err == nil {
		t.Error("end before start accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Query(ctx, "q", time.Unix(10, 0), time.Time{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestQueryResultNil(t *testing.T) {
	var r *QueryResult
	if r.Len() != 0 || r.Output(0) != nil || r.Get("x") != nil || r.Outputs() != nil {
		t.Error("nil QueryResult methods")
	}
}

// The decoder's one-pass number paths must agree bit for bit with strconv.
func TestQueryDecodeNumbersMatchStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var body strings.Builder
	var wantTs []int64
	var wantV []float64
	body.WriteString(`{"outputs":[{"id":"a","result":[{"dps":[`)
	for i := range 20000 {
		if i > 0 {
			body.WriteByte(',')
		}
		var ts string
		switch i % 4 {
		case 0:
			ts = strconv.FormatInt(rng.Int64N(math.MaxUint32+1), 10)
		case 1:
			ts = strconv.FormatFloat(rng.Float64()*4e9, 'f', rng.IntN(4), 64)
		case 2:
			ts = strconv.FormatInt(math.MaxUint32+1+rng.Int64N(9e12), 10) // milliseconds
		case 3:
			ts = strconv.FormatInt(-rng.Int64N(1e9), 10)
		}
		f, _ := strconv.ParseFloat(ts, 64)
		switch {
		case math.Abs(f) > math.MaxUint32:
			wantTs = append(wantTs, int64(math.Round(f)))
		default:
			wantTs = append(wantTs, int64(math.Round(f*1000)))
		}
		x := (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(30)-10))
		var v string
		switch i % 5 {
		case 0:
			v = strconv.FormatFloat(x, 'f', rng.IntN(8), 64)
		case 1:
			v = strconv.FormatFloat(x, 'g', -1, 64)
		case 2:
			v = strconv.FormatFloat(x, 'f', -1, 64)
		case 3:
			v = strconv.FormatFloat(math.Trunc(x), 'f', 1, 64)
		case 4:
			v = strconv.FormatFloat(x, 'e', rng.IntN(17), 64)
		}
		want, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		wantV = append(wantV, want)
		body.WriteString("[" + ts + "," + v + "]")
	}
	body.WriteString(`]}]}]}`)
	res, err := decodeQueryBytes([]byte(body.String()), time.UnixMilli(-1e13), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Output(0).Series[0]
	for i := range wantV {
		if s.ts[i] != wantTs[i] || math.Float64bits(s.vals[i]) != math.Float64bits(wantV[i]) {
			t.Fatalf("point %d: got (%d, %v), want (%d, %v)", i, s.ts[i], s.vals[i], wantTs[i], wantV[i])
		}
	}
}

func TestQueryDecodeEdgeCases(t *testing.T) {
	tests := []struct {
		name, body string
		ids        []string
	}{
		{"repeated outputs: the last wins", `{"outputs":[{"id":"a","result":[{"dps":[]}]}],"outputs":[{"id":"b","result":[{"dps":[]}]}]}`, []string{"b"}},
		{"null outputs", `{"outputs":null}`, nil},
		{"whitespace everywhere", " \t\r\n{ \"outputs\" : [ { \"result\" : [ { } ] , \"id\" : \"x\" } ] } \n", []string{"x"}},
		{"null id and metric", `{"outputs":[{"id":null,"result":[{"metric":null,"tags":null,"dps":null}]}]}`, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := decodeQueryBytes([]byte(tt.body), time.Unix(0, 0), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, o := range res.Outputs() {
				ids = append(ids, o.ID)
				for _, s := range o.Series {
					if s.tags == nil || len(s.ts) != len(s.vals) {
						t.Errorf("series %+v", s)
					}
				}
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("ids %q, want %q", ids, tt.ids)
			}
		})
	}
}

// Malformed dps must not make the decoder allocate far more than its input.
func TestQueryDecodeBoundedAllocation(t *testing.T) {
	body := `{"outputs":[{"id":"x","result":[{"dps":[` + strings.Repeat("[]", 1<<20) + `x`
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	_, err := decodeQueryBytes([]byte(body), time.Unix(0, 0), time.Time{})
	runtime.ReadMemStats(&m1)
	if err == nil {
		t.Fatal("want an error")
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > uint64(4*len(body)) {
		t.Errorf("allocated %d bytes for a %d-byte body", alloc, len(body))
	}
}
