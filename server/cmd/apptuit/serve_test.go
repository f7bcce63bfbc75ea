package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// waitFor polls cond every 10 ms for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServe(t *testing.T) {
	cleanEnv(t)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr safeBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--token", "s3cr3t"}, strings.NewReader(""), &stdout, &stderr)
	}()
	urlRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+) \(bearer token required; Ctrl-C to stop\)\n`)
	waitFor(t, "the listening line", func() bool { return urlRE.MatchString(stdout.String()) })
	url := urlRE.FindStringSubmatch(stdout.String())[1]

	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer hc.CloseIdleConnections()
	c, err := apptuit.New(apptuit.WithEndpoint(url), apptuit.WithToken("s3cr3t"), apptuit.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	pts := []apptuit.DataPoint{
		{Metric: "m", Tags: map[string]string{"k": "v"}, Timestamp: ts, Value: 1},
		{Metric: "m", Tags: map[string]string{"k": "w"}, Timestamp: ts, Value: 2},
	}
	if err := c.Send(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(ctx, "fetch('m')", ts.Add(-time.Minute), ts.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	bad, err := apptuit.New(apptuit.WithEndpoint(url), apptuit.WithToken("wrong"), apptuit.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Send(ctx, pts); !errors.Is(err, apptuit.ErrUnauthorized) {
		t.Fatalf("send with a wrong token: %v", err)
	}
	line := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `
	lat := ` \d+\.\dms\n`
	for _, re := range []string{
		line + `POST /api/put accepted=2 failed=0 status=200` + lat,
		line + `GET /api/query accepted=0 failed=0 status=200` + lat,
		line + `POST /api/put accepted=0 failed=0 status=401 \d+\.\dms error="token is invalid: [^\n]*"\n`,
	} {
		re := regexp.MustCompile(re)
		waitFor(t, re.String(), func() bool { return re.MatchString(stdout.String()) })
	}
	if strings.Contains(stdout.String(), "s3cr3t") {
		t.Errorf("the output shows the token:\n%s", stdout.String())
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d, want 0; stderr %q", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.HasSuffix(stdout.String(), "stopped\n") || stderr.String() != "" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	hc.CloseIdleConnections()
	waitFor(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestServeRefusesRemote(t *testing.T) {
	cleanEnv(t)
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:4242"} {
		code, out, errOut := runCmd(t, "", "serve", "--listen", addr)
		if code != 2 || out != "" || !strings.Contains(errOut, "not a loopback address") || !strings.Contains(errOut, "--allow-remote") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", addr, code, out, errOut)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:4242": true, "localhost:1": true, "[::1]:0": true, "127.1.2.3:0": true,
		"0.0.0.0:1": false, ":1": false, "[::]:1": false, "10.0.0.1:1": false, "example.com:1": false,
	} {
		if got, err := isLoopback(addr); err != nil || got != want {
			t.Errorf("isLoopback(%q) = %v, %v", addr, got, err)
		}
	}
}

// serveInProcess runs "apptuit serve args..." until the test ends and returns
// the URL it listens on.
func serveInProcess(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr safeBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve: exit %d, stderr %q", code, stderr.String())
		}
	})
	urlRE := regexp.MustCompile(`listening on (http://[^ ]+) `)
	waitFor(t, "the listening line", func() bool { return urlRE.MatchString(stdout.String()) })
	return urlRE.FindStringSubmatch(stdout.String())[1]
}

// getHost answers GET url with the Host header host.
func getHost(t *testing.T, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeAllowHost(t *testing.T) {
	cleanEnv(t)
	base := serveInProcess(t, "--listen", "127.0.0.1:0", "--allow-host", "devbox.lan", "--allow-host", "192.168.1.5")
	port := base[strings.LastIndex(base, ":"):]
	for host, want := range map[string]int{
		"127.0.0.1" + port: 200, "localhost" + port: 200, "devbox.lan" + port: 200, "DevBox.LAN": 200, "192.168.1.5" + port: 200,
		"evil.example" + port: 403, "devbox" + port: 403, "192.168.1.6" + port: 403,
	} {
		if code, body := getHost(t, base+"/apptuittest/series", host); code != want {
			t.Errorf("Host %s: %d %.200s, want %d", host, code, body, want)
		}
	}
	code, body := getHost(t, base+"/api/v1/labels", "evil.example"+port)
	if code != 403 || !strings.Contains(body, "start it with --allow-host evil.example to allow it") {
		t.Errorf("refused Host: %d %s", code, body)
	}

	// With --allow-remote, the --listen host; 0.0.0.0 allows every address.
	base = serveInProcess(t, "--listen", "0.0.0.0:0", "--allow-remote")
	base = strings.Replace(base, "0.0.0.0", "127.0.0.1", 1)
	port = base[strings.LastIndex(base, ":"):]
	for host, want := range map[string]int{"10.1.2.3" + port: 200, "[2001:db8::1]" + port: 200, "devbox.lan" + port: 403} {
		if code, body := getHost(t, base+"/apptuittest/series", host); code != want {
			t.Errorf("--allow-remote, Host %s: %d %.200s, want %d", host, code, body, want)
		}
	}

	for _, bad := range []string{"devbox.lan:80", "http://devbox", "*.lan", ""} {
		code, out, errOut := runCmd(t, "", "serve", "--allow-host", bad)
		if code != 2 || out != "" || !strings.Contains(errOut, "--allow-host") || !strings.Contains(errOut, "want a host name or an IP address, without a port") {
			t.Errorf("--allow-host %q: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
	}
}

// TestServeQueryLimits checks that the --query-* flags reach the server
// and that their messages name them.
func TestServeQueryLimits(t *testing.T) {
	cleanEnv(t)
	base := serveInProcess(t, "--listen", "127.0.0.1:0", "--query-max-points", "5", "--query-timeout", "2s")
	c, err := apptuit.New(apptuit.WithEndpoint(base), apptuit.WithNoAuth())
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	var pts []apptuit.DataPoint
	for i := 0; i < 3; i++ {
		pts = append(pts, apptuit.DataPoint{Metric: "m", Tags: map[string]string{"k": "v"}, Timestamp: ts.Add(time.Duration(i) * time.Second), Value: 1})
	}
	if err := c.Send(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(context.Background(), "fetch('m')", ts.Add(-time.Minute), ts.Add(time.Minute)); err != nil {
		t.Errorf("3 points: %v", err)
	}
	_, err = c.Query(context.Background(), "a = fetch('m')\noutput(a, a)", ts.Add(-time.Minute), ts.Add(time.Minute))
	var he *apptuit.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 422 || he.Message != "query too expensive: it needs more than 5 points fetched, computed and answered (the limit; raise it with --query-max-points)" {
		t.Errorf("6 points: %v", err)
	}
}
