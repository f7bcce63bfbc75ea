package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
)

// answering returns a server that answers every request with status and
// body, and counts the requests.
func answering(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func lines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "m %d %d k=v\n", 1700000000+i, i)
	}
	return b.String()
}

// A batch that fails with a retryable error once the client's retries are
// spent stops the command: 100,000 lines against a 503 make one batch of
// 50,000 points, tried three times, and the rest is not read.
func TestSendStopsAfterRetryableFailure(t *testing.T) {
	cleanEnv(t)
	srv, n := answering(t, 503, "busy\n")
	code, out, errOut := runCmd(t, lines(100000), "send", "--endpoint", srv.URL, "--token", "t")
	if code != 1 || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	if n.Load() != 3 {
		t.Errorf("%d requests, want 3 (one batch, two retries)", n.Load())
	}
	want := regexp.MustCompile(`^apptuit: send: 50000 points not delivered: server answered 503 Service Unavailable after 3 attempts: busy
sent 0 points in \d+\.\d\d s \(0 points/s\): 50000 not delivered; stopped at the failed batch: the rest of the input was not read
$`)
	if !want.MatchString(errOut) {
		t.Errorf("stderr\n%s", errOut)
	}
}

// The last batch failing: nothing is left unread, so the summary does not
// say so. Errors print once, with one "apptuit:" and no JSON.
func TestSendErrorsPrintOnce(t *testing.T) {
	cleanEnv(t)
	tests := []struct {
		name   string
		status int
		body   string
		want   string // the error line
	}{
		{"404 empty", 404, "", "apptuit: send: 2 points not delivered: server answered 404 Not Found for POST URL/api/put"},
		{"401 JSON", 401, `{"error":"token is invalid"}`, "apptuit: send: 2 points not delivered: the API token from --token was rejected (401 Unauthorized): token is invalid"},
		{"403 OpenTSDB JSON", 403, `{"error":{"code":403,"message":"read-only token"}}`, "apptuit: send: 2 points not delivered: server answered 403 Forbidden: read-only token"},
		{"500", 500, `{"error":{"code":500,"message":"Unexpected exception","details":"NullPointerException"}}`,
			"apptuit: send: 2 points not delivered: server answered 500 Internal Server Error after 3 attempts: Unexpected exception (NullPointerException)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := answering(t, tt.status, tt.body)
			code, _, errOut := runCmd(t, lines(2), "send", "--endpoint", srv.URL, "--token", "secret-token")
			want := regexp.MustCompile("^" + regexp.QuoteMeta(strings.ReplaceAll(tt.want, "URL", srv.URL)) + "\n" +
				`sent 0 points in \d+\.\d\d s \(0 points/s\): 2 not delivered` + "\n$")
			if code != 1 || !want.MatchString(errOut) {
				t.Errorf("exit %d, stderr\n%s", code, errOut)
			}
			if strings.Contains(errOut, "secret-token") {
				t.Error("the token is printed")
			}
		})
	}
}

// A refusal with a message (a text 400, here what InfluxDB answers to
// deflate) is printed once, with what the client can tell.
func TestSendRefusedText(t *testing.T) {
	cleanEnv(t)
	srv, _ := answering(t, 400, `{"success":1,"failed":5}`)
	code, _, errOut := runCmd(t, lines(2), "send", "--endpoint", srv.URL, "--token", "t")
	want := regexp.MustCompile(`^apptuit send: the server refused 2 points \(400 Bad Request\): the server's counts \(success 1, failed 5\) cannot be those of a 400 answer to 2 points, so all of them count as failed
sent 2 points in \d+\.\d\d s \(\d+ points/s\): 0 accepted, 2 refused
$`)
	if code != 1 || !want.MatchString(errOut) {
		t.Errorf("exit %d, stderr\n%s", code, errOut)
	}
}

// --batch defaults to the library's batch size.
func TestSendBatchDefault(t *testing.T) {
	cleanEnv(t)
	fs, _ := sendFlags()
	if got := fs.Lookup("batch").DefValue; got != fmt.Sprint(apptuit.DefaultBatchSize) {
		t.Errorf("--batch default %s, want %d", got, apptuit.DefaultBatchSize)
	}
	srv := apptuittest.NewServer()
	defer srv.Close()
	code, _, errOut := runCmd(t, lines(apptuit.DefaultBatchSize+1), "send", "--endpoint", srv.URL())
	puts := 0
	for _, r := range srv.Requests() {
		if r.Path == "/api/put" {
			puts++
		}
	}
	if code != 0 || puts != 2 || len(srv.Points()) != apptuit.DefaultBatchSize+1 {
		t.Errorf("exit %d, %d requests, %d points, stderr %q", code, puts, len(srv.Points()), errOut)
	}
}

// /dev/null as standard input is not a terminal: no "reading from the
// terminal" hint, and nothing sent.
func TestSendDevNullStdin(t *testing.T) {
	cleanEnv(t)
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Fatal("isTerminal(/dev/null) = true")
	}
	srv := apptuittest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"send", "--endpoint", srv.URL()}, null, &stdout, &stderr)
	if code != 0 || !summaryRE.MatchString(stderr.String()) || !strings.HasPrefix(stderr.String(), "sent 0 points") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestQuery404EmptyBody(t *testing.T) {
	cleanEnv(t)
	srv, _ := answering(t, 404, "")
	code, out, errOut := runCmd(t, "", "query", "--endpoint", srv.URL, "--token", "secret-token", "fetch('m')")
	if want := "apptuit: query: server answered 404 Not Found for GET " + srv.URL + "/api/query\n"; code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d, stdout %q, stderr %q, want %q", code, out, errOut, want)
	}
}

// --promql-path, else APPTUIT_PROMQL_PATH, else the library's default.
func TestQueryPromQLPath(t *testing.T) {
	cleanEnv(t)
	var path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up"},"values":[[1700000000,"1"]]}]}}`)
	}))
	defer srv.Close()
	base := []string{"query", "--endpoint", srv.URL, "--start", "1699999000", "--end", "1700000100", "--format", "csv", "--promql"}
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"", nil, "/prometheus/api/v1/query_range"},
		{"/api/v1/query_range", nil, "/api/v1/query_range"},
		{"/from/env", []string{"--promql-path", "/from/flag"}, "/from/flag"},
	} {
		t.Setenv(EnvPromQLPath, tc.env)
		code, out, errOut := runCmd(t, "", append(append(base, tc.args...), "up")...)
		if code != 0 || out != ",up{}\n2023-11-14 22:13:20,1.0\n" || path.Load() != tc.want {
			t.Errorf("env %q %v: exit %d, path %v, stdout %q, stderr %q", tc.env, tc.args, code, path.Load(), out, errOut)
		}
	}
	t.Setenv(EnvPromQLPath, "no-slash")
	code, _, errOut := runCmd(t, "", append(base, "up")...)
	if code != 2 || errOut != "apptuit query: APPTUIT_PROMQL_PATH no-slash: want a path starting with '/'\nsee 'apptuit query --help'\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestSendOnePoint(t *testing.T) {
	cleanEnv(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	code, _, errOut := runCmd(t, lines(1), "send", "--endpoint", srv.URL())
	if code != 0 || !regexp.MustCompile(`^sent 1 point in \d+\.\d\d s \(\d+ points/s\)\n$`).MatchString(errOut) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
