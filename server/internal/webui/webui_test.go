package webui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesFiles(t *testing.T) {
	h := Handler()
	tests := []struct {
		path, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script src="/ui/app.js" defer></script>`},
		{"/ui/app.js", "text/javascript; charset=utf-8", "ApptuitChart.create"},
		{"/ui/chart.js", "text/javascript; charset=utf-8", "global.ApptuitChart"},
		{"/ui/format.js", "text/javascript; charset=utf-8", "global.ApptuitFormat"},
		{"/ui/complete.js", "text/javascript; charset=utf-8", "global.ApptuitComplete"},
		{"/ui/vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8", "var uPlot="},
		{"/ui/vendor/uPlot.min.css", "text/css; charset=utf-8", ".uplot"},
		{"/ui/app.css", "text/css; charset=utf-8", "--accent"},
		{"/ui/icon.svg", "image/svg+xml", "<svg"},
		{"/favicon.ico", "image/svg+xml", "<svg"},
	}
	for _, tt := range tests {
		resp := get(t, h, "GET", tt.path, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d, want 200", tt.path, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.ctype)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != CSP {
			t.Errorf("GET %s: CSP %q, want %q", tt.path, got, CSP)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("GET %s: %s %q, want %q", tt.path, k, got, want)
			}
		}
		if !strings.Contains(string(body), tt.contains) {
			t.Errorf("GET %s: the body lacks %q", tt.path, tt.contains)
		}
		if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("GET %s: Content-Length %q for %d bytes", tt.path, resp.Header.Get("Content-Length"), len(body))
		}
		// The ETag makes a reload a 304 without a body; HEAD has none either.
		etag := resp.Header.Get("ETag")
		if resp := get(t, h, "GET", tt.path, http.Header{"If-None-Match": {`"x", ` + etag}}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %d, want 304", tt.path, etag, resp.StatusCode)
		}
		resp = get(t, h, "HEAD", tt.path, nil)
		if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || len(b) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, want 200 and none", tt.path, resp.StatusCode, len(b))
		}
	}
}

func TestHandlerRefuses(t *testing.T) {
	h := Handler()
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/ui/", 404},
		{"GET", "/ui/nope.js", 404},
		{"GET", "/ui/../webui.go", 404},
		{"GET", "/index.html", 404},
		{"POST", "/", 405},
		{"DELETE", "/ui/app.js", 405},
	} {
		resp := get(t, h, tt.method, tt.path, nil)
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != CSP {
			t.Errorf("%s %s: CSP %q, want it on errors too", tt.method, tt.path, got)
		}
	}
	if got := get(t, h, "POST", "/", nil).Header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("405 Allow: %q", got)
	}
}

func TestHandles(t *testing.T) {
	for p, want := range map[string]bool{"/": true, "/favicon.ico": true, "/ui/app.js": true, "/ui/x": true,
		"/api/query": false, "/apptuittest/series": false, "/uix": false, "": false} {
		if got := Handles(p); got != want {
			t.Errorf("Handles(%q) = %v, want %v", p, got, want)
		}
	}
	files := Files()
	sort.Strings(files)
	want := []string{"/", "/favicon.ico", "/ui/app.css", "/ui/app.js", "/ui/chart.js", "/ui/complete.js", "/ui/format.js", "/ui/icon.svg",
		"/ui/vendor/uPlot.iife.min.js", "/ui/vendor/uPlot.min.css"}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("Files() = %q, want %q", files, want)
	}
}

// TestAssetsStayLocal greps the embedded files for anything that would make
// the page load from elsewhere or run text it did not ship.
func TestAssetsStayLocal(t *testing.T) {
	url := regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>)]*`)
	attr := regexp.MustCompile(`(?i)\b(src|href|action|srcset|poster|data)\s*=\s*["']?([^"'\s>]*)`)
	cssURL := regexp.MustCompile(`(?i)\burl\(\s*['"]?([^'")]*)`)
	banned := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
		"@import", "localStorage", "<iframe", "<style", "javascript:", " on" + "click=", " on" + "load=", "style=\""}
	h := Handler()
	for _, p := range Files() {
		resp := get(t, h, "GET", p, nil)
		b, _ := io.ReadAll(resp.Body)
		s := string(b)
		for _, u := range url.FindAllString(s, -1) {
			// An XML namespace name and uPlot's credit line, never fetched.
			if u != "http://www.w3.org/2000/svg" && !(p == "/ui/vendor/uPlot.iife.min.js" && u == "https://github.com/leeoniya/uPlot") {
				t.Errorf("%s: external URL %q", p, u)
			}
		}
		if strings.Contains(s, `"//`) || strings.Contains(s, `'//`) || strings.Contains(s, "(//") {
			t.Errorf("%s: a protocol-relative URL", p)
		}
		isMarkup := p == "/" || strings.HasSuffix(p, ".svg") || p == "/favicon.ico"
		for _, m := range attr.FindAllStringSubmatch(s, -1) {
			if !isMarkup {
				break
			}
			if v := m[2]; v != "" && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "#") {
				t.Errorf("%s: %s=%q is not a path on this server", p, m[1], v)
			}
		}
		for _, m := range cssURL.FindAllStringSubmatch(s, -1) {
			if !strings.HasPrefix(m[1], "/") && !strings.HasPrefix(m[1], "data:") {
				t.Errorf("%s: url(%s) is not local", p, m[1])
			}
		}
		for _, w := range banned {
			if strings.Contains(s, w) {
				t.Errorf("%s contains %q", p, w)
			}
		}
	}
}
