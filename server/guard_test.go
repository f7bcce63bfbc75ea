package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"mime"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// serveLocal answers one request through the server's handler, with the
// Host and headers given.
func serveLocal(s *Server, method, target, host string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = host
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

// guardPaths are one request to every kind of path the server answers.
var guardPaths = []struct {
	method, target, body string
	hdr                  map[string]string
}{
	{"GET", "/", "", nil},
	{"GET", "/ui/app.js", "", nil},
	{"GET", "/favicon.ico", "", nil},
	{"POST", "/api/put", good1, map[string]string{"Content-Type": "application/json"}},
	{"GET", "/api/query?start=0&q=fetch('m1')", "", nil},
	{"GET", "/api/v1/query?query=m1&time=1500000000", "", nil},
	{"POST", "/api/v1/query", "query=m1&time=1500000000", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
	{"GET", "/prometheus/api/v1/labels", "", nil},
	{"GET", "/apptuittest/series", "", nil},
	{"GET", "/apptuittest/requests", "", nil},
	{"GET", "/apptuittest/auth", "", nil},
	{"GET", "/nope", "", nil},
}

func TestGuardHost(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		ok      []string
		refused []string
	}{
		{"loopback only", nil,
			[]string{"localhost", "localhost:4242", "LocalHost:1", "127.0.0.1", "127.0.0.1:4242", "127.3.2.1:80", "[::1]", "[::1]:4242", "[::ffff:127.0.0.1]:4242"},
			[]string{"evil.example", "evil.example:4242", "localhost.", "localhost.:4242", "app.localhost:4242", "localhost.evil.example",
				"127.0.0.1.nip.io:4242", "10.0.0.1:4242", "0.0.0.0:4242", "[::]:4242", "[fe80::1]:4242", ""}},
		{"names and addresses", []string{"MyHost", "box.lan", "192.168.1.5", "[fd00::5]"},
			[]string{"myhost", "myhost:4242", "MYHOST:1", "box.lan:80", "192.168.1.5:4242", "[fd00::5]:4242", "localhost:4242", "127.0.0.1:4242"},
			[]string{"other:4242", "lan:4242", "192.168.1.6:4242", "[fd00::6]:4242", "myhost.evil.example"}},
		{"all interfaces", []string{"0.0.0.0"},
			[]string{"10.1.2.3:4242", "192.168.1.5", "[fe80::1]:4242", "[2001:db8::1]:4242", "localhost:4242"},
			[]string{"myhost:4242", "evil.example"}},
		{"all interfaces, v6", []string{"::"},
			[]string{"10.1.2.3:4242", "[2001:db8::1]:4242"},
			[]string{"myhost:4242"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(WithWebPage(), WithAllowedHosts(tt.allowed...))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			for _, host := range tt.ok {
				for _, p := range guardPaths {
					if w := serveLocal(srv, p.method, p.target, host, p.hdr, p.body); w.Code == 403 {
						t.Errorf("Host %q: %s %s: %d %s", host, p.method, p.target, w.Code, w.Body)
					}
				}
			}
			for _, host := range tt.refused {
				for _, p := range guardPaths {
					w := serveLocal(srv, p.method, p.target, host, p.hdr, p.body)
					if w.Code != 403 || !strings.Contains(w.Body.String(), "refused: this server answers only requests addressed to localhost, a loopback address or a name allowed with --allow-host (server.WithAllowedHosts)") {
						t.Errorf("Host %q: %s %s: %d %s", host, p.method, p.target, w.Code, w.Body)
					}
				}
			}
			if st := srv.Stats(); st.Points != len(tt.ok) {
				t.Errorf("%d points stored, want %d (one per allowed host)", st.Points, len(tt.ok))
			}
		})
	}
}

func TestGuardHostMessage(t *testing.T) {
	srv, err := New(WithWebPage())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tt := range []struct{ host, target, want string }{
		{"evil.example:4242", "/api/v1/query?query=1",
			`{"error":{"code":403,"message":"Host \"evil.example:4242\" refused: this server answers only requests addressed to localhost, a loopback address or a name allowed with --allow-host (server.WithAllowedHosts), so that a web page on a rebinding domain cannot read or write it; start it with --allow-host evil.example to allow it"}}`},
		{"Box", "/apptuittest/series",
			`{"error":{"code":403,"message":"Host \"Box\" refused: this server answers only requests addressed to localhost, a loopback address or a name allowed with --allow-host (server.WithAllowedHosts), so that a web page on a rebinding domain cannot read or write it; start it with --allow-host Box to allow it"}}`},
		{"10.0.0.1:80", "/",
			"Host \"10.0.0.1:80\" refused: this server answers only requests addressed to localhost, a loopback address or a name allowed with --allow-host (server.WithAllowedHosts), so that a web page on a rebinding domain cannot read or write it; start it with --allow-host 10.0.0.1 to allow it\n"},
		{"[fd00::1]:80", "/api/put",
			`{"error":{"code":403,"message":"Host \"[fd00::1]:80\" refused: this server answers only requests addressed to localhost, a loopback address or a name allowed with --allow-host (server.WithAllowedHosts), so that a web page on a rebinding domain cannot read or write it; start it with --allow-host fd00::1 to allow it"}}`},
		{"", "/api/put",
			`{"error":{"code":403,"message":"Host \"\" refused: this server answers only requests addressed to localhost, a loopback address or a name allowed with --allow-host (server.WithAllowedHosts), so that a web page on a rebinding domain cannot read or write it"}}`},
	} {
		if w := serveLocal(srv, "GET", tt.target, tt.host, nil, ""); w.Code != 403 || w.Body.String() != tt.want {
			t.Errorf("Host %q:\n got %d %s\nwant 403 %s", tt.host, w.Code, w.Body, tt.want)
		}
	}
	// The refused API requests are in the request log (the page's files
	// and the introspection endpoints never are).
	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[0].Status != 403 || !strings.HasPrefix(reqs[0].Errors[0], `Host "evil.example:4242" refused`) {
		t.Errorf("request log: %+v", reqs)
	}
}

func TestWithAllowedHostsInvalid(t *testing.T) {
	for _, h := range []string{"", "host:80", "http://host", "*.example", "a..b", "fe80::1%eth0", "host/x"} {
		_, err := New(WithAllowedHosts(h))
		if err == nil || !strings.Contains(err.Error(), "not a host name or an IP address (no port, scheme or wildcard)") {
			t.Errorf("WithAllowedHosts(%q): %v", h, err)
		}
	}
}

func TestGuardCrossSite(t *testing.T) {
	srv, err := New(WithWebPage())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const host = "127.0.0.1:4242"
	tests := []struct {
		name string
		hdr  map[string]string
		ok   bool
	}{
		{"not a browser", nil, true},
		{"own page", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:4242"}, true},
		{"typed in", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"own origin, no fetch metadata", map[string]string{"Origin": "http://127.0.0.1:4242"}, true},
		{"own origin over https (a proxy)", map[string]string{"Origin": "https://127.0.0.1:4242"}, true},
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"same-site (another port of 127.0.0.1)", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"foreign origin", map[string]string{"Origin": "http://evil.example"}, false},
		{"another port", map[string]string{"Origin": "http://127.0.0.1:8080"}, false},
		{"another name of this server", map[string]string{"Origin": "http://localhost:4242"}, false},
		{"null origin", map[string]string{"Origin": "null"}, false},
		{"origin with a path", map[string]string{"Origin": "http://127.0.0.1:4242/x"}, false},
		{"file origin", map[string]string{"Origin": "file://"}, false},
		{"same-origin with a foreign Origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example"}, false},
	}
	for _, tt := range tests {
		for _, p := range guardPaths {
			hdr := map[string]string{}
			for k, v := range p.hdr {
				hdr[k] = v
			}
			for k, v := range tt.hdr {
				hdr[k] = v
			}
			w := serveLocal(srv, p.method, p.target, host, hdr, p.body)
			page := !strings.HasPrefix(p.target, "/api") && !strings.HasPrefix(p.target, "/prometheus") && !strings.HasPrefix(p.target, "/apptuittest") && p.target != "/nope"
			if tt.ok || page {
				if w.Code == 403 {
					t.Errorf("%s: %s %s: %d %s", tt.name, p.method, p.target, w.Code, w.Body)
				}
				continue
			}
			if body := w.Body.String(); w.Code != 403 || !strings.Contains(body, "refused: the API answers only its own page") || !strings.Contains(body, "(cross-site request forgery)") {
				t.Errorf("%s: %s %s: %d %s", tt.name, p.method, p.target, w.Code, body)
			}
		}
	}
	// Two Origin headers are refused too.
	r := httptest.NewRequest("GET", "/api/v1/query?query=1", nil)
	r.Host = host
	r.Header["Origin"] = []string{"http://127.0.0.1:4242", "http://evil.example"}
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, r)
	if w.Code != 403 {
		t.Errorf("two Origins: %d %s", w.Code, w.Body)
	}
	w = serveLocal(srv, "GET", "/api/v1/query?query=1", host, map[string]string{"Sec-Fetch-Site": "cross-site"}, "")
	if want := `{"error":{"code":403,"message":"Sec-Fetch-Site \"cross-site\" refused: the API answers only its own page and clients that are not browsers, not pages of other sites or origins (cross-site request forgery)"}}`; w.Body.String() != want {
		t.Errorf("got  %s\nwant %s", w.Body, want)
	}
	w = serveLocal(srv, "GET", "/api/v1/query?query=1", host, map[string]string{"Origin": "null"}, "")
	if want := `{"error":{"code":403,"message":"Origin \"null\" refused: the API answers only its own page (origin http://127.0.0.1:4242) and clients that are not browsers, not pages of other origins (cross-site request forgery)"}}`; w.Body.String() != want {
		t.Errorf("got  %s\nwant %s", w.Body, want)
	}
}

func TestPutContentType(t *testing.T) {
	srv, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(good1))
	zw.Close()
	tests := []struct {
		ctype, encoding, body string
		code                  int
	}{
		{"application/json", "", good1, 204},
		{"application/json; charset=utf-8", "", good1, 204},
		{"Application/JSON", "", good1, 204},
		{"application/json", "gzip", gz.String(), 204},
		{"text/plain", "", good1, 415},
		{"text/plain;charset=UTF-8", "", good1, 415},
		{"application/x-www-form-urlencoded", "", good1, 415},
		{"multipart/form-data; boundary=x", "", good1, 415},
		{"", "", good1, 415},
		{"application/jsonx", "", good1, 415},
		{"application/json-seq", "", good1, 415},
	}
	for _, tt := range tests {
		hdr := map[string]string{"Content-Type": tt.ctype}
		if tt.encoding != "" {
			hdr["Content-Encoding"] = tt.encoding
		}
		w := serveLocal(srv, "POST", "/api/put", "127.0.0.1:4242", hdr, tt.body)
		if w.Code != tt.code {
			t.Errorf("Content-Type %q: %d %s, want %d", tt.ctype, w.Code, w.Body, tt.code)
		}
	}
	if got := srv.Stats().Accepted; got != 4 {
		t.Errorf("%d points accepted, want 4", got)
	}
	w := serveLocal(srv, "POST", "/api/put", "127.0.0.1:4242", map[string]string{"Content-Type": "text/plain"}, good1)
	if want := `{"error":{"code":415,"message":"Content-Type \"text/plain\" refused: /api/put takes only \"Content-Type: application/json\" (compressed or not), so that a web page on another site cannot store points with a form or a no-cors fetch; send that header (curl: -H 'Content-Type: application/json')"}}`; w.Body.String() != want {
		t.Errorf("got  %s\nwant %s", w.Body, want)
	}
}

// TestGuardRealClients checks that the clients that are not browsers
// pass: our client's put and both its queries, and Prometheus's
// form-encoded POST query as promtool sends it.
func TestGuardRealClients(t *testing.T) {
	srv := newServer(t)
	c, err := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithNoAuth(), apptuit.WithIgnoreEnvTags(), apptuit.WithPromQLPath("/api/v1/query_range"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Unix(1700000000, 0)
	if err := c.Send(ctx, []apptuit.DataPoint{{Metric: "m", Tags: map[string]string{"h": "a"}, Timestamp: t0, Value: 1}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res, err := c.Query(ctx, "fetch('m')", t0.Add(-time.Minute), t0.Add(time.Minute)); err != nil || len(res.Outputs()) != 1 {
		t.Fatalf("Query: %v", err)
	}
	if _, err := c.QueryRange(ctx, `{__name__="m"}`, t0, t0, time.Second); err != nil {
		t.Fatalf("QueryRange: %v", err)
	}
	code, body, _ := do(t, "POST", srv.URL()+"/api/v1/query", []byte("query=1&time=1700000000"), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Prometheus/2.42.0",
	})
	if code != 200 {
		t.Errorf("form POST query: %d %s", code, body)
	}
	for _, r := range srv.Requests() {
		if r.Status >= 400 {
			t.Errorf("%s %s: %d %v", r.Method, r.Path, r.Status, r.Errors)
		}
	}
}

// FuzzGuard sends a put with any Host, Origin, Sec-Fetch-Site and
// Content-Type: no panic, and a point is stored only when all four pass
// the rules (checked here with the standard library's own parsers).
func FuzzGuard(f *testing.F) {
	for _, s := range [][4]string{
		{"127.0.0.1:4242", "", "", "application/json"},
		{"localhost", "http://localhost", "same-origin", "application/json; charset=utf-8"},
		{"[::1]:1", "null", "", "application/json"},
		{"evil.example:4242", "", "", "application/json"},
		{"127.0.0.1:4242", "http://evil.example", "cross-site", "text/plain"},
		{"127.0.0.1:4242", "", "same-site", "multipart/form-data; boundary=x"},
		{"[::ffff:127.0.0.1]", "https://[::ffff:127.0.0.1]", "none", "APPLICATION/JSON"},
		{"127.0.0.1:", "http://127.0.0.1:", "", "application/json;"},
		{"[127.0.0.1]", "", "", "application/json"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	srv, err := New()
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	f.Fuzz(func(t *testing.T, host, origin, site, ctype string) {
		before := srv.Stats().Accepted
		hdr := map[string]string{"Content-Type": ctype}
		if origin != "" {
			hdr["Origin"] = origin
		}
		if site != "" {
			hdr["Sec-Fetch-Site"] = site
		}
		w := serveLocal(srv, "POST", "/api/put", host, hdr, good1)
		stored := srv.Stats().Accepted > before
		switch w.Code {
		case 204, 403, 415:
		default:
			t.Fatalf("%q %q %q %q: %d %s", host, origin, site, ctype, w.Code, w.Body)
		}
		if stored != (w.Code == 204) {
			t.Fatalf("%q %q %q %q: %d, stored %v", host, origin, site, ctype, w.Code, stored)
		}
		if !stored {
			return
		}
		name := (&url.URL{Host: host}).Hostname()
		ip, ipErr := netip.ParseAddr(name)
		mt, _, ctErr := mime.ParseMediaType(ctype)
		o, oErr := url.Parse(origin)
		switch {
		case !strings.EqualFold(name, "localhost") && (ipErr != nil || !ip.Unmap().IsLoopback()):
			t.Fatalf("stored with Host %q", host)
		case site != "" && site != "same-origin" && site != "none":
			t.Fatalf("stored with Sec-Fetch-Site %q", site)
		case origin != "" && (oErr != nil || !strings.EqualFold(o.Host, host) || o.Scheme != "http" && o.Scheme != "https"):
			t.Fatalf("stored with Origin %q for Host %q", origin, host)
		case ctErr != nil || mt != "application/json":
			t.Fatalf("stored with Content-Type %q", ctype)
		}
	})
}
