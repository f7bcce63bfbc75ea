package apptuittest

import (
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

const (
	good1 = `{"metric":"m1","timestamp":1500000000,"value":1.5,"tags":{"host":"a"}}`
	good2 = `{"metric":"m2","timestamp":1500000001,"value":"42","tags":{"host":"b","dc":"x"}}`
	bad1  = `{"metric":"","timestamp":1500000000,"value":1,"tags":{"host":"a"}}`

	someFailed = `{"error":{"code":400,"message":"One or more data points had errors","details":"Please see the TSD logs or append \"details\" to the put request"}}`
)

func TestPutStatuses(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		body   string
		status int
		resp   string
		stored int
	}{
		{"object no flag", "", good1, 204, "", 1},
		{"array no flag", "", "[" + good1 + "," + good2 + "]", 204, "", 2},
		{"summary", "summary", "[" + good1 + "," + good2 + "]", 200, `{"success":2,"failed":0}`, 2},
		{"details", "details", good1, 200, `{"success":1,"failed":0,"errors":[]}`, 1},
		{"details wins", "summary&details", good1, 200, `{"success":1,"failed":0,"errors":[]}`, 1},
		{"details with value", "details=true", good1, 200, `{"success":1,"failed":0,"errors":[]}`, 1},
		{"sync ignored", "sync&sync_timeout=100", good1, 204, "", 1},
		{"partial no flag", "", "[" + good1 + "," + bad1 + "," + good2 + "]", 400, someFailed, 2},
		{"partial summary", "summary", "[" + good1 + "," + bad1 + "]", 400, `{"success":1,"failed":1}`, 1},
		{"partial details", "details", "[" + bad1 + "," + good1 + "]", 400,
			`{"success":1,"failed":1,"errors":[{"datapoint":{"metric":"","timestamp":1500000000,"value":"1","tags":{"host":"a"}},"error":"Metric name was empty"}]}`, 1},
		{"all bad", "", bad1, 400, someFailed, 0},
		{"leading space", "", " \n\t" + good1, 204, "", 1},
		{"unknown fields", "", `{"metric":"m","timestamp":1,"value":1,"tags":{"h":"a"},"extra":[1,{"x":2}]}`, 204, "", 1},
		{"empty body", "", "", 400, `{"error":{"code":400,"message":"Missing request content"}}`, 0},
		{"blank body", "", " \n ", 400, `{"error":{"code":400,"message":"Missing request content"}}`, 0},
		{"not object", "", `"m"`, 400, `{"error":{"code":400,"message":"The JSON must start as an object or an array"}}`, 0},
		{"garbage", "details", `put m 1 1 h=a`, 400, `{"error":{"code":400,"message":"The JSON must start as an object or an array"}}`, 0},
		{"truncated", "", `[` + good1, 400, `{"error":{"code":400,"message":"Unable to parse the given JSON"}}`, 0},
		{"trailing", "", good1 + `x`, 400, `{"error":{"code":400,"message":"Unable to parse the given JSON"}}`, 0},
		{"array of numbers", "", `[1]`, 400, `{"error":{"code":400,"message":"Unable to parse the given JSON"}}`, 0},
		{"null element", "", `[` + good1 + `,null]`, 400, `{"error":{"code":400,"message":"Unable to parse the given JSON"}}`, 0},
		{"tags not object", "", `[` + good1 + `,{"metric":"m","timestamp":1,"value":1,"tags":"h=a"}]`, 400, `{"error":{"code":400,"message":"Unable to parse the given JSON"}}`, 0},
		{"metric object", "", `{"metric":{},"timestamp":1,"value":1,"tags":{"h":"a"}}`, 400, `{"error":{"code":400,"message":"Unable to parse the given JSON"}}`, 0},
		{"tag value object", "", `{"metric":"m","timestamp":1,"value":1,"tags":{"h":["a"]}}`, 400, `{"error":{"code":400,"message":"Unable to parse the given JSON"}}`, 0},
		{"empty array", "", `[]`, 400, `{"error":{"code":400,"message":"No datapoints found in content"}}`, 0},
		{"empty array details", "details", ` [ ] `, 400, `{"error":{"code":400,"message":"No datapoints found in content"}}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			code, body := post(t, srv, tt.query, tt.body)
			if code != tt.status || body != tt.resp {
				t.Errorf("got %d %s\nwant %d %s", code, body, tt.status, tt.resp)
			}
			if n := len(srv.Points()); n != tt.stored {
				t.Errorf("stored %d points, want %d", n, tt.stored)
			}
		})
	}
}

func manyTags(n int) (string, string) {
	var js, jm []string
	for i := 0; i < n; i++ {
		js = append(js, fmt.Sprintf(`"k%02d":"v"`, i))
		jm = append(jm, fmt.Sprintf("k%02d=v", i))
	}
	return "{" + strings.Join(js, ",") + "}", "{" + strings.Join(jm, ", ") + "}"
}

func TestPutPointMessages(t *testing.T) {
	tags26, tags26Java := manyTags(26)
	tags25, _ := manyTags(25)
	tests := []struct {
		name  string
		point string
		msg   string // "" = accepted
	}{
		{"good", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, ""},
		{"empty metric", `{"metric":"","timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, "Metric name was empty"},
		{"missing metric", `{"timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, "Metric name was empty"},
		{"null metric", `{"metric":null,"timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, "Metric name was empty"},
		{"zero timestamp", `{"metric":"m","timestamp":0,"value":1,"tags":{"h":"a"}}`, "Invalid timestamp"},
		{"missing timestamp", `{"metric":"m","value":1,"tags":{"h":"a"}}`, "Invalid timestamp"},
		{"negative timestamp", `{"metric":"m","timestamp":-5,"value":1,"tags":{"h":"a"}}`, "Invalid timestamp"},
		{"float timestamp", `{"metric":"m","timestamp":1500000000.5,"value":1,"tags":{"h":"a"}}`, "Invalid timestamp"},
		{"exponent timestamp", `{"metric":"m","timestamp":1.5e9,"value":1,"tags":{"h":"a"}}`, "Invalid timestamp"},
		{"string timestamp", `{"metric":"m","timestamp":"abc","value":1,"tags":{"h":"a"}}`, "Invalid timestamp"},
		{"digits string timestamp", `{"metric":"m","timestamp":"1500000000","value":1,"tags":{"h":"a"}}`, ""},
		{"timestamp too large", `{"metric":"m","timestamp":10000000000000,"value":1,"tags":{"h":"a"}}`, "Invalid timestamp"},
		{"timestamp overflow", `{"metric":"m","timestamp":99999999999999999999,"value":1,"tags":{"h":"a"}}`, "Invalid timestamp"},
		{"largest ms timestamp", `{"metric":"m","timestamp":9999999999999,"value":1,"tags":{"h":"a"}}`, ""},
		{"empty value", `{"metric":"m","timestamp":1500000000,"value":"","tags":{"h":"a"}}`, "Empty value"},
		{"missing value", `{"metric":"m","timestamp":1500000000,"tags":{"h":"a"}}`, "Empty value"},
		{"null value", `{"metric":"m","timestamp":1500000000,"value":null,"tags":{"h":"a"}}`, "Empty value"},
		{"missing tags", `{"metric":"m","timestamp":1500000000,"value":1}`, "Missing tags"},
		{"null tags", `{"metric":"m","timestamp":1500000000,"value":1,"tags":null}`, "Missing tags"},
		{"empty tags", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{}}`, "Missing tags"},
		{"NaN string", `{"metric":"m","timestamp":1500000000,"value":"NaN","tags":{"h":"a"}}`, "Unable to parse value to a number"},
		{"Infinity string", `{"metric":"m","timestamp":1500000000,"value":"Infinity","tags":{"h":"a"}}`, "Unable to parse value to a number"},
		{"word value", `{"metric":"m","timestamp":1500000000,"value":"abc","tags":{"h":"a"}}`, "Unable to parse value to a number"},
		{"bool value", `{"metric":"m","timestamp":1500000000,"value":true,"tags":{"h":"a"}}`, "Unable to parse value to a number"},
		{"two dots", `{"metric":"m","timestamp":1500000000,"value":"1.2.3","tags":{"h":"a"}}`, "Unable to parse value to a number"},
		{"hex value", `{"metric":"m","timestamp":1500000000,"value":"0x10","tags":{"h":"a"}}`, "Unable to parse value to a number"},
		{"int overflow", `{"metric":"m","timestamp":1500000000,"value":"99999999999999999999","tags":{"h":"a"}}`, "Unable to parse value to a number"},
		{"float overflow", `{"metric":"m","timestamp":1500000000,"value":1e999,"tags":{"h":"a"}}`, "value is NaN or Infinite: 1e999"},
		{"float overflow string", `{"metric":"m","timestamp":1500000000,"value":"-1.0e400","tags":{"h":"a"}}`, "value is NaN or Infinite: -1.0e400"},
		{"numeric string", `{"metric":"m","timestamp":1500000000,"value":"-2.5e3","tags":{"h":"a"}}`, ""},
		{"25 tags", `{"metric":"m","timestamp":1500000000,"value":1,"tags":` + tags25 + `}`, ""},
		{"26 tags", `{"metric":"m","timestamp":1500000000,"value":1,"tags":` + tags26 + `}`, "Too many tags: 26 maximum allowed: 25, tags: " + tags26Java},
		{"metric space", `{"metric":"cpu load","timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, `Invalid metric name ("cpu load"): illegal character:  `},
		{"metric bang", `{"metric":"cpu!","timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, `Invalid metric name ("cpu!"): illegal character: !`},
		{"metric braces", `{"metric":"m{a=b}","timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, `Invalid metric name ("m{a=b}"): illegal character: {`},
		{"metric unicode", `{"metric":"métrique.ü-1_2/3","timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, ""},
		{"metric emoji", `{"metric":"m😀","timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, `Invalid metric name ("m😀"): illegal character: 😀`},
		{"metric quote", `{"metric":"a\"b","timestamp":1500000000,"value":1,"tags":{"h":"a"}}`, `Invalid metric name ("a"b"): illegal character: "`},
		{"tag key tab", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"a\tb":"v"}}`, "Invalid tag name with value [v] (\"a\tb\"): illegal character: \t"},
		{"tag key", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"ho$t":"a"}}`, `Invalid tag name with value [a] ("ho$t"): illegal character: $`},
		{"empty tag key", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"":"a"}}`, `Invalid tag name with value [a]: empty string`},
		{"empty tag value", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"host":""}}`, `Invalid tag value with key [host]: empty string`},
		{"null tag value", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"host":null}}`, `Invalid tag value with key [host]: null`},
		{"free tag value", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"path":"/a b?c=d&é"}}`, ""},
		{"numeric tag value", `{"metric":"m","timestamp":1500000000,"value":1,"tags":{"port":8080}}`, ""},
		{"first failure wins", `{"metric":"","timestamp":0,"value":"","tags":{}}`, "Metric name was empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			code, body := post(t, srv, "details", "["+tt.point+"]")
			if tt.msg == "" {
				if code != 200 || body != `{"success":1,"failed":0,"errors":[]}` {
					t.Errorf("got %d %s, want accepted", code, body)
				}
				return
			}
			if code != 400 || !strings.Contains(body, `"error":`+jsonString(tt.msg)+`}]}`) || !strings.HasPrefix(body, `{"success":0,"failed":1,`) {
				t.Errorf("got %d %s\nwant error %q", code, body, tt.msg)
			}
			if len(srv.Points()) != 0 {
				t.Error("a bad point was stored")
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := jsonMarshal(s)
	return string(b)
}

// TestPutPythonTokens sends what apptuit-py's json.dumps writes for NaN and
// infinities: bare tokens that are not JSON. Only their points fail.
func TestPutPythonTokens(t *testing.T) {
	srv := newServer(t)
	body := `[{"metric": "m", "timestamp": 1500000000, "value": NaN, "tags": {"h": "NaN Infinity"}}, ` +
		`{"metric": "m", "timestamp": 1500000001, "value": Infinity, "tags": {"h": "a"}}, ` +
		`{"metric": "m", "timestamp": 1500000002, "value": -Infinity, "tags": {"h": "a\"NaN"}}, ` +
		`{"metric": "m", "timestamp": 1500000003, "value": 1024.0, "tags": {"h": "a"}}, ` +
		`{"metric": "m", "timestamp": 1500000004, "value": 1e-07, "tags": {"h": "a"}}]`
	code, resp := post(t, srv, "details", body)
	want := `{"success":2,"failed":3,"errors":[` +
		`{"datapoint":{"metric":"m","timestamp":1500000000,"value":"NaN","tags":{"h":"NaN Infinity"}},"error":"Unable to parse value to a number"},` +
		`{"datapoint":{"metric":"m","timestamp":1500000001,"value":"Infinity","tags":{"h":"a"}},"error":"Unable to parse value to a number"},` +
		`{"datapoint":{"metric":"m","timestamp":1500000002,"value":"-Infinity","tags":{"h":"a\"NaN"}},"error":"Unable to parse value to a number"}]}`
	if code != 400 || resp != want {
		t.Errorf("got %d %s\nwant 400 %s", code, resp, want)
	}
	got := srv.Points()
	wantPts := []apptuit.DataPoint{
		{Metric: "m", Tags: map[string]string{"h": "a"}, Timestamp: time.Unix(1500000003, 0).UTC(), Value: 1024},
		{Metric: "m", Tags: map[string]string{"h": "a"}, Timestamp: time.Unix(1500000004, 0).UTC(), Value: 1e-7},
	}
	if !reflect.DeepEqual(got, wantPts) {
		t.Errorf("points %+v\nwant %+v", got, wantPts)
	}
	// A bare token elsewhere than a value is still not JSON.
	code, resp = post(t, srv, "", `[{"metric": "m", "timestamp": 1, "value": 1, "tags": {"h": "a"}} NaN]`)
	if code != 400 || resp != `{"error":{"code":400,"message":"Unable to parse the given JSON"}}` {
		t.Errorf("got %d %s", code, resp)
	}
}

func TestPutTimestampsAndValues(t *testing.T) {
	srv := newServer(t)
	body := `[{"metric":"m","timestamp":1500000000123,"value":1,"tags":{"h":"a"}},
	{"metric":"m","timestamp":4294967295,"value":"2","tags":{"h":"a"}},
	{"metric":"m","timestamp":4294967296,"value":"-3.5","tags":{"h":"a"}},
	{"metric":"m","timestamp":1,"value":"+4","tags":{"h":"a"}},
	{"metric":"m","timestamp":9999999999999,"value":5e2,"tags":{"h":"a"}}]`
	if code, resp := post(t, srv, "", body); code != 204 {
		t.Fatalf("got %d %s", code, resp)
	}
	want := []struct {
		ts time.Time
		v  float64
	}{
		{time.UnixMilli(1500000000123), 1},
		{time.Unix(4294967295, 0), 2},
		{time.UnixMilli(4294967296), -3.5},
		{time.Unix(1, 0), 4},
		{time.UnixMilli(9999999999999), 500},
	}
	got := srv.Points()
	if len(got) != len(want) {
		t.Fatalf("%d points", len(got))
	}
	for i, w := range want {
		if !got[i].Timestamp.Equal(w.ts) || got[i].Timestamp.Location() != time.UTC || got[i].Value != w.v {
			t.Errorf("point %d = %v %v, want %v %v", i, got[i].Timestamp, got[i].Value, w.ts.UTC(), w.v)
		}
	}
}

func TestPutEncodings(t *testing.T) {
	body := "[" + good1 + "," + good2 + "]"
	tests := []struct {
		name   string
		enc    string
		body   []byte
		status int
		resp   string
	}{
		{"identity", "identity", []byte(body), 204, ""},
		{"gzip", "gzip", gz(body), 204, ""},
		{"x-gzip", "x-gzip", gz(body), 204, ""},
		{"deflate zlib", "deflate", zl(body), 204, ""},
		{"Deflate case", "Deflate", zl(body), 204, ""},
		{"raw deflate", "deflate", rawDeflate(body), 400, `{"error":{"code":400,"message":"zlib: invalid header"}}`},
		{"gzip not gzip", "gzip", []byte(body), 400, `{"error":{"code":400,"message":"gzip: invalid header"}}`},
		{"gzip truncated", "gzip", gz(body)[:20], 400, `{"error":{"code":400,"message":"unexpected EOF"}}`},
		{"gzip of nothing", "gzip", gz(""), 400, `{"error":{"code":400,"message":"Missing request content"}}`},
		{"brotli", "br", []byte(body), 415, `{"error":{"code":415,"message":"unsupported Content-Encoding \"br\" (want gzip, deflate or identity)"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			code, resp, _ := do(t, "POST", srv.URL()+"/api/put", tt.body, map[string]string{"Content-Encoding": tt.enc})
			if code != tt.status || resp != tt.resp {
				t.Errorf("got %d %s\nwant %d %s", code, resp, tt.status, tt.resp)
			}
			wantN := 0
			if tt.status == 204 {
				wantN = 2
			}
			if n := len(srv.Points()); n != wantN {
				t.Errorf("stored %d", n)
			}
			if r := srv.Requests(); len(r) != 1 || (tt.status == 204 && r[0].BodySize != int64(len(body))) {
				t.Errorf("requests %+v", r)
			}
		})
	}
}

func TestPutLimits(t *testing.T) {
	body := "[" + strings.Repeat(good1+",", 20) + good1 + "]" // 21 points, ~1.5 KB
	srv := newServer(t, WithMaxBodySize(1000), WithMaxDecompressedSize(1200))
	tooBig := `{"error":{"code":413,"message":"Request Entity Too Large: the body exceeds 1000 bytes"}}`
	tooBigDec := `{"error":{"code":413,"message":"Request Entity Too Large: the decompressed body exceeds 1200 bytes"}}`
	if code, resp := post(t, srv, "", body); code != 413 || resp != tooBig {
		t.Errorf("identity: %d %s", code, resp)
	}
	// Without Content-Length (chunked): found while reading.
	req, _ := http.NewRequest("POST", srv.URL()+"/api/put", strings.NewReader(body))
	req.ContentLength = -1
	req.Body = io.NopCloser(strings.NewReader(body))
	req.GetBody = nil
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked: %d", resp.StatusCode)
	}
	if code, resp, _ := do(t, "POST", srv.URL()+"/api/put", gz(body), map[string]string{"Content-Encoding": "gzip"}); code != 413 || resp != tooBigDec {
		t.Errorf("gzip: %d %s", code, resp)
	}
	small := "[" + good1 + "," + good2 + "]"
	if code, resp, _ := do(t, "POST", srv.URL()+"/api/put", zl(small), map[string]string{"Content-Encoding": "deflate"}); code != 204 {
		t.Errorf("small: %d %s", code, resp)
	}
	if n := len(srv.Points()); n != 2 {
		t.Errorf("stored %d, want 2", n)
	}
}

func TestAuthMethodsPaths(t *testing.T) {
	srv := newServer(t, WithToken("s3cret"))
	unauth := `{"error":{"code":401,"message":"token is invalid: a valid \"Authorization: Bearer \u003ctoken\u003e\" header is required"}}`
	tests := []struct {
		method, path, auth string
		status             int
		resp               string
	}{
		{"POST", "/api/put", "", 401, unauth},
		{"POST", "/api/put", "Bearer wrong", 401, unauth},
		{"POST", "/api/put", "Bearer s3cret2", 401, unauth},
		{"POST", "/api/put", "Basic s3cret", 401, unauth},
		{"POST", "/api/put", "s3cret", 401, unauth},
		{"POST", "/api/put", "Bearer s3cret", 204, ""},
		{"POST", "/api/put", "bearer s3cret", 204, ""},
		{"GET", "/api/query?start=0&q=fetch('m1')", "", 401, unauth},
		{"GET", "/api/put", "Bearer s3cret", 405, `{"error":{"code":405,"message":"Method not allowed: GET (use POST)"}}`},
		{"PUT", "/api/put", "Bearer s3cret", 405, `{"error":{"code":405,"message":"Method not allowed: PUT (use POST)"}}`},
		{"POST", "/api/query", "Bearer s3cret", 405, `{"error":{"code":405,"message":"Method not allowed: POST (use GET)"}}`},
		{"GET", "/api/nope", "Bearer s3cret", 404, `{"error":{"code":404,"message":"Endpoint not found"}}`},
		{"GET", "/", "", 404, `{"error":{"code":404,"message":"Endpoint not found"}}`},
	}
	for _, tt := range tests {
		hdr := map[string]string{}
		if tt.auth != "" {
			hdr["Authorization"] = tt.auth
		}
		var body []byte
		if tt.method != "GET" {
			body = []byte(good1)
		}
		code, resp, h := do(t, tt.method, srv.URL()+tt.path, body, hdr)
		if code != tt.status || resp != tt.resp {
			t.Errorf("%s %s %q: got %d %s\nwant %d %s", tt.method, tt.path, tt.auth, code, resp, tt.status, tt.resp)
		}
		if code == 405 && h.Get("Allow") == "" {
			t.Errorf("%s %s: no Allow header", tt.method, tt.path)
		}
		if code >= 400 && h.Get("Content-Type") != "application/json; charset=UTF-8" {
			t.Errorf("%s %s: Content-Type %q", tt.method, tt.path, h.Get("Content-Type"))
		}
	}
	if n := len(srv.Points()); n != 2 {
		t.Errorf("stored %d, want 2", n)
	}
	for _, r := range srv.Requests() {
		if a := r.Header.Get("Authorization"); strings.Contains(a, "s3cret") {
			t.Errorf("request log holds the token: %q", a)
		}
	}
}

func TestPointsOrderAndReset(t *testing.T) {
	srv := newServer(t)
	post(t, srv, "", "["+good2+","+good1+"]")
	post(t, srv, "", good1)
	got := srv.Points()
	want := []apptuit.DataPoint{
		{Metric: "m2", Tags: map[string]string{"host": "b", "dc": "x"}, Timestamp: time.Unix(1500000001, 0).UTC(), Value: 42},
		{Metric: "m1", Tags: map[string]string{"host": "a"}, Timestamp: time.Unix(1500000000, 0).UTC(), Value: 1.5},
		{Metric: "m1", Tags: map[string]string{"host": "a"}, Timestamp: time.Unix(1500000000, 0).UTC(), Value: 1.5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	got[0].Tags["host"] = "changed"
	if srv.Points()[0].Tags["host"] != "b" {
		t.Error("Points does not return copies")
	}
	srv.FailNext(5, 500)
	srv.Reset()
	if len(srv.Points()) != 0 || len(srv.Requests()) != 0 || srv.PendingFaults() != 0 {
		t.Error("Reset left state behind")
	}
	if code, _ := post(t, srv, "", good1); code != 204 {
		t.Errorf("after reset: %d", code)
	}
}
