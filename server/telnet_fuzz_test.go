package server

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// scriptConn is a connection that reads a script and collects what is
// written to it.
type scriptConn struct {
	r   io.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}
func (c *scriptConn) written() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// lineModel counts, by a reading independent of telnet.go, the lines of
// a script that the request log must count (put lines and unknown
// commands, lines too long, a last line left incomplete) before "exit",
// and whether the last is incomplete (counted, not answered).
func lineModel(script []byte) (counted int, incomplete bool) {
	lines := bytes.SplitAfter(script, []byte("\n"))
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		if l[len(l)-1] != '\n' {
			return counted + 1, true
		}
		if len(l) > maxLineBytes {
			counted++
			continue
		}
		l = bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r"))
		l = bytes.TrimLeft(l, " ")
		if len(l) == 0 {
			continue
		}
		cmd, _, _ := bytes.Cut(l, []byte(" "))
		switch string(cmd) {
		case "exit":
			return counted, false
		case "version", "help", "stats", "auth":
		default:
			counted++
		}
	}
	return counted, false
}

// runScript serves script as one line connection of a new server and
// returns the answers, the points stored, the request log's counts and the
// answers dropped.
func runScript(t *testing.T, script []byte, oneByte bool) (answers string, points, accepted, failed int, log string) {
	var logged logLines
	s, err := New(WithLogger(logged.logf))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var r io.Reader = bytes.NewReader(script[1:])
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	c := &scriptConn{r: r}
	s.serveLines(c, script[0])
	for _, rec := range s.Requests() {
		accepted += rec.Accepted
		failed += rec.Failed
		if rec.Method != "TELNET" || rec.Path != "put" || (rec.Failed > 0) != (rec.Status == 400) || rec.Accepted+rec.Failed == 0 {
			t.Fatalf("record %+v", rec)
		}
	}
	return c.written(), s.Stats().Points, accepted, failed, logged.String()
}

// FuzzTelnetLines drives a line connection with any bytes: it never
// panics, counts every put line and unknown command once (stored or
// refused), stores exactly the points it counts as accepted, answers every
// refused line with one line, and judges the same whether the bytes come
// at once or one at a time.
func FuzzTelnetLines(f *testing.F) {
	for _, s := range []string{
		"put sys.cpu.user 1700000000 42.5 host=web1 cpu=0\nput bad\nversion\n",
		"put load.load.shortterm 1700000000 0.15 fqdn=ci  \r\nput m 1700000000.250 1 a=1 a=2\r\n",
		"stats\nhelp\nnope\n\n   put m 1 1 k=v\nexit\nput m 1 2 k=v\n",
		"put m 1700000000 1 k=v\nput m 1700000001 2 k=",
		"auth x\nput m\xff 17x NaN k=v\xfe\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) == 0 || !isLineStart(script[0]) {
			return // not a line connection
		}
		answers, points, accepted, failed, log := runScript(t, script, false)
		want, incomplete := lineModel(script)
		if accepted+failed != want {
			t.Fatalf("script %q: %d accepted + %d refused, want %d lines counted", script, accepted, failed, want)
		}
		if points != accepted {
			t.Fatalf("script %q: %d points stored, %d accepted", script, points, accepted)
		}
		refusals := 0
		for _, l := range strings.Split(answers, "\n") {
			if strings.HasPrefix(l, "put: ") || strings.HasPrefix(l, "unknown command: ") {
				refusals++
			}
		}
		answered := failed
		if incomplete {
			answered-- // not answered
		}
		if refusals != answered && !strings.Contains(log, "answers dropped") {
			t.Fatalf("script %q: %d refused, %d answered:\n%s", script, failed, refusals, answers)
		}
		a2, p2, acc2, f2, _ := runScript(t, script, true)
		if p2 != points || acc2 != accepted || f2 != failed || (a2 != answers && !strings.Contains(answers, "apptuit.serve.")) {
			t.Fatalf("script %q one byte at a time: %d points, %d/%d, answers %q; at once %d points, %d/%d, answers %q", script, p2, acc2, f2, a2, points, accepted, failed, answers)
		}
	})
}

func TestLineModel(t *testing.T) {
	tests := []struct {
		script     string
		counted    int
		incomplete bool
	}{
		{"put a\nversion\n\nnope\nexit\nput b\n", 2, false},
		{"put a\nput b", 2, true},
		{"x" + strings.Repeat("y", maxLineBytes) + "\n", 1, false},
	}
	for _, tc := range tests {
		if n, inc := lineModel([]byte(tc.script)); n != tc.counted || inc != tc.incomplete {
			t.Errorf("lineModel(%.40q) = %d, %v; want %d, %v", tc.script, n, inc, tc.counted, tc.incomplete)
		}
	}
}
