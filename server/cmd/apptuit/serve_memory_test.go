package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The memory load tests (APPTUIT_LOAD=1, see .ci/run): "apptuit serve" in
// a child process, fed over HTTP, its resident set read from /proc. They
// are the measured figures of the byte budget (--max-memory): bytes a
// sample and a series once puts have settled, and the peak resident set
// against the budget.

// loadTests skips the long load tests but in the CI step that sets
// APPTUIT_LOAD=1.
func loadTests(t *testing.T) {
	t.Helper()
	if os.Getenv("APPTUIT_LOAD") == "" {
		t.Skip("a load test: set APPTUIT_LOAD=1 to run it")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
}

// TestHelperServeProcess is not a test: it is "apptuit serve" with the
// arguments in APPTUIT_SERVE_ARGS, the child process of the memory load
// tests, serving until its standard input closes.
func TestHelperServeProcess(t *testing.T) {
	args := os.Getenv("APPTUIT_SERVE_ARGS")
	if args == "" {
		t.Skip("the child process of the memory load tests")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
	os.Exit(run(ctx, strings.Fields(args), strings.NewReader(""), os.Stdout, os.Stderr))
}

// loadServer is a running "apptuit serve" in a child process.
type loadServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	mu    sync.Mutex
	tail  []string // the last lines of its output
	done  chan struct{}
}

func startLoadServer(t *testing.T, args ...string) *loadServer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServeProcess$")
	cmd.Env = append(os.Environ(), "APPTUIT_SERVE_ARGS="+strings.Join(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), " "))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &loadServer{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		defer close(c.done)
		re := regexp.MustCompile(`^listening on (http://\S+) `)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
			c.mu.Lock()
			c.tail = append(c.tail, sc.Text())
			if len(c.tail) > 20 {
				c.tail = c.tail[1:]
			}
			c.mu.Unlock()
		}
	}()
	select {
	case c.url = <-urls:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("apptuit serve did not start")
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	return c
}

// stop stops the child and returns its last lines of output.
func (c *loadServer) stop(t *testing.T) string {
	t.Helper()
	c.stdin.Close()
	<-c.done
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("apptuit serve: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// status returns a field of /proc/<pid>/status in bytes (VmRSS, VmHWM).
func (c *loadServer) status(t *testing.T, field string) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, c.cmd.Process.Pid)
	return 0
}

// settledRSS waits for the resident set to settle after puts (the server
// gives freed memory back a second or two after they pause) and returns
// it: the first reading, after 3 s, within 1% of the one 500 ms before,
// or the last of 20 s.
func (c *loadServer) settledRSS(t *testing.T) uint64 {
	t.Helper()
	time.Sleep(2500 * time.Millisecond)
	prev := c.status(t, "VmRSS")
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		rss := c.status(t, "VmRSS")
		if rss <= prev && prev-rss < prev/100 || rss > prev && rss-prev < prev/100 {
			return rss
		}
		prev = rss
	}
	return prev
}

// put sends one put body.
func (c *loadServer) put(t *testing.T, body []byte) {
	t.Helper()
	resp, err := http.Post(c.url+"/api/put", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("put: %d %.300s", resp.StatusCode, got)
	}
}

// points writes a put body of the points that point(i) appends for i in
// [from, to).
func points(b []byte, from, to int, point func(b []byte, i int) []byte) []byte {
	b = append(b[:0], '[')
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = point(b, i)
	}
	return append(b, ']')
}

func appendPoint(b []byte, metric string, ts int64, value float64, tags ...string) []byte {
	b = append(b, `{"metric":"`...)
	b = append(b, metric...)
	b = append(b, `","timestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"value":`...)
	b = strconv.AppendFloat(b, value, 'f', -1, 64)
	b = append(b, `,"tags":{`...)
	for i := 0; i < len(tags); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, tags[i])
		b = append(b, ':')
		b = strconv.AppendQuote(b, tags[i+1])
	}
	return append(b, "}}"...)
}

// warmUp sends a few points, so that the code of puts is paged in before
// the baseline is read.
func (c *loadServer) warmUp(t *testing.T) {
	t.Helper()
	c.put(t, points(nil, 0, 100, func(b []byte, i int) []byte {
		return appendPoint(b, "warm.up", 1600000000+int64(i), 1, "i", strconv.Itoa(i))
	}))
	time.Sleep(500 * time.Millisecond)
}

var summaryLine = regexp.MustCompile(`(?m)^(\d+) points in (\d+) series \(([^)]*)\); (\d+) evicted by --retention, (\d+) by --max-memory$`)

// summary reads the stop summary: points, series, evicted by memory.
func summary(t *testing.T, out string) (pts, series, evicted int) {
	t.Helper()
	m := summaryLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in %q", out)
	}
	pts, _ = strconv.Atoi(m[1])
	series, _ = strconv.Atoi(m[2])
	evicted, _ = strconv.Atoi(m[5])
	t.Logf("summary: %s", m[0])
	return pts, series, evicted
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// TestLoadBytesPerSample: 1,000 series of 10,000 points each, 10 s apart,
// values with two decimals (uniform in [0, 100): the hard case for the
// values' encoding), put 100 points a series at a time; once the puts have
// settled the server holds at most 4 bytes of resident set a sample more
// than before them.
func TestLoadBytesPerSample(t *testing.T) {
	loadTests(t)
	c := startLoadServer(t)
	c.warmUp(t)
	base := c.status(t, "VmRSS")
	const series, perSeries, step = 1000, 10_000, 100
	var body []byte
	start := time.Now()
	for p := 0; p < perSeries; p += step {
		body = points(body, 0, series*step, func(b []byte, i int) []byte {
			s, k := i%series, p+i/series
			v := float64((k*7919+s*104729)%10000) / 100
			return appendPoint(b, "rq.p99", 1700000000+int64(k)*10, v, "host", "web-"+strconv.Itoa(s), "dc", "eu-west-1")
		})
		c.put(t, body)
	}
	took := time.Since(start)
	hwm := c.status(t, "VmHWM")
	rss := c.settledRSS(t)
	n := series * perSeries
	perSample := float64(rss-base) / float64(n)
	t.Logf("%d points in %v; resident set %.1f MiB before, %.1f MiB settled, peak %.1f MiB: %.2f bytes a sample", n, took.Round(time.Millisecond), mib(base), mib(rss), mib(hwm), perSample)
	if pts, _, evicted := summary(t, c.stop(t)); pts != n+100 || evicted != 0 {
		t.Errorf("%d points stored, %d evicted; want %d and 0", pts, evicted, n+100)
	}
	if perSample > 4 {
		t.Errorf("%.2f bytes of resident set a sample, want at most 4", perSample)
	}
}

// TestLoadBytesPerSeries: 200,000 series of one point each (one tag, of
// 200,000 values), put 20,000 at a time; once the puts have settled the
// server holds at most 600 bytes of resident set a series more than before
// them.
func TestLoadBytesPerSeries(t *testing.T) {
	loadTests(t)
	c := startLoadServer(t)
	c.warmUp(t)
	base := c.status(t, "VmRSS")
	const n, step = 200_000, 20_000
	var body []byte
	for p := 0; p < n; p += step {
		body = points(body, p, p+step, func(b []byte, i int) []byte {
			return appendPoint(b, "requests", 1700000000, float64(i%1000)/10, "request_id", fmt.Sprintf("req-%08d", i))
		})
		c.put(t, body)
	}
	hwm := c.status(t, "VmHWM")
	rss := c.settledRSS(t)
	perSeries := float64(rss-base) / n
	t.Logf("%d one-point series; resident set %.1f MiB before, %.1f MiB settled, peak %.1f MiB: %.0f bytes a series", n, mib(base), mib(rss), mib(hwm), perSeries)
	if _, series, evicted := summary(t, c.stop(t)); series != n+100 || evicted != 0 {
		t.Errorf("%d series stored, %d points evicted; want %d and 0", series, evicted, n+100)
	}
	if perSeries > 600 {
		t.Errorf("%.0f bytes of resident set a series, want at most 600", perSeries)
	}
}

// TestLoadMemoryBudget: the resident set of "apptuit serve" with the
// default budget (256 MiB) stays within 1.25 times it, at its peak, while
// puts bring it twice the budget: series with fat tags (25 tags of 2,500
// bytes, 64 KiB a series), and the churn of one-point series (a new tag
// value each).
func TestLoadMemoryBudget(t *testing.T) {
	loadTests(t)
	const budget = 256 << 20
	fat := strings.Repeat("x", 2500)
	for _, tc := range []struct {
		name string
		puts int
		body func(b []byte, put int) []byte
	}{
		{"fat tags", 80, func(b []byte, put int) []byte {
			return points(b, put*100, put*100+100, func(b []byte, i int) []byte {
				tags := make([]string, 0, 50)
				for k := 0; k < 25; k++ {
					tags = append(tags, fmt.Sprintf("t%02d", k), strconv.Itoa(i)+fat)
				}
				return appendPoint(b, "fat", 1700000000+int64(i), 1, tags...)
			})
		}},
		{"series churn", 60, func(b []byte, put int) []byte {
			return points(b, put*50_000, put*50_000+50_000, func(b []byte, i int) []byte {
				return appendPoint(b, "churn", 1700000000+int64(i), float64(i%1000)/10, "session", fmt.Sprintf("s-%09d", i))
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startLoadServer(t)
			var body []byte
			sent := 0
			for p := 0; p < tc.puts; p++ {
				body = tc.body(body, p)
				sent += len(body)
				c.put(t, body)
			}
			hwm := c.status(t, "VmHWM")
			rss := c.settledRSS(t)
			out := c.stop(t)
			pts, series, evicted := summary(t, out)
			t.Logf("sent %.0f MiB of puts; resident set: peak %.1f MiB (VmHWM), settled %.1f MiB; budget %d MiB, %.2f times", mib(uint64(sent)), mib(hwm), mib(rss), budget>>20, float64(hwm)/budget)
			if evicted == 0 || pts != series {
				t.Errorf("%d points in %d series, %d evicted: the budget was not reached", pts, series, evicted)
			}
			if hwm > budget*5/4 {
				t.Errorf("peak resident set %.1f MiB, more than 1.25 times the %d MiB budget", mib(hwm), budget>>20)
			}
		})
	}
}
