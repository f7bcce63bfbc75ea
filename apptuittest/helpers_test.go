package apptuittest

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/apptuit-go/apptuit/internal/leakcheck"
)

// do sends a request and returns status, body and response headers.
func do(t *testing.T, method, url string, body []byte, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func post(t *testing.T, srv *Server, query, body string) (int, string) {
	t.Helper()
	u := srv.URL() + "/api/put"
	if query != "" {
		u += "?" + query
	}
	code, b, _ := do(t, http.MethodPost, u, []byte(body), map[string]string{"Content-Type": "application/json"})
	return code, b
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func zl(s string) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func rawDeflate(s string) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// checkNoLeak fails t when, shortly after f returns, more goroutines run
// than before it.
func checkNoLeak(t *testing.T, f func()) {
	t.Helper()
	http.DefaultClient.CloseIdleConnections()
	before := runtime.NumGoroutine()
	f()
	http.DefaultClient.CloseIdleConnections()
	leakcheck.Wait(t, before)
}

func newServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv := NewServer(opts...)
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q is not loopback", srv.URL())
	}
	return srv
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
