package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
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
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
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

func TestUsageErrors(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Commands:"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"help", "bogus"}, `unknown command "bogus"`},
		{[]string{"send", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"send", "--tag", "novalue"}, "want k=v"},
		{[]string{"send", "a", "b"}, "want at most one FILE"},
		{[]string{"send", "--batch", "0"}, "--batch must be at least 1"},
		{[]string{"query"}, "want one QUERY"},
		{[]string{"query", "--format", "xml", "fetch('m')"}, `unknown --format "xml"`},
		{[]string{"query", "--start", "yesterday", "fetch('m')"}, "--start: bad time"},
		{[]string{"query", "--start", "-1h", "--end", "-2h", "fetch('m')"}, "--end is before --start"},
		{[]string{"query", "--step", "1m", "fetch('m')"}, "--step is for --promql"},
		{[]string{"serve", "--listen", "nonsense"}, "bad --listen address"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"demo", "--duration", "0s"}, "--duration must be more than 0"},
		{[]string{"demo", "--interval", "-1s"}, "--interval must be more than 0"},
	} {
		code, out, errOut := runCmd(t, "", tc.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, code)
		}
		if out != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, out)
		}
		if !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%v: stderr lacks %q or the usage:\n%s", tc.args, tc.want, errOut)
		}
	}
}

func TestNoToken(t *testing.T) {
	cleanEnv(t)
	code, _, errOut := runCmd(t, "m 1700000000 1 k=v\n", "send", "--endpoint", "http://127.0.0.1:9")
	if code != 2 || !strings.Contains(errOut, "no API token: pass --token or set APPTUIT_API_TOKEN") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	cleanEnv(t)
	// The flag after the query is parsed; "--" ends the flags.
	code, _, errOut := runCmd(t, "", "query", "fetch('m')", "--format", "xml")
	if code != 2 || !strings.Contains(errOut, `unknown --format "xml"`) {
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
