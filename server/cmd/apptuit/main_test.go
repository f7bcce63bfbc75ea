package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
)

// cleanEnv clears the environment variables the command and the library
// read, so that the tests do not depend on the caller's.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"APPTUIT_API_ENDPOINT", "APPTUIT_API_TOKEN", "APPTUIT_PY_TOKEN",
		"APPTUIT_TAGS", "APPTUIT_PY_TAGS", "APPTUIT_DISABLE_HOST_TAG"} {
		t.Setenv(k, "")
	}
}

// safeBuffer is a bytes.Buffer safe for concurrent use.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCmd runs the command line args with stdin and returns the exit
// status, standard output and standard error.
func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelp(t *testing.T) {
	cleanEnv(t)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"help", "--help"}, {"help", "-h"}, {"help", "help"}} {
		code, out, errOut := runCmd(t, "", args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{"Usage:", "serve", "send", "query", "demo", "APPTUIT_API_ENDPOINT", "APPTUIT_API_TOKEN"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
	}
	for _, cmd := range []string{"serve", "send", "query", "demo"} {
		for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {cmd, "-help"}, {"help", cmd}} {
			code, out, errOut := runCmd(t, "", args...)
			if code != 0 || errOut != "" {
				t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
			}
			for _, want := range []string{"Usage: apptuit " + cmd, "Flags:", "Examples:", "  apptuit " + cmd} {
				if !strings.Contains(out, want) {
					t.Errorf("%v: output lacks %q:\n%s", args, want, out)
				}
			}
		}
	}
}

// A usage error prints one line and where the help is, not the help.
func TestUsageErrors(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		args []string
		want string // the whole of standard error
	}{
		{[]string{"bogus"}, "apptuit: unknown command \"bogus\"\nsee 'apptuit --help'\n"},
		{[]string{"help", "bogus"}, "apptuit help: unknown command \"bogus\"\nsee 'apptuit --help'\n"},
		{[]string{"help", "send", "query"}, "apptuit help: want at most one command, got 2 arguments\nsee 'apptuit help --help'\n"},
		{[]string{"send", "--bogus"}, "apptuit send: flag provided but not defined: -bogus\nsee 'apptuit send --help'\n"},
		{[]string{"send", "--tag", "novalue"}, "apptuit send: --tag novalue: want k=v with a non-empty key and value\nsee 'apptuit send --help'\n"},
		{[]string{"send", "a", "b"}, "apptuit send: want at most one FILE, got 2 arguments\nsee 'apptuit send --help'\n"},
		{[]string{"send", "--batch", "0"}, "apptuit send: --batch 0: want a number of points, 1 or more\nsee 'apptuit send --help'\n"},
		{[]string{"send", "--endpoint", "http:///"}, "apptuit send: --endpoint http:///: want an http:// or https:// URL\nsee 'apptuit send --help'\n"},
		{[]string{"send", "--endpoint", "HTTP://x"}, "apptuit send: --endpoint HTTP://x: want an http:// or https:// URL\nsee 'apptuit send --help'\n"},
		{[]string{"send", "--endpoint", "localhost:4242"}, "apptuit send: --endpoint localhost:4242: want an http:// or https:// URL\nsee 'apptuit send --help'\n"},
		{[]string{"send"}, "apptuit send: no API token: pass --token or set APPTUIT_API_TOKEN (https://api.apptuit.ai needs one)\nsee 'apptuit send --help'\n"},
		{[]string{"send", "--endpoint", "https://eu.apptuit.ai"}, "apptuit send: no API token: pass --token or set APPTUIT_API_TOKEN (https://eu.apptuit.ai needs one)\nsee 'apptuit send --help'\n"},
		{[]string{"send", "--timeout", "-1s", "--endpoint", "http://127.0.0.1:1"}, "apptuit send: --timeout -1s: want " + durationSyntax + "\nsee 'apptuit send --help'\n"},
		{[]string{"send", "--max-errors", "-1", "--endpoint", "http://127.0.0.1:1"}, "apptuit send: --max-errors -1: want a number, 0 (all) or more\nsee 'apptuit send --help'\n"},
		{[]string{"query", "--timeout", "-1s", "--endpoint", "http://127.0.0.1:1", "fetch('m')"}, "apptuit query: --timeout -1s: want " + durationSyntax + "\nsee 'apptuit query --help'\n"},
		{[]string{"query"}, "apptuit query: want one QUERY, got 0 arguments\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--format", "xml", "fetch('m')"}, "apptuit query: --format xml: want one of table, csv, json, chart\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--start", "yesterday", "fetch('m')"}, "apptuit query: --start yesterday: " + timeSyntax + "\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--start", "-1h", "--end", "-2h", "fetch('m')"}, "apptuit query: --end -2h is before --start -1h\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--step", "1m", "fetch('m')"}, "apptuit query: --step is for --promql\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--promql-path", "/api/v1/query_range", "fetch('m')"}, "apptuit query: --promql-path is for --promql\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--promql", "--promql-path", "api/v1/query_range", "up"}, "apptuit query: --promql-path api/v1/query_range: want a path starting with '/'\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--width", "0", "fetch('m')"}, "apptuit query: --width 0: want 20 to 1000 columns\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--width", "100000", "fetch('m')"}, "apptuit query: --width 100000: want 20 to 1000 columns\nsee 'apptuit query --help'\n"},
		{[]string{"query", "--height", "1", "fetch('m')"}, "apptuit query: --height 1: want 2 to 200 rows\nsee 'apptuit query --help'\n"},
		{[]string{"serve", "--listen", "nonsense"}, "bad --listen address"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"demo", "--duration", "0s"}, "--duration must be more than 0"},
		{[]string{"demo", "--interval", "0"}, "--interval must be more than 0"},
		{[]string{"demo", "--interval", "-1s"}, "--interval -1s: want " + durationSyntax},
	} {
		code, out, errOut := runCmd(t, "", tc.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		if out != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, out)
		}
		if strings.HasPrefix(tc.want, "apptuit") {
			if errOut != tc.want {
				t.Errorf("%v: stderr\n%q\nwant\n%q", tc.args, errOut, tc.want)
			}
			continue
		}
		// serve and demo: their messages are theirs, the form is usageError's.
		cmd := tc.args[0]
		if !strings.HasPrefix(errOut, "apptuit "+cmd+": ") || !strings.Contains(errOut, tc.want) ||
			!strings.HasSuffix(errOut, "\nsee 'apptuit "+cmd+" --help'\n") || strings.Count(errOut, "\n") != 2 {
			t.Errorf("%v: stderr %q", tc.args, errOut)
		}
	}
	// No command at all: the main help, on standard error.
	code, out, errOut := runCmd(t, "")
	if code != 2 || out != "" || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Without a token, an endpoint other than Apptuit's gets requests without
// an Authorization header.
func TestNoToken(t *testing.T) {
	cleanEnv(t)
	srv := apptuittest.NewServer()
	defer srv.Close()
	code, _, errOut := runCmd(t, "m 1700000000 1 k=v\n", "send", "--endpoint", srv.URL())
	if code != 0 || len(srv.Points()) != 1 {
		t.Fatalf("exit %d, %d points, stderr %q", code, len(srv.Points()), errOut)
	}
	code, out, errOut := runCmd(t, "", "query", "--endpoint", srv.URL(), "--start", "1699999000", "--end", "1700000100", "--format", "csv", "fetch('m')")
	if code != 0 || out != ",m{k:v}\n2023-11-14 22:13:20,1.0\n" {
		t.Errorf("query: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, r := range srv.Requests() {
		if _, ok := r.Header["Authorization"]; ok {
			t.Errorf("%s %s sent Authorization %q", r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
	// A token from the environment is still sent.
	srv2 := apptuittest.NewServer(apptuittest.WithToken("env-token"))
	defer srv2.Close()
	t.Setenv("APPTUIT_API_TOKEN", "env-token")
	if code, _, errOut := runCmd(t, "m 1700000000 1 k=v\n", "send", "--endpoint", srv2.URL()); code != 0 || len(srv2.Points()) != 1 {
		t.Errorf("env token: exit %d, stderr %q", code, errOut)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	cleanEnv(t)
	// The flag after the query is parsed; "--" ends the flags.
	code, _, errOut := runCmd(t, "", "query", "fetch('m')", "--format", "xml")
	if code != 2 || !strings.Contains(errOut, `--format xml: want one of table, csv, json, chart`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "", "query", "--", "fetch('m')", "--format")
	if code != 2 || !strings.Contains(errOut, "want one QUERY, got 2 arguments") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := runCmd(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "apptuit ") || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// explain words the library's typed errors with the command's flags and
// variables, never the library's Go names.
func TestExplain(t *testing.T) {
	deadline := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/api/put", Err: context.DeadlineExceeded}
	for _, tc := range []struct {
		name      string
		tokenFrom string
		err       error
		want      string
	}{
		{"401 without a token", "", &apptuit.HTTPError{Op: "send", StatusCode: 401, Undelivered: 2, Total: 2},
			"apptuit: send: 2 points not delivered: the server wants an API token (401 Unauthorized) and none was sent: pass --token or set APPTUIT_API_TOKEN"},
		{"401 with a token", "APPTUIT_PY_TOKEN", &apptuit.HTTPError{Op: "query", StatusCode: 401, Message: "bad\x1b[2J token"},
			`apptuit: query: the API token from APPTUIT_PY_TOKEN was rejected (401 Unauthorized): bad\x1b[2J token`},
		{"401 wrapped", "--token", fmt.Errorf("wrapped: %w", &apptuit.HTTPError{Op: "send", StatusCode: 401, Message: "Unauthorized", Undelivered: 1, Total: 3}),
			"apptuit: send: 1 of 3 points not delivered: the API token from --token was rejected (401 Unauthorized)"},
		{"timeout", "", &apptuit.NetworkError{Op: "send", Attempts: 3, Undelivered: 1, Total: 1, Err: deadline},
			"apptuit: send: 1 point not delivered: no answer within --timeout 1m30s (3 attempts): pass a longer --timeout, or check that http://127.0.0.1:1 answers"},
		{"response too large", "", fmt.Errorf("apptuit: query: %w", apptuit.ErrResponseTooLarge),
			"apptuit: query: the answer is larger than 256 MiB, the most this command reads: query a shorter time range (--start, --end) or fewer series"},
		{"a JSON type error", "", fmt.Errorf("apptuit: promql: decoding the response: %w", &json.UnmarshalTypeError{Value: "string", Field: "data.result", Type: reflect.TypeOf(0)}),
			`apptuit: query: the server's answer is not one this command reads: a JSON string at "data.result", where another type belongs (check --endpoint, and --promql-path with --promql)`},
		{"anything else, escaped", "", errors.New("apptuit: query: server answered 503 Service Unavailable: \x07busy\n"),
			`apptuit: query: server answered 503 Service Unavailable: \abusy\n`},
	} {
		c := &clientFlags{endpoint: "http://127.0.0.1:1", timeout: 90 * time.Second, tokenFrom: tc.tokenFrom}
		if got := c.explain(tc.err); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
