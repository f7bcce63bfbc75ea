package apptuit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// dualServer serves plain HTTP and HTTPS on one loopback port (it tells
// them apart by the first byte a client sends), so that a redirect from
// https://127.0.0.1:P to http://127.0.0.1:P, a pure downgrade, can be
// answered by the very server it came from, and a client that followed it
// would be caught with the token in hand. It records every request and
// answers those below /moved/ as the API would; the others are redirected
// as redirect says.
type dualServer struct {
	ln   net.Listener
	srv  *http.Server
	port string

	mu       sync.Mutex
	reqs     []seenRequest
	redirect func(path string) (code int, location string) // nil: none
}

type seenRequest struct {
	Scheme, Host, Method, Path, Auth string
	Body                             []byte // gunzipped when gzip
}

func newDualServer(t *testing.T, tlsConf *tls.Config) *dualServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dualServer{ln: ln}
	_, d.port, _ = net.SplitHostPort(ln.Addr().String())
	conns := make(chan net.Conn)
	done := make(chan struct{})
	go func() { // accept, sniff, hand over
		for {
			c, err := ln.Accept()
			if err != nil {
				close(done)
				return
			}
			go func() {
				br := bufio.NewReader(c)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				first, err := br.Peek(1)
				c.SetReadDeadline(time.Time{})
				if err != nil {
					c.Close()
					return
				}
				var out net.Conn = &peekedConn{Conn: c, r: br}
				if first[0] == 0x16 { // a TLS handshake record
					out = tls.Server(out, tlsConf)
				}
				select {
				case conns <- out:
				case <-done:
					out.Close()
				}
			}()
		}
	}()
	d.srv = &http.Server{Handler: http.HandlerFunc(d.serve), ErrorLog: nil}
	go d.srv.Serve(&chanListener{conns: conns, done: done, addr: ln.Addr()})
	t.Cleanup(func() {
		ln.Close()
		d.srv.Close()
	})
	return d
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

type chanListener struct {
	conns chan net.Conn
	done  chan struct{}
	addr  net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

func (d *dualServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, _ = io.ReadAll(zr)
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	d.mu.Lock()
	d.reqs = append(d.reqs, seenRequest{scheme, r.Host, r.Method, r.URL.Path, r.Header.Get("Authorization"), body})
	redirect := d.redirect
	d.mu.Unlock()
	if moved, ok := strings.CutPrefix(r.URL.Path, "/moved"); ok {
		switch moved {
		case "/api/put":
			w.WriteHeader(http.StatusNoContent)
		case "/api/query":
			io.WriteString(w, `{"outputs":[{"id":"m","result":[{"metric":"m","tags":{"h":"a"},"dps":[[1700000000,1.5]]}]}]}`)
		case "/prometheus/api/v1/query_range":
			io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"m"},"values":[[1700000000,"1.5"]]}]}}`)
		default:
			http.NotFound(w, r)
		}
		return
	}
	if redirect == nil {
		http.NotFound(w, r)
		return
	}
	code, loc := redirect(r.URL.Path)
	w.Header().Set("Location", loc)
	w.WriteHeader(code)
	io.WriteString(w, "<a href=\"moved\">moved</a>")
}

func (d *dualServer) reset(redirect func(string) (int, string)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reqs, d.redirect = nil, redirect
}

func (d *dualServer) seen() []seenRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]seenRequest(nil), d.reqs...)
}

// TestRedirectsKeepTheTokenHome: every redirect status × where it points
// × send, query and PromQL, with the client's own http.Client and with one
// passed by WithHTTPClient (whose CheckRedirect would follow anything). A
// redirect to another origin (port, host, https→http, http→https) fails
// with a *RedirectError naming both URLs, the points counted as not
// delivered, and nothing at all reaches the target; one to the same origin
// is followed when the request stays whole (307 and 308; 301, 302 and 303
// for the GET of Query), the token and the body sent again.
func TestRedirectsKeepTheTokenHome(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	certSrv := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate (127.0.0.1)
	t.Cleanup(certSrv.Close)
	home := newDualServer(t, certSrv.TLS)
	other := newDualServer(t, certSrv.TLS)

	const token = "s3cret-t0ken"
	points := []DataPoint{
		{Metric: "m", Tags: map[string]string{"h": "a"}, Timestamp: t0, Value: 1},
		{Metric: "m", Tags: map[string]string{"h": "b"}, Timestamp: t0, Value: 2},
		{Metric: "m", Tags: map[string]string{"h": "c"}, Timestamp: t0, Value: 3},
	}
	wantPut := `[{"metric":"m","timestamp":1700000000,"value":1.0,"tags":{"h":"a"}},{"metric":"m","timestamp":1700000000,"value":2.0,"tags":{"h":"b"}},{"metric":"m","timestamp":1700000000,"value":3.0,"tags":{"h":"c"}}]`
	ops := []struct {
		name, method, path string
		run                func(*Client) error
	}{
		{"send", "POST", "/api/put", func(c *Client) error { return c.Send(context.Background(), points) }},
		{"query", "GET", "/api/query", func(c *Client) error {
			res, err := c.Query(context.Background(), "fetch('m')", t0.Add(-time.Minute), t0.Add(time.Minute))
			if err == nil && res.Len() != 1 {
				return fmt.Errorf("%d outputs, want 1", res.Len())
			}
			return err
		}},
		{"promql", "POST", "/prometheus/api/v1/query_range", func(c *Client) error {
			res, err := c.QueryRange(context.Background(), "m", t0.Add(-time.Minute), t0.Add(time.Minute), time.Minute)
			if err == nil && len(res.Output(0).Series) != 1 {
				return fmt.Errorf("%d series, want 1", len(res.Output(0).Series))
			}
			return err
		}},
	}
	local := "127.0.0.1:" + home.port
	targets := []struct {
		name     string
		scheme   string // of the endpoint
		location string // prefix of the Location: "" for a relative one
		same     bool
		at       *dualServer // the server the target would reach
		reason   string      // part of the refusal
	}{
		{"same origin, relative", "http", "", true, home, ""},
		{"same origin, absolute", "http", "http://" + local, true, home, ""},
		{"same origin over https", "https", "https://" + local, true, home, ""},
		{"other port", "http", "http://127.0.0.1:" + other.port, false, other, "another origin than http://" + local},
		{"other host", "http", "http://localhost:" + home.port, false, home, "another origin than http://" + local},
		{"https to http", "https", "http://" + local, false, home, "leaves https for http"},
		{"http to https", "http", "https://" + local, false, home, "another origin than http://" + local},
	}
	userClient := func() *http.Client { return certSrv.Client() } // trusts the certificate; CheckRedirect nil
	for _, clientKind := range []string{"own", "WithHTTPClient"} {
		for _, tg := range targets {
			if clientKind == "own" && tg.scheme == "https" {
				continue // the default client does not trust the test certificate
			}
			for _, code := range []int{301, 302, 303, 307, 308} {
				for _, op := range ops {
					name := fmt.Sprintf("%s/%s/%d/%s", clientKind, tg.name, code, op.name)
					t.Run(name, func(t *testing.T) {
						home.reset(func(path string) (int, string) { return code, tg.location + "/moved" + path })
						other.reset(nil)
						opts := []Option{WithEndpoint(tg.scheme + "://" + local), WithToken(token), WithRetries(0), WithIgnoreEnvTags()}
						var hc *http.Client
						if clientKind == "WithHTTPClient" {
							hc = userClient()
							opts = append(opts, WithHTTPClient(hc))
						}
						c := mustNew(t, opts...)
						err := op.run(c)
						if hc != nil && hc.CheckRedirect != nil {
							t.Errorf("the caller's http.Client was modified: CheckRedirect set")
						}
						follows := tg.same && (code == 307 || code == 308 || op.method == "GET")
						seen := append(home.seen(), other.seen()...)
						first := seenRequest{tg.scheme, local, op.method, op.path, "Bearer " + token, nil}
						if len(seen) == 0 || seen[0].Scheme != first.Scheme || seen[0].Host != first.Host || seen[0].Path != first.Path || seen[0].Auth != first.Auth {
							t.Fatalf("first request %+v, want %+v", seen, first)
						}
						if follows {
							if err != nil {
								t.Fatalf("not followed: %v", err)
							}
							if len(seen) != 2 {
								t.Fatalf("%d requests, want 2: %+v", len(seen), seen)
							}
							second := seen[1]
							if second.Scheme != tg.scheme || second.Host != local || second.Path != "/moved"+op.path || second.Method != op.method || second.Auth != "Bearer "+token {
								t.Errorf("followed with %+v", second)
							}
							if !bytes.Equal(second.Body, seen[0].Body) {
								t.Errorf("body not replayed:\n got %q\nwant %q", second.Body, seen[0].Body)
							}
							if op.name == "send" && string(second.Body) != wantPut {
								t.Errorf("put body %s", second.Body)
							}
							return
						}
						if len(seen) != 1 {
							t.Fatalf("%d requests, want only the first: %+v", len(seen), seen)
						}
						var re *RedirectError
						if !errors.As(err, &re) {
							t.Fatalf("error %T %v, want a *RedirectError", err, err)
						}
						wantTo := tg.location + "/moved" + op.path
						if tg.location == "" {
							wantTo = tg.scheme + "://" + local + wantTo
						}
						if re.Op != op.name || re.Method != op.method || re.StatusCode != code ||
							re.From != tg.scheme+"://"+local+op.path || re.To != wantTo {
							t.Errorf("%+v, want from %s to %s", re, tg.scheme+"://"+local+op.path, wantTo)
						}
						reason := tg.reason
						if reason == "" {
							reason = fmt.Sprintf("a %d turns a POST into a GET", code)
						}
						if !strings.Contains(re.Reason, reason) {
							t.Errorf("reason %q, want it to say %q", re.Reason, reason)
						}
						if op.name == "send" && (re.Undelivered != 3 || re.Total != 3) {
							t.Errorf("undelivered %d of %d, want 3 of 3", re.Undelivered, re.Total)
						}
						msg := err.Error()
						if strings.Contains(msg, token) || !strings.Contains(msg, re.From) || !strings.Contains(msg, re.To) {
							t.Errorf("message %q", msg)
						}
						if IsRetryable(err) {
							t.Error("a refused redirect is retryable")
						}
					})
				}
			}
		}
	}
}

// TestRedirectCallerCheckRedirectNotCalled: a caller's client that would
// follow everything (and counts) is neither called nor changed.
func TestRedirectCallerCheckRedirectNotCalled(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	home := newDualServer(t, nil)
	other := newDualServer(t, nil)
	home.reset(func(path string) (int, string) { return 307, "http://127.0.0.1:" + other.port + "/moved" + path })
	calls := 0
	check := func(*http.Request, []*http.Request) error { calls++; return nil }
	hc := &http.Client{CheckRedirect: check, Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	c := mustNew(t, WithEndpoint("http://127.0.0.1:"+home.port), WithToken("t"), WithRetries(0), WithHTTPClient(hc), WithIgnoreEnvTags())
	err := c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"h": "a"}, Timestamp: t0, Value: 1}})
	var re *RedirectError
	if !errors.As(err, &re) || re.Undelivered != 1 || re.Total != 1 {
		t.Fatalf("%v", err)
	}
	if calls != 0 || len(other.seen()) != 0 {
		t.Errorf("CheckRedirect called %d times, other origin got %d requests", calls, len(other.seen()))
	}
	if hc.CheckRedirect == nil {
		t.Error("the caller's CheckRedirect was replaced")
	}
	// The caller's own use of its client still follows, by its own rule.
	resp, err := hc.Get("http://127.0.0.1:" + home.port + "/api/put")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if calls != 1 {
		t.Errorf("the caller's client no longer calls its CheckRedirect (%d calls)", calls)
	}
}

// TestRedirectSameOriginReplaysLargeBodies: a 307 to the same origin gets
// the whole body again from both body kinds, the streamed one and the one
// compressed on several cores (at least parMinPoints points), encoded anew
// from the points.
func TestRedirectSameOriginReplaysLargeBodies(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	home := newDualServer(t, nil)
	for _, n := range []int{100, parMinPoints + 123} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			home.reset(func(path string) (int, string) { return 307, "/moved" + path })
			s, err := NewTimeSeries("big", map[string]string{"h": "a"})
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				s.Add(t0.Add(time.Duration(i)*time.Second), float64(i))
			}
			c := mustNew(t, WithEndpoint("http://127.0.0.1:"+home.port), WithToken("t"), WithRetries(0), WithIgnoreEnvTags(), WithBatchSize(n))
			if err := c.SendTimeSeries(context.Background(), []*TimeSeries{s}); err != nil {
				t.Fatal(err)
			}
			seen := home.seen()
			if len(seen) != 2 || seen[1].Path != "/moved/api/put" {
				t.Fatalf("%d requests", len(seen))
			}
			if !bytes.Equal(seen[0].Body, seen[1].Body) || bytes.Count(seen[1].Body, []byte(`"metric"`)) != n {
				t.Errorf("replayed body differs or is short: %d and %d bytes, %d points", len(seen[0].Body), len(seen[1].Body), bytes.Count(seen[1].Body, []byte(`"metric"`)))
			}
		})
	}
}

// TestRedirectLimits: a loop of same-origin redirects stops after 10
// followed; a Location that is no URL is an error; a 3xx answer
// without Location is an *HTTPError like any other status.
func TestRedirectLimits(t *testing.T) {
	clearEnv(t)
	checkNoLeaks(t)
	home := newDualServer(t, nil)
	c := mustNew(t, WithEndpoint("http://127.0.0.1:"+home.port), WithToken("t"), WithRetries(0), WithIgnoreEnvTags())
	query := func() error {
		_, err := c.Query(context.Background(), "fetch('m')", t0, time.Time{})
		return err
	}

	home.reset(func(path string) (int, string) { return 302, path + "x" })
	err := query()
	var re *RedirectError
	if !errors.As(err, &re) || !strings.Contains(re.Reason, "redirect number 11") || len(home.seen()) != 11 {
		t.Errorf("loop: %v after %d requests", err, len(home.seen()))
	}

	// net/http itself refuses a Location that is no URL, before asking
	// CheckRedirect: an error, and nothing followed.
	home.reset(func(string) (int, string) { return 307, "http://[::1" })
	err = query()
	if err == nil || len(home.seen()) != 1 {
		t.Errorf("bad Location: %v after %d requests", err, len(home.seen()))
	}

	home.reset(func(string) (int, string) { return 307, "" })
	err = query()
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 307 {
		t.Errorf("no Location: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRedirectFromBareRoundTripper: a caller's RoundTripper may answer
// without setting Response.Request; the redirect is judged all the same.
func TestRedirectFromBareRoundTripper(t *testing.T) {
	clearEnv(t)
	calls := 0
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		return &http.Response{StatusCode: 308, Header: http.Header{"Location": {"https://elsewhere.example/api/put"}}, Body: io.NopCloser(strings.NewReader(""))}, nil
	})
	c := mustNew(t, WithEndpoint("https://home.example"), WithToken("t"), WithRetries(0), WithIgnoreEnvTags(), WithHTTPClient(&http.Client{Transport: rt}))
	err := c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"h": "a"}, Timestamp: t0, Value: 1}})
	var re *RedirectError
	if !errors.As(err, &re) || re.From != "https://home.example/api/put" || re.To != "https://elsewhere.example/api/put" || calls != 1 {
		t.Fatalf("%v after %d requests", err, calls)
	}
}
