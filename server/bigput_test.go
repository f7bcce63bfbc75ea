package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHelperServer is not a test: it is the server process of
// TestLoadBigPut, run as a child so that its memory is measured alone. It
// prints the server's URL and serves until its stdin closes.
func TestHelperServer(t *testing.T) {
	if os.Getenv("APPTUIT_SERVER_HELPER") != "server" {
		t.Skip("the child process of TestLoadBigPut")
	}
	srv := newServer(t)
	fmt.Printf("URL %s\n", srv.URL())
	io.Copy(io.Discard, os.Stdin)
}

// loadTests skips the long load tests but in the CI step that sets
// APPTUIT_LOAD=1 (see .ci/run).
func loadTests(t *testing.T) {
	t.Helper()
	if os.Getenv("APPTUIT_LOAD") == "" {
		t.Skip("a load test: set APPTUIT_LOAD=1 to run it")
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// procStatus returns a field of /proc/<pid>/status in bytes (e.g. VmHWM,
// the peak resident set, or VmRSS).
func procStatus(t *testing.T, pid int, field string) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
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
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// bigPutBody returns a gzip put body of n points (1,000 series, 10 s
// apart, varying values; 76 bytes a point, so that 3.47M fit in 256 MiB) and its size
// decompressed.
func bigPutBody(n int) ([]byte, int64) {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	cw := &countWriter{w: zw}
	w := bufio.NewWriterSize(cw, 1<<16)
	w.WriteByte('[')
	var b []byte
	for i := 0; i < n; i++ {
		s, p := i%1000, i/1000
		b = b[:0]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"metric":"rq.p99","timestamp":`...)
		b = strconv.AppendInt(b, 1700000000+int64(p)*10, 10)
		b = append(b, `,"value":`...)
		b = strconv.AppendFloat(b, float64((i*7919)%10000)/100, 'g', -1, 64)
		b = append(b, `,"tags":{"h":"h`...)
		b = strconv.AppendInt(b, int64(s), 10)
		b = append(b, `"}}`...)
		w.Write(b)
	}
	w.WriteByte(']')
	w.Flush()
	zw.Close()
	return out.Bytes(), cw.n
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

// TestLoadBigPut is the acceptance figure for the store: one put of 3.47M
// points (about 25 MiB gzip, inside both default limits) to a server in a
// child process, whose peak resident set (VmHWM in /proc) must stay under
// 400 MiB (the fake used to peak at 5.4 GiB).
func TestLoadBigPut(t *testing.T) {
	loadTests(t)
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	const n = 3_470_000
	body, raw := bigPutBody(n)
	t.Logf("body: %d points, %.1f MiB gzip, %.1f MiB decompressed", n, mib(uint64(len(body))), mib(uint64(raw)))
	if int64(len(body)) > maxBody || raw > maxDecompressed {
		t.Fatalf("the body is outside the default limits")
	}

	url, pid := startChildServer(t)
	base := procStatus(t, pid, "VmRSS")

	start := time.Now()
	req, _ := http.NewRequest("POST", url+"/api/put?summary", bytes.NewReader(body))
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if want := fmt.Sprintf(`{"success":%d,"failed":0}`, n); resp.StatusCode != 200 || string(got) != want {
		t.Fatalf("put: %d %s, want 200 %s", resp.StatusCode, got, want)
	}
	hwm, rss := procStatus(t, pid, "VmHWM"), procStatus(t, pid, "VmRSS")
	t.Logf("child RSS %.0f MiB at start; put answered in %v; peak RSS (VmHWM) %.0f MiB, RSS after %.0f MiB; %.1f bytes of peak RSS per point",
		mib(base), took.Round(time.Millisecond), mib(hwm), mib(rss), float64(hwm-base)/n)
	if hwm >= 400<<20 {
		t.Errorf("peak RSS %.0f MiB, want < 400 MiB", mib(hwm))
	}

	// The points are all there: count them by series, in windows of time
	// small enough for the query's point bound (--query-max-points, which
	// counts what is fetched and what is computed from it).
	type window struct {
		start, end int64
		want       int
	}
	var windows []window
	for p := 0; p < n/1000; p += 500 {
		end := min(p+500, n/1000)
		windows = append(windows, window{1700000000 + int64(p)*10, 1700000000 + int64(end)*10 - 1, (end - p) * 1000})
	}
	for _, w := range windows {
		q := fmt.Sprintf("start=%d&end=%d&q=", w.start, w.end) + strings.ReplaceAll("fetch('rq.p99').downsample('1000w','count').series_sum()", "'", "%27")
		resp, err = http.Get(url + "/api/query?" + q)
		if err != nil {
			t.Fatal(err)
		}
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(got), fmt.Sprintf(",%d.0]]", w.want)) {
			t.Errorf("query from %d to %d: %.300s, want a count of %d", w.start, w.end, got, w.want)
		}
	}
}
