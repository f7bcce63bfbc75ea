package apptuit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// answer is what the server of an error-table case replies to every request.
type answer struct {
	status int
	body   string
	ctype  string
}

// The answers of real servers, or their shapes (REFERENCE.md §1, §4, §5, §7).
var (
	details400 = answer{400, `{"success":1,"failed":2,"errors":[` +
		`{"datapoint":{"metric":"m","timestamp":1700000001,"value":"NaN","tags":{"a":"b"}},"error":"Unable to parse value to a number"},` +
		`{"datapoint":{"metric":"m","timestamp":1700000002,"value":2.0,"tags":{"a":"b"}},"error":"Value is too cold"}]}`, "application/json"}
	text400    = answer{400, "cannot parse OpenTSDB HTTP request: unexpected end of JSON input\n", "text/plain"}
	deflate400 = answer{400, "expected JSON array or hash\n", "text/plain"}
	auth401    = answer{401, `{"error":"token is invalid"}`, "application/json"}
	forbid403  = answer{403, `{"error":{"code":403,"message":"this token may only read"}}`, "application/json"}
	empty404   = answer{404, "", ""}
	json404    = answer{404, `{"error":{"code":404,"message":"Endpoint not found","details":"The requested endpoint was not found"}}`, "application/json"}
	method405  = answer{405, `{"error":{"code":405,"message":"Method not allowed","details":"The HTTP method [GET] is not permitted for this endpoint"}}`, "application/json"}
	nginx413   = answer{413, "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", "text/html"}
	limit429   = answer{429, "rate limit exceeded: 100 requests per second\n", "text/plain"}
	ise500     = answer{500, `{"error":{"code":500,"message":"Unexpected exception","details":"java.lang.NullPointerException"}}`, "application/json"}
	busy503    = answer{503, "busy\n", "text/plain"}
	nginx504   = answer{504, "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>", "text/html"}
	prom422    = answer{422, `{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}`, "application/json"}
)

func serveAnswer(t *testing.T, a answer, calls *atomic.Int64) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		calls.Add(1)
		if a.ctype != "" {
			w.Header().Set("Content-Type", a.ctype)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedURL is the URL of a loopback port nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

type errOp struct {
	name string
	run  func(c *Client) error
}

var errOps = []errOp{
	{"Send", func(c *Client) error {
		return c.Send(context.Background(), points(3))
	}},
	{"SendTimeSeries", func(c *Client) error {
		s, _ := NewTimeSeries("m", map[string]string{"a": "b"})
		for i := range 3 {
			s.AddUnix(1700000000+int64(i), float64(i))
		}
		return c.SendTimeSeries(context.Background(), []*TimeSeries{s})
	}},
	{"SendPrepared", func(c *Client) error {
		ps, err := c.PrepareSeries("m", map[string]string{"a": "b"})
		if err != nil {
			return err
		}
		pts := make([]PreparedPoint, 3)
		for i := range pts {
			pts[i] = PreparedPoint{Series: ps, UnixMilli: (1700000000 + int64(i)) * 1000, Value: float64(i)}
		}
		return c.SendPrepared(context.Background(), pts)
	}},
	{"Query", func(c *Client) error {
		_, err := c.Query(context.Background(), "fetch('m')", time.Unix(1700000000, 0), time.Time{})
		return err
	}},
	{"QueryRange", func(c *Client) error {
		_, err := c.QueryRange(context.Background(), "up", time.Unix(1700000000, 0), time.Unix(1700003600, 0), time.Minute)
		return err
	}},
}

// TestErrorTable runs every kind of failed answer against Send,
// SendTimeSeries, SendPrepared, Query and QueryRange, and checks the error's type, what
// errors.Is and IsRetryable say of it, the requests made, its fields and
// its exact message. In the messages, OP is "query" or "promql", PATH the
// op's path and URL the server's base URL.
func TestErrorTable(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	cases := []struct {
		name      string
		a         answer
		opts      []Option
		typ       string // the type of the error of the sends
		queryType string // of Query and QueryRange
		unauth    bool
		retry     bool
		status    int
		send      string // the message of Send, SendTimeSeries and SendPrepared
		query     string // the message of Query and QueryRange
	}{
		{"400 details", details400, nil, "*apptuit.SendError", "*apptuit.HTTPError", false, false, 400,
			"apptuit: send: the server refused 2 of 3 points (400 Bad Request)\n" +
				"Unable to parse value to a number error occurred in the datapoint {metric: m, timestamp: 1700000001, value: NaN, tags: map[a:b]}\n" +
				"Value is too cold error occurred in the datapoint {metric: m, timestamp: 1700000002, value: 2.0, tags: map[a:b]}",
			"apptuit: OP: server answered 400 Bad Request: " + details400.body},
		{"400 text", text400, nil, "*apptuit.SendError", "*apptuit.HTTPError", false, false, 400,
			"apptuit: send: the server refused 3 points (400 Bad Request): cannot parse OpenTSDB HTTP request: unexpected end of JSON input",
			"apptuit: OP: server answered 400 Bad Request: cannot parse OpenTSDB HTTP request: unexpected end of JSON input"},
		{"400 text deflate", deflate400, []Option{WithCompression(Deflate)}, "*apptuit.SendError", "*apptuit.HTTPError", false, false, 400,
			"apptuit: send: the server refused 3 points (400 Bad Request): expected JSON array or hash; the server may not accept Content-Encoding: deflate (InfluxDB and VictoriaMetrics 1.79 do not); send with gzip, the default (WithCompression(apptuit.Gzip))",
			"apptuit: OP: server answered 400 Bad Request: expected JSON array or hash"},
		{"401", auth401, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", true, false, 401,
			"apptuit: send: 3 points not delivered: the API token was rejected (401 Unauthorized): token is invalid",
			"apptuit: OP: the API token was rejected (401 Unauthorized): token is invalid"},
		{"403", forbid403, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, false, 403,
			"apptuit: send: 3 points not delivered: server answered 403 Forbidden: this token may only read",
			"apptuit: OP: server answered 403 Forbidden: this token may only read"},
		{"404 empty body", empty404, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, false, 404,
			"apptuit: send: 3 points not delivered: server answered 404 Not Found for POST URL/api/put",
			"apptuit: OP: server answered 404 Not Found for METHOD URLPATH"},
		{"404 JSON", json404, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, false, 404,
			"apptuit: send: 3 points not delivered: server answered 404 Not Found for POST URL/api/put: Endpoint not found (The requested endpoint was not found)",
			"apptuit: OP: server answered 404 Not Found for METHOD URLPATH: Endpoint not found (The requested endpoint was not found)"},
		{"405", method405, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, false, 405,
			"apptuit: send: 3 points not delivered: server answered 405 Method Not Allowed for POST URL/api/put: Method not allowed (The HTTP method [GET] is not permitted for this endpoint)",
			"apptuit: OP: server answered 405 Method Not Allowed for METHOD URLPATH: Method not allowed (The HTTP method [GET] is not permitted for this endpoint)"},
		{"413 at the smallest split", nginx413, nil, "*apptuit.SendError", "*apptuit.HTTPError", false, false, 413,
			"apptuit: send: the server refused 3 points (413 Request Entity Too Large); too large even as 3 points, below which batches are not split (100)",
			"apptuit: OP: server answered 413 Request Entity Too Large"},
		{"422 Prometheus error", prom422, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, false, 422,
			"apptuit: send: 3 points not delivered: server answered 422 Unprocessable Entity: many-to-many matching not allowed",
			"apptuit: OP: server answered 422 Unprocessable Entity: many-to-many matching not allowed"},
		{"429", limit429, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, true, 429,
			"apptuit: send: 3 points not delivered: server answered 429 Too Many Requests after 3 attempts: rate limit exceeded: 100 requests per second",
			"apptuit: OP: server answered 429 Too Many Requests after 3 attempts: rate limit exceeded: 100 requests per second"},
		{"500", ise500, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, true, 500,
			"apptuit: send: 3 points not delivered: server answered 500 Internal Server Error after 3 attempts: Unexpected exception (java.lang.NullPointerException)",
			"apptuit: OP: server answered 500 Internal Server Error after 3 attempts: Unexpected exception (java.lang.NullPointerException)"},
		{"503", busy503, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, true, 503,
			"apptuit: send: 3 points not delivered: server answered 503 Service Unavailable after 3 attempts: busy",
			"apptuit: OP: server answered 503 Service Unavailable after 3 attempts: busy"},
		{"504", nginx504, nil, "*apptuit.HTTPError", "*apptuit.HTTPError", false, true, 504,
			"apptuit: send: 3 points not delivered: server answered 504 Gateway Timeout after 3 attempts: 504 Gateway Time-out",
			"apptuit: OP: server answered 504 Gateway Timeout after 3 attempts: 504 Gateway Time-out"},
		{"network error", answer{}, nil, "*apptuit.NetworkError", "*apptuit.NetworkError", false, true, 0,
			`apptuit: send: 3 points not delivered: no answer after 3 attempts: Post "URL/api/put?details": dial tcp HOST: connect: connection refused`,
			`apptuit: OP: no answer after 3 attempts: METHODX "URLPATHQ": dial tcp HOST: connect: connection refused`},
	}
	opInfo := map[string]struct{ op, method, methodX, path, pathQ string }{
		"Query":      {"query", "GET", "Get", "/api/query", "/api/query?start=1700000000&q=fetch%28%27m%27%29"},
		"QueryRange": {"promql", "POST", "Post", "/api/v1/query_range", "/api/v1/query_range"},
	}
	for _, tc := range cases {
		for _, op := range errOps {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				var calls atomic.Int64
				var url string
				if tc.status == 0 {
					url = closedURL(t)
				} else {
					url = serveAnswer(t, tc.a, &calls)
				}
				opts := append([]Option{WithEndpoint(url), WithToken("secret-token"), WithRetries(2),
					WithBackoff(time.Millisecond, time.Millisecond), WithPromQLPath("/api/v1/query_range")}, tc.opts...)
				c := mustNew(t, opts...)
				err := op.run(c)
				isSend := strings.HasPrefix(op.name, "Send")
				want, typ := tc.send, tc.typ
				if !isSend {
					oi := opInfo[op.name]
					want, typ = tc.query, tc.queryType
					want = strings.NewReplacer("OP", oi.op, "METHODX", oi.methodX, "METHOD", oi.method,
						"URLPATHQ", url+oi.pathQ, "URLPATH", url+oi.path).Replace(want)
				}
				want = strings.NewReplacer("URL", url, "HOST", strings.TrimPrefix(url, "http://")).Replace(want)
				if got := fmt.Sprintf("%T", err); got != typ {
					t.Fatalf("error %T %v, want a %s", err, err, typ)
				}
				if got := err.Error(); got != want {
					t.Errorf("Error()\n got %q\nwant %q", got, want)
				}
				if strings.Contains(err.Error(), "secret-token") {
					t.Errorf("the error shows the token")
				}
				if errors.Is(err, ErrUnauthorized) != tc.unauth {
					t.Errorf("errors.Is(err, ErrUnauthorized) = %v", !tc.unauth)
				}
				if IsRetryable(err) != tc.retry {
					t.Errorf("IsRetryable = %v", !tc.retry)
				}
				wantCalls := int64(1)
				switch {
				case tc.status == 0:
					wantCalls = 0
				case tc.retry:
					wantCalls = 3
				}
				if calls.Load() != wantCalls {
					t.Errorf("%d requests, want %d", calls.Load(), wantCalls)
				}
				var he *HTTPError
				var se *SendError
				var ne *NetworkError
				switch {
				case errors.As(err, &se):
					if se.StatusCode != tc.status || se.Success+se.Failed != 3 || se.Retryable() {
						t.Errorf("SendError %+v", se)
					}
				case errors.As(err, &he):
					wantN := 0
					if isSend {
						wantN = 3
					}
					if he.StatusCode != tc.status || he.Undelivered != wantN || he.Total != wantN ||
						he.Attempts != int(wantCalls) || he.Body != tc.a.body || he.URL == "" || he.Method == "" {
						t.Errorf("HTTPError %+v", he)
					}
					var pe *PromQLError
					if isProm := errors.As(err, &pe); isProm != (tc.a == prom422 && op.name == "QueryRange") {
						t.Errorf("errors.As PromQLError = %v", isProm)
					} else if isProm && (pe.ErrorType != "execution" || pe.StatusCode != 422) {
						t.Errorf("PromQLError %+v", pe)
					}
				case errors.As(err, &ne):
					if ne.Attempts != 3 {
						t.Errorf("NetworkError %+v", ne)
					}
				}
			})
		}
	}
}
