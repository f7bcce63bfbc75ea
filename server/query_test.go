package server

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// amplification is the query of issue 16: one fetch, answered 1,997 times
// (6 KB of query text).
var amplification = "a = fetch('m')\noutput(" + strings.Repeat("a, ", 1996) + "a)"

// TestQueryAmplification is the acceptance test of the query language's
// bounds: over 10,000 stored points the amplification (once a 397 MB
// answer, 1.25 GB of RSS and 14.9 s) fails in under a second with a 422
// that names the bound and its flag; then 8 clients send it over and over
// for 2 s while a cheap query is answered every time; and the peak RSS of
// the server, in a child process, stays under 300 MiB.
func TestQueryAmplification(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	base, pid := startChildServer(t)

	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < 10_000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":"m","timestamp":%d,"value":%d,"tags":{"h":"a"}}`, 1700000000+i, i)
	}
	b.WriteString(`,{"metric":"cheap","timestamp":1700000000,"value":42,"tags":{"h":"a"}}]`)
	resp, err := http.Post(base+"/api/put", "application/json", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("put: %d", resp.StatusCode)
	}
	rss := procStatus(t, pid, "VmRSS")

	query := func(q string) (int, string, time.Duration) {
		start := time.Now()
		resp, err := http.Get(base + "/api/query?start=1699999999&end=1700010000&q=" + url.QueryEscape(q))
		if err != nil {
			t.Error(err)
			return 0, "", 0
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), time.Since(start)
	}
	const want = `{"error":{"code":422,"message":"query too expensive: it needs more than 2000000 points fetched, computed and answered (the limit; raise it with --query-max-points)"}}`
	// Alone, the best of 3 (so that a busy machine does not fail it).
	alone := time.Hour
	for i := 0; i < 3; i++ {
		code, body, took := query(amplification)
		if code != 422 || body != want {
			t.Fatalf("amplification: %d %.300s", code, body)
		}
		alone = min(alone, took)
	}
	if alone >= time.Second {
		t.Errorf("the amplification query took %v to fail, want < 1s", alone)
	}
	stop := time.Now().Add(2 * time.Second)
	var mu sync.Mutex
	var n int
	var slowest time.Duration
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				code, body, took := query(amplification)
				if code != 422 || body != want {
					t.Errorf("amplification: %d %.300s", code, body)
					return
				}
				mu.Lock()
				n++
				slowest = max(slowest, took)
				mu.Unlock()
			}
		}()
	}
	var cheap int
	var cheapSlowest time.Duration
	for time.Now().Before(stop) {
		code, body, took := query("fetch('cheap')")
		if code != 200 || !strings.Contains(body, `"dps":[[1700000000,42.0]]`) {
			t.Errorf("cheap query: %d %.300s", code, body)
			break
		}
		cheap++
		cheapSlowest = max(cheapSlowest, took)
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("the amplification (%d bytes) refused in %v alone; then %d of them from 8 clients, in at most %v each, while %d cheap queries were answered in at most %v each; child RSS %.0f MiB with the points, peak (VmHWM) %.0f MiB",
		len(amplification), alone.Round(time.Millisecond), n, slowest.Round(time.Millisecond), cheap, cheapSlowest.Round(time.Millisecond), mib(rss), mib(hwm))
	// From 8 clients at once, with 4 slots, on a machine that may be
	// busy: no pile-up.
	if slowest >= 5*time.Second || cheap == 0 || cheapSlowest >= 5*time.Second {
		t.Errorf("amplification queries took up to %v; %d cheap queries, the slowest %v", slowest, cheap, cheapSlowest)
	}
	if hwm >= 300<<20 {
		t.Errorf("peak RSS %.0f MiB, want < 300 MiB", mib(hwm))
	}
}

// startChildServer runs a server with the default options in a child
// process (TestHelperServer), so that its memory is measured alone, and
// returns its URL and pid; the child ends with the test.
func startChildServer(t *testing.T) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), "APPTUIT_SERVER_HELPER=server")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "URL ") {
		t.Fatalf("child said %q: %v", line, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "URL ")), cmd.Process.Pid
}

// TestLoadQueryBounds measures the query language's bounds as a cap on
// memory: over 1,900,000 stored points (under the 2,000,000-point bound),
// 8 clients at once ask for all of them (a 39 MB answer: past the 32 MiB
// bound, abandoned there) and for their series_sum (past the point bound
// after the fetch); 4 are evaluated at once. The server's peak RSS, in a
// child process, must stay under twice (the garbage collector's headroom,
// GOGC=100) its RSS with the points plus 4 queries' worth of bounds:
// 4 x (32 MB of points + 32 MiB of answer).
func TestLoadQueryBounds(t *testing.T) {
	loadTests(t)
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	base, pid := startChildServer(t)
	const n = 1_900_000
	body, _ := bigPutBody(n)
	req, _ := http.NewRequest("POST", base+"/api/put", strings.NewReader(string(body)))
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("put: %d", resp.StatusCode)
	}
	runtime.GC()
	rss := procStatus(t, pid, "VmRSS")
	hwmPut := procStatus(t, pid, "VmHWM")

	get := func(q string) (int, string, time.Duration) {
		start := time.Now()
		resp, err := http.Get(base + "/api/query?start=1699999999&end=1800000000&q=" + url.QueryEscape(q))
		if err != nil {
			t.Error(err)
			return 0, "", 0
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b), time.Since(start)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			q, want := "fetch('rq.p99')", "answer too large: more than 33554432 bytes (the limit; raise it with --query-max-bytes)"
			if i%2 == 1 {
				q, want = "fetch('rq.p99').series_sum()", "query too expensive: it needs more than 2000000 points fetched, computed and answered (the limit; raise it with --query-max-points)"
			}
			for j := 0; j < 3; j++ {
				code, body, took := get(q)
				if code != 422 || !strings.Contains(body, want) {
					t.Errorf("%s: %d %.300s", q, code, body)
					return
				}
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	hwm := procStatus(t, pid, "VmHWM")
	// Live: the points stored and, per query in flight, 16 bytes per
	// point held and the answer's buffer; the garbage collector lets the
	// heap grow to twice what was live at its last cycle.
	bound := 2 * (rss + 4*(16*DefaultQueryMaxPoints+DefaultQueryMaxBytes))
	t.Logf("%d points stored: child RSS %.0f MiB (peak %.0f MiB during the put); 24 queries past the bounds from 8 clients, each answered 422 in at most %v; peak RSS (VmHWM) %.0f MiB, %.0f MiB over the RSS with the points; bound %.0f MiB",
		n, mib(rss), mib(hwmPut), slowest.Round(time.Millisecond), mib(hwm), mib(hwm)-mib(rss), mib(bound))
	if hwm > bound {
		t.Errorf("peak RSS %.0f MiB, want at most %.0f MiB", mib(hwm), mib(bound))
	}
}
