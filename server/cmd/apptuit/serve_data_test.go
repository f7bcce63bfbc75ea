package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestHelperServe is not a test: it is the apptuit process that
// TestServeDataSIGKILL starts and kills. It runs main with the arguments
// after "--" in APPTUIT_HELPER_ARGS.
func TestHelperServe(t *testing.T) {
	args := os.Getenv("APPTUIT_HELPER_ARGS")
	if args == "" {
		t.Skip("the child process of TestServeDataSIGKILL")
	}
	os.Args = append([]string{"apptuit"}, strings.Fields(args)...)
	main()
}

// serveChild is an `apptuit serve` child process.
type serveChild struct {
	cmd *exec.Cmd
	url string
	out *safeBuffer
}

var listenRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+) `)

func startServe(t *testing.T, args ...string) *serveChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), "APPTUIT_HELPER_ARGS="+strings.Join(append([]string{"serve"}, args...), " "))
	out := &safeBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &serveChild{cmd: cmd, out: out}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); pw.Close() })
	select {
	case c.url = <-urls:
	case <-time.After(20 * time.Second):
		t.Fatalf("apptuit serve did not start:\n%s", out.String())
	}
	return c
}

// TestServeDataSIGKILL runs `apptuit serve --data DIR` in a child process,
// kills it with SIGKILL while clients are putting points, restarts it on
// the same directory and checks that every answered put is there, and
// that each put is there whole or not at all; three times over, once with
// the last record torn.
func TestServeDataSIGKILL(t *testing.T) {
	cleanEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	acked := map[int]bool{}
	var mu sync.Mutex
	// Batches of 50 points, and every 4th of 20,000 (a record of about
	// 200 KB, written in several writes: a kill may tear it).
	size := func(id int) int {
		if id%4 == 3 {
			return 20000
		}
		return 50
	}
	next := 0
	torn := 0
	for round := 0; round < 3; round++ {
		c := startServe(t, "--listen", "127.0.0.1:0", "--data", dir)
		// Load: 4 clients put batches (one series per batch) until killed.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hc := &http.Client{Timeout: 5 * time.Second}
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					id := next
					next++
					mu.Unlock()
					var pts []string
					for i := 0; i < size(id); i++ {
						pts = append(pts, fmt.Sprintf(`{"metric":"load","timestamp":%d,"value":%d,"tags":{"batch":"b%d"}}`, 1700000000+i, i, id))
					}
					resp, err := hc.Post(c.url+"/api/put", "application/json", strings.NewReader("["+strings.Join(pts, ",")+"]"))
					if err != nil {
						return // killed
					}
					resp.Body.Close()
					if resp.StatusCode == 204 {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(300 * time.Millisecond)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.cmd.Wait()
		close(stop)
		wg.Wait()
		// The kill rarely lands inside a write: in the second round, tear
		// the last record as it would have (the last 100 bytes never
		// written), so that the restart must find and drop it.
		tear := round == 1
		if tear {
			segs, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
			last := segs[len(segs)-1]
			fi, _ := os.Stat(last)
			if err := os.Truncate(last, fi.Size()-100); err != nil {
				t.Fatal(err)
			}
		}

		c = startServe(t, "--listen", "127.0.0.1:0", "--data", dir)
		counts := batchCounts(t, c.url)
		mu.Lock()
		missing := 0
		for id := range acked {
			if counts[id] == 0 && tear {
				missing++
				delete(acked, id) // torn by the test: gone for good
				continue
			}
			if counts[id] != size(id) {
				t.Errorf("round %d: answered batch %d has %d points after the restart, want %d", round, id, counts[id], size(id))
			}
		}
		if missing > 1 {
			t.Errorf("round %d: %d answered batches lost to one torn record", round, missing)
		}
		for id, n := range counts {
			if n != size(id) {
				t.Errorf("round %d: batch %d has %d points: a put was stored in part", round, id, n)
			}
		}
		lines := regexp.MustCompile(`(?m)^data directory .*$`).FindAllString(c.out.String(), -1)
		dropped := false
		for _, l := range lines {
			// A torn record costs only itself: it is moved aside, and
			// counted (one record, or an unknown number if its header is torn).
			if strings.Contains(l, "moved aside to") {
				dropped = true
				if !strings.Contains(l, "(torn record): lost 1 record of ") && !strings.Contains(l, "(bad record header): lost an unknown number of records") {
					t.Errorf("round %d: %s", round, l)
				}
			}
		}
		if dropped {
			torn++
		}
		if tear && !dropped {
			t.Errorf("round %d: the torn record was not reported:\n%s", round, c.out.String())
		}
		t.Logf("round %d: %d puts answered in all, %d batches stored; %s", round, len(acked), len(counts), strings.Join(lines, "; "))
		mu.Unlock()
		if len(acked) == 0 {
			t.Fatal("no put was answered before the kill")
		}
		c.cmd.Process.Signal(syscall.SIGTERM)
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("serve did not stop cleanly: %v\n%s", err, c.out.String())
		}
	}
	t.Logf("%d of 3 restarts moved a torn record aside (one torn by the test)", torn)
}

// batchCounts returns the points of each batch series of metric load.
func batchCounts(t *testing.T, base string) map[int]int {
	t.Helper()
	resp, err := http.Get(base + "/api/query?start=1699999999&end=1700100000&q=" + url.QueryEscape("fetch('load')"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Outputs []struct {
			Result []struct {
				Tags map[string]string
				Dps  [][2]float64
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Outputs) != 1 {
		t.Fatalf("query: %v", err)
	}
	counts := map[int]int{}
	for _, s := range r.Outputs[0].Result {
		var id int
		fmt.Sscanf(s.Tags["batch"], "b%d", &id)
		counts[id] = len(s.Dps)
	}
	return counts
}

func TestServeBoundsFlags(t *testing.T) {
	cleanEnv(t)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--retention", "7x"}, 2, "apptuit serve: --retention 7x: want " + durationSyntax + "\n"},
		{[]string{"--retention", "-1h"}, 2, "apptuit serve: --retention -1h: want " + durationSyntax + "\n"},
		{[]string{"--max-points", "1000"}, 2, "apptuit serve: --max-points is gone: the bound is --max-memory, the server's memory budget (e.g. --max-memory 256MiB, the default), of which the points, compressed, and their series and tags take at most three quarters\n"},
		{[]string{"-max-points=5"}, 2, "apptuit serve: --max-points is gone"},
		{[]string{"--max-memory", "-1"}, 2, "apptuit serve: --max-memory -1: want " + sizeSyntax + "\n"},
		{[]string{"--max-memory", "12x"}, 2, "apptuit serve: --max-memory 12x: want " + sizeSyntax + "\n"},
		{[]string{"--max-memory", "9999999TiB"}, 2, "apptuit serve: --max-memory 9999999TiB: want " + sizeSyntax + "\n"},
		{[]string{"--sync-interval", "-1s"}, 2, "apptuit serve: --sync-interval -1s: want " + durationSyntax + "\n"},
		{[]string{"--request-log", "-3"}, 2, "apptuit serve: bad --request-log -3: must not be negative"},
		{[]string{"--data", filepath.Join(file, "sub")}, 1, "apptuit serve: opening the data directory " + filepath.Join(file, "sub") + ": "},
	} {
		code, out, errOut := runCmd(t, "", append([]string{"serve", "--listen", "127.0.0.1:0"}, tt.args...)...)
		if code != tt.code || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, out, errOut, tt.code, tt.want)
		}
	}
	for in, want := range map[string]time.Duration{"0": 0, "36h": 36 * time.Hour, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour} {
		fs, o := serveFlags()
		if err := fs.Parse([]string{"--retention", in}); err != nil || o.retention != want {
			t.Errorf("--retention %s: %v, %v; want %v", in, o.retention, err, want)
		}
	}
	for in, want := range map[string]int64{"0": 0, "1000": 1000, "256MiB": 256 << 20, "1GiB": 1 << 30, "3KiB": 3072, "2GB": 2e9, "512B": 512, "1TiB": 1 << 40} {
		fs, o := serveFlags()
		if err := fs.Parse([]string{"--max-memory", in}); err != nil || o.maxMemory != want {
			t.Errorf("--max-memory %s: %v, %v; want %v", in, o.maxMemory, err, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 256 << 20: "256MiB", 1 << 30: "1GiB", 1536 << 10: "1536KiB", 1000: "1000B", 5 << 40: "5TiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestServeEvictionLog checks that evictions show in the request lines
// and in the summary printed when serve stops: a budget of 500 bytes (375
// for the points) holds one series of one metric, not two.
func TestServeEvictionLog(t *testing.T) {
	cleanEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr safeBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--max-memory", "500B"}, strings.NewReader(""), &stdout, &stderr)
	}()
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+) `)
	waitFor(t, "the listening line", func() bool { return re.MatchString(stdout.String()) })
	base := re.FindStringSubmatch(stdout.String())[1]
	body := `[{"metric":"m","timestamp":1700000000,"value":1,"tags":{"h":"a"}},{"metric":"m","timestamp":1700000001,"value":2,"tags":{"h":"b"}},{"metric":"m","timestamp":1700000002,"value":3,"tags":{"h":"b"}}]`
	resp, err := http.Post(base+"/api/put", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line := regexp.MustCompile(`POST /api/put accepted=3 failed=0 status=204 \d+\.\dms evicted=1\n`)
	waitFor(t, line.String(), func() bool { return line.MatchString(stdout.String()) })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := regexp.MustCompile(`\n2 points in 1 series \(\d+B of the 375B they may take, 3/4 of --max-memory 500B\); 0 evicted by --retention, 1 by --max-memory\nstopped\n$`); !want.MatchString(stdout.String()) {
		t.Errorf("output ends %q, want %q", stdout.String(), want)
	}
}
