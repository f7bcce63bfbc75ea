package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/leakcheck"
	"github.com/apptuit-go/apptuit/server/internal/webui"
)

// TestServeWebPage checks the page of "apptuit serve --token": its files
// need no token and hold none, the API behind it needs the token, and no
// log line shows it.
func TestServeWebPage(t *testing.T) {
	cleanEnv(t)
	leakcheck.AtCleanup(t)
	const token = "w3b-s3cr3t-t0ken"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr safeBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--token", token}, strings.NewReader(""), &stdout, &stderr)
	}()
	urlRE := regexp.MustCompile(`web page at (http://127\.0\.0\.1:\d+)/\n`)
	waitFor(t, "the web page line", func() bool { return urlRE.MatchString(stdout.String()) })
	base := urlRE.FindStringSubmatch(stdout.String())[1]
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer hc.CloseIdleConnections()
	get := func(path, tok string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, p := range webui.Files() {
		for _, tok := range []string{"", token} {
			resp, body := get(p, tok)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != webui.CSP {
				t.Errorf("GET %s (token %v): %d, CSP %q", p, tok != "", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
			}
			if strings.Contains(body, token) || strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ""), token) {
				t.Errorf("GET %s: the answer holds the token", p)
			}
		}
	}
	if resp, body := get("/", ""); !strings.Contains(body, `<input id="token" type="password"`) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %s\n%.200s", resp.Header.Get("Content-Type"), body)
	}
	for _, p := range []string{"/apptuittest/series", "/apptuittest/requests", "/api/query?start=1h-ago&q=fetch('m')"} {
		if resp, _ := get(p, ""); resp.StatusCode != 401 {
			t.Errorf("GET %s without the token: %d, want 401", p, resp.StatusCode)
		}
		if resp, body := get(p, token); resp.StatusCode != 200 {
			t.Errorf("GET %s with the token: %d %s", p, resp.StatusCode, body)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(stdout.String(), token) || strings.Contains(stderr.String(), token) {
		t.Errorf("the output shows the token:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), `GET /api/query start=`) && !strings.Contains(stdout.String(), "GET /api/query accepted=0 failed=0 status=401") {
		t.Errorf("the API requests were not logged:\n%s", stdout.String())
	}
}

func TestDemoWebFlags(t *testing.T) {
	cleanEnv(t)
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:4242", "nonsense"} {
		code, _, errOut := runCmd(t, "", "demo", "--web", "--listen", addr)
		if code != 2 || !strings.Contains(errOut, "bad --listen address") {
			t.Errorf("--listen %s: exit %d, stderr %q", addr, code, errOut)
		}
	}
}
