package apptuit

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPromQLStep(t *testing.T) {
	start := time.Unix(1700000000, 0)
	tests := []struct {
		rangeMs int64
		want    time.Duration
	}{
		// Apptuit's Java PrometheusClient tests.
		{1_000_000, 1 * time.Second},
		{2_000_000, 2 * time.Second},
		{7_000_000, 5 * time.Second},
		{59_000_000, 45 * time.Second},
		{61_000_000, 60 * time.Second},
		{7_501_000_000, 7200 * time.Second},
		// Edges.
		{0, 1 * time.Second},
		{-5_000_000, 1 * time.Second},
		{999_999, 1 * time.Second},
		{5_000_000, 5 * time.Second},   // s == 5: lower stays 1
		{6_000_000, 5 * time.Second},   // first s above 5
		{15_000_000, 15 * time.Second}, // s == 15: lower 5
		{16_000_000, 15 * time.Second},
		{3_601_000_000, 3600 * time.Second},
		{86_400_000, 60 * time.Second}, // one day: s = 86, lower 60, 60*(86/60)
	}
	for _, tt := range tests {
		got := PromQLStep(start, start.Add(time.Duration(tt.rangeMs)*time.Millisecond))
		if got != tt.want {
			t.Errorf("range %d ms: step %v, want %v", tt.rangeMs, got, tt.want)
		}
	}
}

const promMatrix = `{"status":"success","data":{"resultType":"matrix","result":[
 {"metric":{"__name__":"proc.cpu.percent","dc":"x","host":"a"},"values":[[1700000000,"1.5"],[1700000060.5,"NaN"],[1700000120,"+Inf"],[1700000180,"-Inf"]]},
 {"metric":{"job":"j"},"values":[[1700000000,"2"]]}]},"warnings":["partial response"]}`

func TestQueryRangeRequestAndMatrix(t *testing.T) {
	srv := newQServer(t, qAnswer{Status: 200, Body: promMatrix})
	c := newQClient(t, srv.URL)
	q := `sum(rate(proc.cpu.percent{dc="x"}[5m])) by (host) + 1`
	res, err := c.QueryRange(context.Background(), q, time.Unix(1700000000, 0), time.Unix(1700003600, 500e6), 0)
	if err != nil {
		t.Fatal(err)
	}
	call := srv.Calls()[0]
	if call.Method != "POST" || call.Path != "/prometheus/api/v1/query_range" || call.RawQuery != "" {
		t.Errorf("request %s %s?%s", call.Method, call.Path, call.RawQuery)
	}
	if ct := call.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	if a := call.Header.Get("Authorization"); a != "Bearer t" {
		t.Errorf("Authorization %q", a)
	}
	wantBody := "query=sum%28rate%28proc.cpu.percent%7Bdc%3D%22x%22%7D%5B5m%5D%29%29+by+%28host%29+%2B+1" +
		"&start=1700000000&end=1700003600.5&step=3"
	if call.Body != wantBody {
		t.Errorf("form body\n got %s\nwant %s", call.Body, wantBody)
	}

	if res.Len() != 1 || res.Output(0).ID != q || res.Get(q) != res.Output(0) {
		t.Fatalf("outputs %v", res.Outputs())
	}
	if !reflect.DeepEqual(res.Warnings, []string{"partial response"}) {
		t.Errorf("warnings %v", res.Warnings)
	}
	ss := res.Output(0).Series
	if len(ss) != 2 {
		t.Fatalf("%d series", len(ss))
	}
	if ss[0].Metric() != "proc.cpu.percent" || !reflect.DeepEqual(ss[0].Tags(), map[string]string{"dc": "x", "host": "a"}) {
		t.Errorf("series 0 %s %v", ss[0].Metric(), ss[0].Tags())
	}
	if !reflect.DeepEqual(ss[0].ts, []int64{1700000000000, 1700000060500, 1700000120000, 1700000180000}) {
		t.Errorf("ts %v", ss[0].ts)
	}
	if v := ss[0].vals; v[0] != 1.5 || !math.IsNaN(v[1]) || !math.IsInf(v[2], 1) || !math.IsInf(v[3], -1) {
		t.Errorf("values %v", v)
	}
	if ss[1].Metric() != "" || !reflect.DeepEqual(ss[1].Tags(), map[string]string{"job": "j"}) || ss[1].Len() != 1 {
		t.Errorf("series 1 %q %v %d", ss[1].Metric(), ss[1].Tags(), ss[1].Len())
	}
	if cols := res.Output(0).Frame().Columns; !reflect.DeepEqual(cols, []string{"proc.cpu.percent{dc:x, host:a}", "{job:j}"}) {
		t.Errorf("frame columns %q", cols)
	}
}

func TestQueryRangeFormSteps(t *testing.T) {
	tests := []struct {
		step       time.Duration
		start, end time.Time
		want       string
	}{
		{time.Minute, time.Unix(1000, 0), time.Unix(2000, 0), "query=up&start=1000&end=2000&step=60"},
		{500 * time.Millisecond, time.Unix(1000, 0), time.Unix(2000, 0), "query=up&start=1000&end=2000&step=0.5"},
		{90 * time.Second, time.Unix(1000, 250e6), time.Unix(2000, 10e6), "query=up&start=1000.25&end=2000.01&step=90"},
		{0, time.Unix(0, 0), time.Unix(7_501_000, 0), "query=up&start=0&end=7501000&step=7200"},
		{0, time.Unix(-10, -500e6), time.Unix(0, 0), "query=up&start=-10.5&end=0&step=1"},
	}
	for _, tt := range tests {
		srv := newQServer(t, qAnswer{Status: 200, Body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`})
		c := newQClient(t, srv.URL+"/", WithPromQLPath("/api/v1/query_range"))
		res, err := c.QueryRange(context.Background(), "up", tt.start, tt.end, tt.step)
		if err != nil {
			t.Fatal(err)
		}
		if res.Len() != 1 || len(res.Output(0).Series) != 0 || res.Warnings != nil {
			t.Errorf("empty matrix: %d outputs, warnings %v", res.Len(), res.Warnings)
		}
		call := srv.Calls()[0]
		if call.Path != "/api/v1/query_range" || call.Body != tt.want {
			t.Errorf("%s body %s, want %s", call.Path, call.Body, tt.want)
		}
	}
}

func TestQueryRangeErrors(t *testing.T) {
	const token = "s3cr3t-token-value"
	tests := []struct {
		name         string
		status       int
		body         string
		promErr      *PromQLError
		httpStatus   int // an *HTTPError with this status is found by errors.As
		unauthorized bool
		retryable    bool
		text         string
	}{
		{"bad_data", 400, `{"status":"error","errorType":"bad_data","error":"parse error at char 21: unclosed left parenthesis"}`,
			&PromQLError{400, "bad_data", "parse error at char 21: unclosed left parenthesis"}, 400, false, false,
			"apptuit: promql: server answered 400 Bad Request: parse error at char 21: unclosed left parenthesis"},
		{"execution", 422, `{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}`,
			&PromQLError{422, "execution", "many-to-many matching not allowed"}, 422, false, false,
			"apptuit: promql: server answered 422 Unprocessable Entity: many-to-many matching not allowed"},
		{"timeout", 503, `{"status":"error","errorType":"timeout","error":"query timed out"}`,
			&PromQLError{503, "timeout", "query timed out"}, 503, false, true,
			"apptuit: promql: server answered 503 Service Unavailable: query timed out"},
		{"error at 200", 200, `{"status":"error","errorType":"internal","error":"boom"}`,
			&PromQLError{200, "internal", "boom"}, 0, false, false, "apptuit: promql: internal: boom (HTTP 200)"},
		{"401 as success with a warning", 200, `{"status":"success","data":{"resultType":"matrix","result":[]},"warnings":["server returned HTTP status 401 Unauthorized"]}`,
			nil, 401, true, false, "apptuit: promql: the API token was rejected (401 Unauthorized): server returned HTTP status 401 Unauthorized"},
		{"plain 401", 401, `Unauthorized`, nil, 401, true, false, "apptuit: promql: the API token was rejected (401 Unauthorized)"},
		{"html 502", 502, `<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>`, nil, 502, false, true,
			"apptuit: promql: server answered 502 Bad Gateway"},
		{"vector", 200, `{"status":"success","data":{"resultType":"vector","result":[]}}`, nil, 0, false, false, `result type is "vector", want "matrix"`},
		{"not json", 200, `hello`, nil, 0, false, false, "decoding the response"},
		{"no status", 200, `{}`, nil, 0, false, false, `no "status" field`},
		{"bad value", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}`, nil, 0, false, false, `series 0 point 0: value "x"`},
		{"value not a string", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,2]]}]}}`, nil, 0, false, false, `want [seconds, "value"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newQServer(t, qAnswer{Status: tt.status, Body: tt.body})
			c := newQClient(t, srv.URL, WithToken(token))
			res, err := c.QueryRange(context.Background(), "up", time.Unix(1000, 0), time.Unix(2000, 0), time.Second)
			if err == nil || res != nil {
				t.Fatalf("res %v err %v", res, err)
			}
			var pe *PromQLError
			if tt.promErr != nil {
				if !errors.As(err, &pe) || *pe != *tt.promErr {
					t.Errorf("PromQLError %+v, want %+v", pe, tt.promErr)
				}
			} else if errors.As(err, &pe) {
				t.Errorf("unexpected PromQLError %+v", pe)
			}
			var he *HTTPError
			if tt.httpStatus != 0 {
				if !errors.As(err, &he) || he.StatusCode != tt.httpStatus || he.Op != "promql" {
					t.Errorf("HTTPError %+v, want status %d", he, tt.httpStatus)
				}
			} else if errors.As(err, &he) {
				t.Errorf("unexpected HTTPError %+v", he)
			}
			if errors.Is(err, ErrUnauthorized) != tt.unauthorized {
				t.Errorf("errors.Is(err, ErrUnauthorized) = %v", !tt.unauthorized)
			}
			if IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable = %v", !tt.retryable)
			}
			if exact := strings.HasPrefix(tt.text, "apptuit: "); exact && err.Error() != tt.text || !exact && !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q, want %q", err, tt.text)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestQueryRangeWarningsWithData(t *testing.T) {
	// A 401 warning next to data is kept as a warning, not an error.
	body := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up"},"values":[[1,"1"]]}]},"warnings":["server returned HTTP status 401 Unauthorized","w2"]}`
	srv := newQServer(t, qAnswer{Status: 200, Body: body})
	c := newQClient(t, srv.URL)
	res, err := c.QueryRange(context.Background(), "up", time.Unix(0, 0), time.Unix(10, 0), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Warnings, []string{"server returned HTTP status 401 Unauthorized", "w2"}) || res.Output(0).Series[0].Len() != 1 {
		t.Errorf("warnings %v", res.Warnings)
	}
}

func TestQueryRangeRetriesAndLimits(t *testing.T) {
	srv := newQServer(t,
		qAnswer{Status: 503, Body: `{"status":"error","errorType":"unavailable","error":"try later"}`},
		qAnswer{Status: 200, Body: promMatrix})
	c := newQClient(t, srv.URL, WithRetries(1), WithBackoff(time.Millisecond, time.Millisecond))
	if _, err := c.QueryRange(context.Background(), "up", time.Unix(0, 0), time.Unix(10, 0), time.Second); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].Body != calls[1].Body || calls[1].Body == "" {
		t.Errorf("%d calls, bodies %q", len(calls), calls)
	}

	srv = newQServer(t, qAnswer{Status: 200, Body: promMatrix})
	c = newQClient(t, srv.URL, WithMaxResponseBytes(64))
	if _, err := c.QueryRange(context.Background(), "up", time.Unix(0, 0), time.Unix(10, 0), time.Second); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("too large: %v", err)
	}

	for _, args := range []struct {
		start, end time.Time
		step       time.Duration
	}{
		{time.Time{}, time.Unix(10, 0), time.Second},
		{time.Unix(10, 0), time.Unix(5, 0), time.Second},
		{time.Unix(0, 0), time.Unix(5, 0), -time.Second},
	} {
		if _, err := c.QueryRange(context.Background(), "up", args.start, args.end, args.step); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestQueryRangeZeroEndIsNow(t *testing.T) {
	srv := newQServer(t, qAnswer{Status: 200, Body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`})
	c := newQClient(t, srv.URL)
	before := time.Now().Unix()
	if _, err := c.QueryRange(context.Background(), "up", time.Unix(before-3600, 0), time.Time{}, 0); err != nil {
		t.Fatal(err)
	}
	body := srv.Calls()[0].Body
	if !strings.HasPrefix(body, "query=up&start=") || !strings.HasSuffix(body, "&step=3") {
		t.Errorf("body %s", body)
	}
}

// A timestamp beyond what an int64 of milliseconds can hold, or beyond the
// API's ±9999999999999 ms, is an error as it is for Query, not MinInt64.
func TestQueryRangeTimestampRange(t *testing.T) {
	tests := []struct {
		ts      string
		wantMs  int64
		wantErr string
	}{
		{"1700000000.123", 1700000000123, ""},
		{"9999999999.999", 9999999999999, ""},
		{"-9999999999.999", -9999999999999, ""},
		{"10000000000", 0, "apptuit: promql: series 0 point 0: timestamp 1e+10 is out of range (at most 9999999999999 ms in magnitude)"},
		{"1e300", 0, "apptuit: promql: series 0 point 0: timestamp 1e+300 is out of range (at most 9999999999999 ms in magnitude)"},
		{"-1e300", 0, "apptuit: promql: series 0 point 0: timestamp -1e+300 is out of range (at most 9999999999999 ms in magnitude)"},
		{"-9.3e15", 0, "apptuit: promql: series 0 point 0: timestamp -9.3e+15 is out of range (at most 9999999999999 ms in magnitude)"},
		{`"NaN"`, 0, `apptuit: promql: series 0 point 0: want [seconds, "value"], got [NaN 1]`},
	}
	for _, tt := range tests {
		body := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"m"},"values":[[` + tt.ts + `,"1"]]}]}}`
		res, err := decodePromQLResponse([]byte(body), 200, "m")
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr || res != nil {
				t.Errorf("%s: %v, %v; want error %q", tt.ts, res, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.ts, err)
			continue
		}
		if got := res.Output(0).Series[0].ts[0]; got != tt.wantMs {
			t.Errorf("%s: %d ms, want %d", tt.ts, got, tt.wantMs)
		}
	}
}

// FuzzDecodePromQLResponse: the PromQL decoder never panics, and a decoded
// point always has a timestamp within the API's range.
func FuzzDecodePromQLResponse(f *testing.F) {
	f.Add([]byte(promMatrix))
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1e300,"1"]]}]}}`))
	f.Add([]byte(`{"status":"error","errorType":"bad_data","error":"x"}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]},"warnings":["server returned HTTP status 401 Unauthorized"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := decodePromQLResponse(data, 200, "q")
		if err != nil {
			if res != nil {
				t.Fatalf("result with error %v", err)
			}
			return
		}
		for _, s := range res.Output(0).Series {
			if len(s.ts) != len(s.vals) {
				t.Fatalf("%d timestamps, %d values", len(s.ts), len(s.vals))
			}
			for _, ms := range s.ts {
				if ms > 9999999999999 || ms < -9999999999999 {
					t.Fatalf("timestamp %d ms out of range", ms)
				}
			}
		}
	})
}
