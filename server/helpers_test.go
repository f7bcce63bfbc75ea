package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/leakcheck"
)

// testServer is a Server serving on a loopback port.
type testServer struct {
	*Server
	url    string
	served chan error
	once   sync.Once
}

// URL returns the base URL, e.g. "http://127.0.0.1:40321".
func (s *testServer) URL() string { return s.url }

// Points returns every stored point, in arrival order.
func (s *testServer) Points() []apptuit.DataPoint { return s.store.Points() }

// Close closes the server and waits for Serve to return.
func (s *testServer) Close() {
	s.once.Do(func() {
		s.Server.Close()
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
			panic("Serve: " + err.Error())
		}
	})
}

// launch serves a new Server on 127.0.0.1; the caller closes it.
func launch(opts ...Option) (*testServer, error) {
	srv, err := New(opts...)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	ts := &testServer{Server: srv, url: "http://" + l.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve(l) }()
	return ts, nil
}

// mustLaunch is launch failing t on an error.
func mustLaunch(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	srv, err := launch(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// startServer is launch with the server closed when the test ends.
func startServer(t *testing.T, opts ...Option) (*testServer, error) {
	t.Helper()
	srv, err := launch(opts...)
	if err == nil {
		t.Cleanup(srv.Close)
	}
	return srv, err
}

func newServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	srv, err := startServer(t, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// good1 is a valid put body of one point.
const good1 = `{"metric":"m1","timestamp":1500000000,"value":1.5,"tags":{"host":"a"}}`

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

func post(t *testing.T, srv *testServer, query, body string) (int, string) {
	t.Helper()
	u := srv.URL() + "/api/put"
	if query != "" {
		u += "?" + query
	}
	code, b, _ := do(t, http.MethodPost, u, []byte(body), map[string]string{"Content-Type": "application/json"})
	return code, b
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
