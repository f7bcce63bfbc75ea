package main

import (
	"context"
	"errors"
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
