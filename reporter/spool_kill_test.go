package reporter

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
)

// buildChild builds internal/spoolchild into a directory of t's.
func buildChild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spoolchild")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(goTool, "build", "-o", bin, "./internal/spoolchild").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is a running spoolchild.
type child struct {
	cmd      *exec.Cmd
	mu       sync.Mutex
	reported []int64 // report times (Unix ms) it printed
	stopped  string
	heap     string // its "heap ..." line (-heap)
	done     chan struct{}
	stderr   strings.Builder
}

// startChild starts bin reporting every 200 ms to endpoint with a spool in
// dir; extra flags (see internal/spoolchild) come after, and win.
func startChild(t *testing.T, bin, endpoint, dir, run string, extra ...string) *child {
	t.Helper()
	c := &child{done: make(chan struct{})}
	c.cmd = exec.Command(bin, append([]string{"-endpoint", endpoint, "-dir", dir, "-run", run, "-interval", "200ms"}, extra...)...)
	c.cmd.Stderr = &syncWriter{w: &c.stderr, mu: &c.mu}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill(); <-c.done })
	started := make(chan struct{})
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			switch {
			case line == "started":
				close(started)
			case strings.HasPrefix(line, "reported "):
				ms, _ := strconv.ParseInt(strings.TrimPrefix(line, "reported "), 10, 64)
				c.reported = append(c.reported, ms)
			case strings.HasPrefix(line, "stopped "):
				c.stopped = line
			case strings.HasPrefix(line, "heap "):
				c.heap = line
			}
			c.mu.Unlock()
		}
		c.cmd.Wait()
	}()
	select {
	case <-started:
	case <-c.done:
		t.Fatalf("child exited: %s", c.stderrText())
	case <-time.After(30 * time.Second):
		t.Fatal("child did not start")
	}
	return c
}

type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (c *child) stderrText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// waitReports waits until the child printed n reports.
func (c *child) waitReports(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		k := len(c.reported)
		c.mu.Unlock()
		if k >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("child made fewer than %d reports: %s", n, c.stderrText())
}

// signal sends sig and waits for the child to exit; it returns the reports
// the child printed.
func (c *child) signal(t *testing.T, sig syscall.Signal) []int64 {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("child did not exit")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reported)
}

// downEndpoint returns the URL of a loopback port nothing listens on.
func downEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// tornCopy appends to the newest segment in dir the first half of a copy of
// its first record: what a process killed in the middle of writing a record
// leaves behind.
func tornCopy(t *testing.T, dir string) {
	t.Helper()
	segs := segFiles(t, dir)
	if len(segs) == 0 {
		t.Fatal("no segment")
	}
	slices.Sort(segs)
	path := segs[len(segs)-1]
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 8+24 {
		t.Fatalf("segment %s: %d bytes, %v", path, len(b), err)
	}
	size := 24 + int(binary.LittleEndian.Uint32(b[8+4:]))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b[8 : 8+size/2]); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestSpoolSurvivesKill is the proof by killing: a real process reports
// every 200 ms into a backend that is down, is killed (SIGKILL, or SIGTERM
// and its graceful Stop), and a new process on the same spool, with the
// backend up, delivers every report the first one made, exactly once, and
// its own, none twice.
func TestSpoolSurvivesKill(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("needs signals")
	}
	if testing.Short() {
		t.Skip("builds and runs a child process")
	}
	bin := buildChild(t)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		torn bool // the kill lands in the middle of writing a record
	}{
		{"SIGKILL", syscall.SIGKILL, false},
		{"SIGKILL mid-write", syscall.SIGKILL, true},
		{"SIGTERM: Stop with the backend down", syscall.SIGTERM, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			run := fmt.Sprintf("r%d", time.Now().UnixNano())
			const n = 6
			c1 := startChild(t, bin, downEndpoint(t), dir, run)
			c1.waitReports(t, n)
			made := c1.signal(t, tc.sig)
			if tc.sig == syscall.SIGTERM && !strings.HasPrefix(c1.stopped, "stopped ") {
				t.Fatalf("child did not stop: %q", c1.stopped)
			}
			if tc.torn {
				tornCopy(t, dir)
			}
			t.Logf("first process made %d reports (%v)", len(made), tc.sig)

			srv := apptuittest.NewServer()
			defer srv.Close()
			c2 := startChild(t, bin, srv.URL(), dir, run)
			// Wait for every report of the first process, then a few of
			// the second's.
			deadline := time.Now().Add(30 * time.Second)
			var pts []apptuit.DataPoint
			for {
				pts = srv.Points()
				got := ticksAt(pts)
				all := true
				for _, ms := range made {
					if got[ms] == 0 {
						all = false
					}
				}
				if all && len(got) >= len(made)+3 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			c2.signal(t, syscall.SIGTERM)
			pts = srv.Points()

			got := ticksAt(pts)
			for _, ms := range made {
				if got[ms] != 1 {
					t.Errorf("report at %d made before the kill arrived %d times", ms, got[ms])
				}
			}
			// No series and timestamp twice, anywhere.
			seen := map[string]int{}
			for _, p := range pts {
				seen[fmt.Sprintf("%s %v %d", p.Metric, p.Tags, p.Timestamp.UnixMilli())]++
			}
			for k, v := range seen {
				if v > 1 {
					t.Errorf("%s arrived %d times", k, v)
				}
			}
			// Oldest first: the reports arrived in the order they were made.
			var order []int64
			for _, p := range pts {
				if p.Metric == "ticks.count" {
					order = append(order, p.Timestamp.UnixMilli())
				}
			}
			if !slices.IsSorted(order) {
				t.Errorf("arrival order %v", order)
			}
			if len(got) < len(made)+3 {
				t.Errorf("%d reports arrived, want the first process's %d and 3 more", len(got), len(made))
			}
			if tc.torn && !strings.Contains(c2.stderrText(), "corrupt records skipped in the spool: 1 records") {
				t.Errorf("the torn record was not reported: %s", c2.stderrText())
			}
			if segs := segFiles(t, dir); len(segs) != 0 {
				t.Errorf("segments left: %v", segs)
			}
			t.Logf("%d points, %d reports delivered", len(pts), len(got))
		})
	}
}

// ticksAt counts the ticks.count points by timestamp (Unix ms).
func ticksAt(pts []apptuit.DataPoint) map[int64]int {
	m := map[int64]int{}
	for _, p := range pts {
		if p.Metric == "ticks.count" {
			m[p.Timestamp.UnixMilli()]++
		}
	}
	return m
}
