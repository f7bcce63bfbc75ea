package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	"github.com/apptuit-go/apptuit/server"
)

// The tests in this file run the built command as a user does: a separate
// process with real signals, and a pseudo-terminal where a terminal
// changes what it does.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds the command once per test process and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			binErr = fmt.Errorf("building the command: %v", err)
			return
		}
		binDir, binErr = os.MkdirTemp("", "apptuit-cli-test")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "apptuit")
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// hangServer accepts connections and never answers; accepted receives one
// value per connection.
func hangServer(t *testing.T) (url string, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 100)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + l.Addr().String(), ch
}

// setWinsize sets the size of the terminal f is open on.
func setWinsize(t *testing.T, f *os.File, cols, rows int) {
	t.Helper()
	ws := struct{ Row, Col, X, Y uint16 }{uint16(rows), uint16(cols), 0, 0}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws))); e != 0 {
		t.Fatal(e)
	}
}

// goIdentifier matches what a message must not show: the library's
// options and exported names, Go types and Go's own words for them.
var goIdentifier = regexp.MustCompile(`\bWith[A-Z]\w*|\bapptuit\.[A-Z]|\*?\b[a-z]+\.[A-Z]\w*\b|Go (struct|value|type)|\bmap\[|\bfunc\(|\bstruct ?\{|\bjson: `)

// cliCase is one run of the command.
type cliCase struct {
	name string
	// {fake} stands for the URL of an apptuittest server, {auth} for one
	// that wants the token "secret", {hang} for a server that never
	// answers, {413} for one that answers every request with 413,
	// {hostile} for one that refuses every put with control characters in
	// its message.
	args []string
	env  []string // added to a clean environment

	stdin string // piped to standard input, unless the terminal is
	tty   string // the streams that are the pseudo-terminal: "in", "out", "err", combined
	cols  int    // the terminal's width (default 80)
	typed string // typed on the terminal once the command runs

	// What to do, in order, once the command runs: wait for the text on
	// its standard error (or the terminal), wait for the hanging server
	// to get a connection, then stop the command with SIGINT: Ctrl-C on
	// the terminal when there is one, else kill(2).
	waitText  string
	waitConn  bool
	interrupt bool

	code    int
	stderr  []string // regexps standard error (or the terminal) must match
	stdout  []string // regexps standard output must match (with "out", the terminal)
	notText []string // regexps nothing printed may match
	check   func(t *testing.T, r *cliRun)
}

// cliRun is what a run produced.
type cliRun struct {
	stdout, stderr, term string
	fake                 *apptuittest.Server
	tookAfterSignal      time.Duration
}

// lineWidths returns the width in characters of every line of s.
func lineWidths(s string) []int {
	var w []int
	for _, l := range strings.Split(strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n") {
		w = append(w, utf8.RuneCountInString(l))
	}
	return w
}

// lockedBuffer is a bytes.Buffer for a writer goroutine and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitUntil(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cliServers starts the servers a run may use and returns the replacer of
// their placeholders in arguments.
func cliServers(t *testing.T) (urls *strings.Replacer, fake *apptuittest.Server, accepted <-chan struct{}) {
	fake = apptuittest.NewServer()
	t.Cleanup(fake.Close)
	auth := apptuittest.NewServer(apptuittest.WithToken("secret"))
	t.Cleanup(auth.Close)
	hang, accepted := hangServer(t)
	tooLarge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
	}))
	t.Cleanup(tooLarge.Close)
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"code":400,"message":"\u001b[2Jboom\r\nrefused: forged"}}`)
	}))
	t.Cleanup(hostile.Close)
	urls = strings.NewReplacer("{fake}", fake.URL(), "{hang}", hang, "{auth}", auth.URL(), "{413}", tooLarge.URL, "{hostile}", hostile.URL)
	return urls, fake, accepted
}

// attachTerminal makes a new pseudo-terminal cols wide the standard
// streams of cmd that tty names ("in", "out", "err") and the controlling
// terminal of the command's own session, so that Ctrl-C on it sends SIGINT
// to the command. What the command writes to it is copied to out until
// the command exits (done). The caller closes slave once cmd started.
func attachTerminal(t *testing.T, cmd *exec.Cmd, tty string, cols int, out io.Writer) (master, slave *os.File, done <-chan struct{}) {
	master, slave = openPTY(t)
	setWinsize(t, slave, cmp.Or(cols, 80), 24)
	ctty := -1
	for i, s := range []string{"in", "out", "err"} {
		if !strings.Contains(tty, s) {
			continue
		}
		switch s {
		case "in":
			cmd.Stdin = slave
		case "out":
			cmd.Stdout = slave
		case "err":
			cmd.Stderr = slave
		}
		if ctty < 0 {
			ctty = i
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: ctty}
	ch := make(chan struct{})
	go func() {
		io.Copy(out, master) // until the command exits and slave is closed: EIO
		close(ch)
	}()
	return master, slave, ch
}

// exitCode is the exit status of a command that ended with err.
func exitCode(t *testing.T, err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

func (tc cliCase) run(t *testing.T) *cliRun {
	t.Helper()
	urls, fake, accepted := cliServers(t)
	args := make([]string, len(tc.args))
	for i, a := range tc.args {
		args[i] = urls.Replace(a)
	}
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, tc.env...)
	cmd.Stdin = strings.NewReader(tc.stdin)
	var stdout, stderr, term lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var master, slave *os.File
	var termDone <-chan struct{}
	if tc.tty != "" {
		master, slave, termDone = attachTerminal(t, cmd, tc.tty, tc.cols, &term)
	}
	err := cmd.Start()
	if slave != nil {
		slave.Close() // the command has its own; ours would keep the terminal open
	}
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	errText := func() string { return stderr.String() + term.String() }

	if tc.typed != "" {
		waitUntil(t, "the terminal's prompt", 20*time.Second, func() bool { return strings.Contains(errText(), "from the terminal") })
		master.WriteString(tc.typed)
	}
	if tc.waitText != "" {
		waitUntil(t, fmt.Sprintf("%q on standard error", tc.waitText), 30*time.Second, func() bool { return strings.Contains(errText(), tc.waitText) })
	}
	if tc.waitConn {
		select {
		case <-accepted:
		case <-time.After(30 * time.Second):
			t.Fatalf("the command did not connect; stderr %q", errText())
		}
		time.Sleep(100 * time.Millisecond) // the request is written and waits
	}
	var signalled time.Time
	if tc.interrupt {
		signalled = time.Now()
		if master != nil {
			master.Write([]byte{3}) // Ctrl-C
		} else {
			cmd.Process.Signal(os.Interrupt)
		}
	}
	select {
	case err = <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("still running after 60 s; stderr %q", errText())
	}
	r := &cliRun{fake: fake}
	if !signalled.IsZero() {
		r.tookAfterSignal = time.Since(signalled)
	}
	if termDone != nil {
		select {
		case <-termDone:
		case <-time.After(5 * time.Second):
			t.Error("the terminal did not close after the command exited")
		}
	}
	r.stdout, r.stderr, r.term = stdout.String(), stderr.String(), strings.ReplaceAll(term.String(), "\r\n", "\n")
	if code := exitCode(t, err); code != tc.code {
		t.Errorf("exit %d, want %d\nstdout %q\nstderr %q\nterminal %q", code, tc.code, r.stdout, r.stderr, r.term)
	}
	return r
}

func TestCLI(t *testing.T) {
	// The query rows with seed get two points, from 30 and 29 minutes
	// before they run.
	const seed = "{seed}"
	longLines := "m 1700000000 1 k=v\n" + strings.Repeat("x", 2<<20) + "\nm 1700000001 two k=v\n\nm 1700000002 3 k=v\n"
	oneLine := "m 1700000000 1 k=v\n"

	// In these runs standard input is not a terminal unless tty says so;
	// the send and query rows that need points get them from seed.
	for _, tc := range []cliCase{
		// SIGINT ends send and query at once with status 130.
		{name: "send: Ctrl-C while reading the terminal", tty: "in,err", args: []string{"send", "--endpoint", "{fake}"},
			typed: "m 1700000000 1 k=v\n", waitText: "reading points from the terminal", interrupt: true, code: 130,
			stderr: []string{`interrupted: the rest of the input was not read`}},
		{name: "send: SIGINT while the server does not answer", stdin: oneLine + oneLine,
			args: []string{"send", "--endpoint", "{hang}"}, waitConn: true, interrupt: true, code: 130,
			stderr: []string{`^sent 0 points in \d+\.\d\d s \(0 points/s\): 2 not delivered; interrupted: the rest of the input was not read\n$`}},
		{name: "query: SIGINT while the server does not answer",
			args: []string{"query", "--endpoint", "{hang}", "fetch('m')"}, waitConn: true, interrupt: true, code: 130},
		{name: "query: Ctrl-C while reading the query from the terminal", tty: "in",
			args: []string{"query", "--endpoint", "{fake}", "-"}, waitText: "reading the query from the terminal", interrupt: true, code: 130},
		{name: "send: Ctrl-C while the server does not answer, on a terminal", stdin: oneLine, tty: "err",
			args: []string{"send", "--endpoint", "{hang}"}, waitConn: true, interrupt: true, code: 130},

		// An over-long or malformed line is reported with its number, and
		// the rest is sent.
		{name: "send: over-long and malformed lines", stdin: longLines, args: []string{"send", "--endpoint", "{fake}"}, code: 1,
			stderr: []string{
				`(?m)^line 2: longer than 1048576 bytes \(1 MiB\): 2097152 bytes, skipped: x{200}…$`,
				`(?m)^line 3: bad value "two": m 1700000001 two k=v$`,
				`(?m)^sent 2 points in .*; 2 malformed skipped$`,
			},
			check: func(t *testing.T, r *cliRun) {
				if got := len(r.fake.Points()); got != 2 {
					t.Errorf("%d points stored, want 2", got)
				}
			}},

		// Relative times work wherever a time is taken.
		{name: "query: --start -1h --end +1m", args: []string{"query", "--endpoint", "{fake}", "--start", "-1h", "--end", "+1m", "--format", "csv", "fetch('m')"},
			stdin: seed, stdout: []string{`,7\.0\n`, `,8\.0\n`}},
		{name: "query: --start now-2h --end now", args: []string{"query", "--endpoint", "{fake}", "--start", "now-2h", "--end", "now", "--format", "csv", "fetch('m')"},
			stdin: seed, stdout: []string{`,7\.0\n`, `,8\.0\n`}},
		{name: "query: --end -31m leaves the points out", args: []string{"query", "--endpoint", "{fake}", "--start", "-2h", "--end", "-31m", "--format", "csv", "fetch('m')"},
			stdin: seed, stdout: []string{`^$`}, stderr: []string{`no data`}},
		{name: "query --promql: --start 1h-ago --end +1m", args: []string{"query", "--endpoint", "{fake}", "--promql", "--step", "1m", "--start", "1h-ago", "--end", "+1m", "--format", "csv", "m"},
			stdin: seed, stdout: []string{`,7\.0\n`}},

		// No message names a Go identifier: the flag or variable instead.
		{name: "send: 401 without a token", stdin: oneLine, args: []string{"send", "--endpoint", "{auth}"}, code: 1,
			stderr: []string{`(?m)^apptuit: send: 1 point not delivered: the server wants an API token \(401 Unauthorized\) and none was sent: pass --token or set APPTUIT_API_TOKEN`}},
		{name: "query: 401 with a wrong token", env: []string{"APPTUIT_API_TOKEN=wrong"}, args: []string{"query", "--endpoint", "{auth}", "fetch('m')"}, code: 1,
			stderr: []string{`(?m)^apptuit: query: the API token from APPTUIT_API_TOKEN was rejected \(401 Unauthorized\)`}},
		{name: "send: 413 at the smallest batch", stdin: oneLine, args: []string{"send", "--endpoint", "{413}"}, code: 1,
			stderr: []string{`(?m)^apptuit send: the server refused 1 point \(413 Request Entity Too Large\): too large for the server even after splitting the batch$`}},
		{name: "send: a bad --tag", stdin: oneLine, args: []string{"send", "--endpoint", "{fake}", "--tag", "a b=c"}, code: 2,
			stderr: []string{`^apptuit send: --tag: tag key "a b" has a character outside the allowed set`}},
		{name: "send: no answer within --timeout", stdin: oneLine, args: []string{"send", "--endpoint", "{hang}", "--timeout", "300ms"}, code: 1,
			stderr:  []string{`(?m)^apptuit: send: 1 point not delivered: no answer within --timeout 300ms \(3 attempts\): pass a longer --timeout, or check that http://127\.0\.0\.1:\d+ answers$`},
			notText: []string{`waiting for`}},

		// JSON errors give the line and column.
		{name: "send: truncated JSON", stdin: "[\n {\"metric\": \"a\", \"timestamp\": 1700000000, \"value\": 1, \"tags\": {\"k\": \"v\"}},\n {\"metric\": \"b\",", args: []string{"send", "--endpoint", "{fake}"}, code: 1,
			stderr: []string{`(?m)^apptuit send: reading standard input: line 3, column 17 \(point 2\): the JSON ends in the middle of the point$`}},
		{name: "send: broken JSON", stdin: "[{\"metric\": \"a\", \"timestamp\": 1700000000, \"value\": 1, \"tags\": {\"k\": \"v\"}},\n {\"metric\": \"b\", \"value\": 1e}]", args: []string{"send", "--endpoint", "{fake}"}, code: 1,
			stderr: []string{`(?m)^apptuit send: reading standard input: line 2, column 29 \(point 2\): broken JSON: invalid character '}' in exponent of numeric literal$`}},
		{name: "send: JSON of the wrong type", stdin: "[{\"metric\": \"a\", \"timestamp\": 1700000000, \"value\": 1, \"tags\": {\"k\": 5}}]", args: []string{"send", "--endpoint", "{fake}"}, code: 1,
			stderr: []string{`(?m)^line 1, column 2 \(point 1\): "tags" has a JSON number: want an object of string values: \{`}},

		// Flag value errors name the flag, the value and what is accepted.
		{name: "--batch abc", args: []string{"send", "--batch", "abc"}, code: 2,
			stderr: []string{`^apptuit send: --batch abc: want a number of points, 1 or more\nsee 'apptuit send --help'\n$`}},
		{name: "--format xml", args: []string{"query", "--format", "xml", "fetch('m')"}, code: 2,
			stderr: []string{`^apptuit query: --format xml: want one of table, csv, json, chart\n`}},
		{name: "--timeout 5x", args: []string{"query", "--timeout", "5x", "fetch('m')"}, code: 2,
			stderr: []string{`^apptuit query: --timeout 5x: want a duration such as 30s, 5m, 1h30m, 1\.5h, 7d or 2w \(units ms, s, m, h, d, w\)\n`}},
		{name: "--step -1m", args: []string{"query", "--promql", "--step", "-1m", "up"}, code: 2,
			stderr: []string{`^apptuit query: --step -1m: want a duration such as `}},
		{name: "--end +1x", args: []string{"query", "--end", "+1x", "fetch('m')"}, code: 2,
			stderr: []string{`^apptuit query: --end \+1x: want a duration such as `}},
		{name: "--start tomorrow", args: []string{"query", "--start", "tomorrow", "fetch('m')"}, code: 2,
			stderr: []string{`^apptuit query: --start tomorrow: want now, a time relative to it \(-1h, \+1m, now-2d; units ms, s, m, h, d, w\), Unix seconds or milliseconds, or RFC 3339 \(2026-11-25T15:04:05Z\)\n`}},
		{name: "--width 5", args: []string{"query", "--width", "5", "fetch('m')"}, code: 2,
			stderr: []string{`^apptuit query: --width 5: want 20 to 1000 columns\n`}},
		{name: "--max-errors -1", args: []string{"send", "--max-errors", "-1"}, code: 2,
			stderr: []string{`^apptuit send: --max-errors -1: want a number, 0 \(all\) or more\n`}},
		{name: "--endpoint with a control character", args: []string{"send", "--endpoint", "ftp://x\x1b[2J"}, code: 2,
			stderr: []string{`^apptuit send: --endpoint "ftp://x\\x1b\[2J": want an http:// or https:// URL\n`}},

		// Non-printable input is escaped when echoed.
		{name: "send: a line with control characters and bad UTF-8", stdin: "\x1b[2J\x00bad\xff 1700000000 1 k=v\u202e\n", args: []string{"send", "--endpoint", "{fake}"}, code: 1,
			stderr: []string{`(?m)^line 1: metric name "\\x1b\[2J\\x00bad\\xff" has a character outside the allowed set \(.*\): \\x1b\[2J\\x00bad\\xff 1700000000 1 k=v\\u202e$`}},
		{name: "send: a server's message with control characters", stdin: oneLine, args: []string{"send", "--endpoint", "{hostile}"}, code: 1,
			stderr: []string{`(?m)^apptuit send: the server refused 1 point \(400 Bad Request\): (\\x1b)?\[2Jboom( |\\r\\n)refused: forged$`}}, // (the library drops some itself)

		// A long wait on a terminal says what it waits for and how to
		// change the timeout; Ctrl-C then stops it.
		{name: "send: waiting line on a terminal", stdin: oneLine, tty: "err", args: []string{"send", "--endpoint", "{hang}", "--timeout", "1m"},
			waitText: "Ctrl-C stops", interrupt: true, code: 130,
			stderr: []string{`(?m)^apptuit send: waiting for http://127\.0\.0\.1:\d+/api/put to answer: each attempt gives up after --timeout 1m; change it with --timeout; Ctrl-C stops$`}},
		{name: "query: waiting line on a terminal", tty: "out,err", args: []string{"query", "--endpoint", "{hang}", "--timeout", "0", "fetch('m')"},
			waitText: "Ctrl-C stops", interrupt: true, code: 130,
			stderr: []string{`(?m)^apptuit query: waiting for http://127\.0\.0\.1:\d+/api/query to answer: no --timeout is set, so it waits as long as the server takes; set one with --timeout 30s; Ctrl-C stops$`}},
		{name: "query: no waiting line when standard error is not a terminal", args: []string{"query", "--endpoint", "{hang}", "--timeout", "2s", "fetch('m')"}, code: 1,
			stderr: []string{`^apptuit: query: no answer within --timeout 2s \(3 attempts\)`}, notText: []string{`waiting for`}},

		// --format chart fits the terminal, else 80 columns.
		{name: "query: chart in a 60-column terminal", tty: "out", cols: 60, stdin: seed,
			args:  []string{"query", "--endpoint", "{fake}", "--format", "chart", "fetch('m')"},
			check: func(t *testing.T, r *cliRun) { checkChartWidth(t, r.term, 60) }},
		{name: "query: chart in a 200-column terminal", tty: "out", cols: 200, stdin: seed,
			args:  []string{"query", "--endpoint", "{fake}", "--format", "chart", "fetch('m')"},
			check: func(t *testing.T, r *cliRun) { checkChartWidth(t, r.term, 200) }},
		{name: "query: chart to a pipe", stdin: seed,
			args:  []string{"query", "--endpoint", "{fake}", "--format", "chart", "fetch('m')"},
			check: func(t *testing.T, r *cliRun) { checkChartWidth(t, r.stdout, 80) }},
		{name: "query: chart --width 40 in a 60-column terminal", tty: "out", cols: 60, stdin: seed,
			args:  []string{"query", "--endpoint", "{fake}", "--format", "chart", "--width", "40", "fetch('m')"},
			check: func(t *testing.T, r *cliRun) { checkChartWidth(t, r.term, 40) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.stdin == seed {
				tc = tc.seeded(t)
			}
			r := tc.run(t)
			// Standard error, or the terminal, without what only redraws
			// the screen: the progress line's erase, the echo of Ctrl-C.
			errs := strings.NewReplacer("\r\x1b[K", "", "^C", "").Replace(r.stderr + r.term)
			for _, re := range tc.stderr {
				if !regexp.MustCompile(re).MatchString(errs) {
					t.Errorf("standard error does not match %s:\n%s", re, errs)
				}
			}
			for _, re := range tc.stdout {
				out := r.stdout
				if strings.Contains(tc.tty, "out") {
					out = r.term
				}
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("standard output does not match %s:\n%s", re, out)
				}
			}
			for _, re := range append([]string{goIdentifier.String()}, tc.notText...) {
				if m := regexp.MustCompile(re).FindString(r.stderr + r.term); m != "" {
					t.Errorf("the output shows %q (matching %s):\n%s", m, re, r.stderr+r.term)
				}
			}
			// Nothing the command writes to standard error holds a
			// control character but the newline.
			if i := strings.IndexFunc(errs, func(c rune) bool { return c < ' ' && c != '\n' || c == 0x7f }); i >= 0 {
				t.Errorf("standard error has the control character %q: %q", errs[i], errs)
			}
			if tc.interrupt && r.tookAfterSignal > 2*time.Second {
				t.Errorf("ended %v after SIGINT, want at once", r.tookAfterSignal)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// seeded returns tc with {fake} in its arguments replaced by the URL of a
// local backend (package server, which also answers PromQL) that has two
// points for metric m, 30 and 29 minutes old.
func (tc cliCase) seeded(t *testing.T) cliCase {
	url := backend(t)
	cl, err := apptuit.New(apptuit.WithNoAuth(), apptuit.WithEndpoint(url))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	pts := []apptuit.DataPoint{
		{Metric: "m", Tags: map[string]string{"k": "v"}, Timestamp: at, Value: 7},
		{Metric: "m", Tags: map[string]string{"k": "v"}, Timestamp: at.Add(time.Minute), Value: 8},
	}
	if err := cl.Send(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	args := tc.args
	tc.args = nil
	for _, a := range args {
		tc.args = append(tc.args, strings.ReplaceAll(a, "{fake}", url))
	}
	tc.stdin = ""
	return tc
}

// checkChartWidth checks that a chart's lines are at most width
// characters wide and that its x axis fills them.
func checkChartWidth(t *testing.T, out string, width int) {
	t.Helper()
	if !strings.Contains(out, "└") {
		t.Fatalf("no chart:\n%s", out)
	}
	axis := false
	for i, n := range lineWidths(out) {
		if n > width {
			t.Errorf("line %d is %d columns wide, more than %d:\n%s", i+1, n, width, out)
		}
		if line := strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n")[i]; strings.Contains(line, "└") {
			axis = n == width
		}
	}
	if !axis {
		t.Errorf("the x axis does not fill %d columns:\n%s", width, out)
	}
}

// backend starts the local backend of apptuit serve on a free loopback port
// for the test and returns its URL.
func backend(t *testing.T) string {
	t.Helper()
	srv, err := server.New()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}
