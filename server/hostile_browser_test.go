package server

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apptuit-go/apptuit/server/internal/browsertest"
)

// hostileBrowser starts headless Chromium (browsertest.New) in which the
// names evil.test and *.evil.test resolve to 127.0.0.1: the attacker's
// domain, resolved to this machine (as a rebinding domain is once it has
// rebound).
func hostileBrowser(t *testing.T) *browsertest.Page {
	t.Helper()
	return browsertest.New(t, 800, 600, browsertest.ResolveToLoopback("evil.test", "*.evil.test"))
}

// hostilePage is a page of another site that tries, against the server at
// TARGET, everything a page can do without the server's consent: forms
// posted as text/plain, urlencoded and multipart (to /api/put, and to
// /api/v1/query, which takes form queries), no-cors fetches (a text/plain
// put, a put of a Blob without a type, a GET query) and images whose
// source is a query. attack() resolves once every request has been
// answered (or 10 s passed).
const hostilePage = `<!doctype html>
<html><head><title>hostile</title></head><body>
<iframe name="s1"></iframe><iframe name="s2"></iframe><iframe name="s3"></iframe><iframe name="s4"></iframe>
<form id="f1" method="POST" action="TARGET/api/put" enctype="text/plain" target="s1"><input name='[{"metric":"csrf.text","timestamp":1700000000,"value":1,"tags":{"a":"b"},"x":"' value='"}]'></form>
<form id="f2" method="POST" action="TARGET/api/put" target="s2"><input name='[{"metric":"csrf.urlencoded","timestamp":1700000000,"value":1,"tags":{"a":"b"}}]' value=""></form>
<form id="f3" method="POST" action="TARGET/api/put" enctype="multipart/form-data" target="s3"><input name="points" value='[{"metric":"csrf.multipart","timestamp":1700000000,"value":1,"tags":{"a":"b"}}]'></form>
<form id="f4" method="POST" action="TARGET/api/v1/query" target="s4"><input name="query" value="count_over_time(csrf_form[100d])"></form>
<script>
const T = 'TARGET';
const put = (m) => JSON.stringify([{metric: m, timestamp: 1700000000, value: 1, tags: {a: 'b'}}]);
const settle = (p) => Promise.race([p.then(() => 'settled', () => 'failed'), new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
function submit(id, frame) {
  return settle(new Promise((resolve) => {
    document.querySelector('iframe[name=' + frame + ']').onload = resolve;
    document.getElementById(id).submit();
  }));
}
function image(src) {
  return settle(new Promise((resolve) => { const i = new Image(); i.onload = i.onerror = resolve; i.src = src; }));
}
window.attack = async function () {
  const out = {};
  out.formText = await submit('f1', 's1');
  out.formURLEncoded = await submit('f2', 's2');
  out.formMultipart = await submit('f3', 's3');
  out.formQuery = await submit('f4', 's4');
  out.fetchText = await settle(fetch(T + '/api/put', {method: 'POST', mode: 'no-cors', body: put('csrf.fetch.text')}));
  out.fetchBlob = await settle(fetch(T + '/api/put', {method: 'POST', mode: 'no-cors', body: new Blob([put('csrf.fetch.blob')])}));
  out.fetchJSON = await settle(fetch(T + '/api/put', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'application/json'}, body: put('csrf.fetch.json')}));
  out.fetchQuery = await settle(fetch(T + '/api/v1/query?query=count_over_time(csrf_fetch[100d])', {mode: 'no-cors'}));
  out.imgQL = await image(T + "/api/query?start=0&q=" + encodeURIComponent("a = fetch('m')\noutput(a, a, a)"));
  out.imgPromQL = await image(T + '/api/v1/query?query=count_over_time(csrf_img[100d])');
  return out;
};
</script></body></html>`

// reboundPage is the page of a rebinding domain once its name points at
// the server: its requests are same-origin, so it may send JSON and read
// the answers. attack() returns what it could read.
const reboundPage = `<!doctype html>
<html><head><title>rebound</title></head><body><script>
window.attack = async function () {
  const read = async (path, init) => {
    try { const r = await fetch(path, init); return {status: r.status, body: (await r.text()).slice(0, 400)}; }
    catch (e) { return {status: -1, body: String(e)}; }
  };
  return {
    page: await read('/'),
    series: await read('/apptuittest/series'),
    requests: await read('/apptuittest/requests'),
    promql: await read('/api/v1/query?query=up'),
    ql: await read("/api/query?start=0&q=fetch('m')"),
    put: await read('/api/put', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify([{metric: 'rebind.put', timestamp: 1700000000, value: 1, tags: {a: 'b'}}])}),
  };
};
</script></body></html>`

// servePage answers every request with page, closing the connection.
func servePage(page string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
}

// logged returns the request log as "METHOD path status" lines, sorted.
func logged(srv *testServer) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
	}
	sort.Strings(out)
	return out
}

// TestHostilePages loads pages of other origins in headless Chromium that
// try to write to and compute on a server running with its defaults (no
// token, the web page on): one on another port of 127.0.0.1 (same-site:
// Sec-Fetch-Site same-site), one on another name (cross-site). Nothing is
// stored and nothing computed: the server's request log shows every
// request refused with 403 before its handler ran.
func TestHostilePages(t *testing.T) {
	srv := newServer(t, WithWebPage())
	base, _ := url.Parse(srv.URL())
	hostile := httptest.NewServer(servePage(strings.ReplaceAll(hostilePage, "TARGET", srv.URL())))
	defer hostile.Close()
	_, hport, _ := net.SplitHostPort(hostile.Listener.Addr().String())

	want := []string{
		"GET /api/query 403",
		"GET /api/v1/query 403", "GET /api/v1/query 403",
		"POST /api/put 403", "POST /api/put 403", "POST /api/put 403", "POST /api/put 403", "POST /api/put 403", "POST /api/put 403",
		"POST /api/v1/query 403",
	}
	for _, site := range []struct{ name, url, site string }{
		{"same-site (another port of 127.0.0.1)", hostile.URL + "/", "same-site"},
		{"cross-site (another name)", "http://www.evil.test:" + hport + "/", "cross-site"},
	} {
		t.Run(site.name, func(t *testing.T) {
			page := hostileBrowser(t)
			before := len(srv.Requests())
			page.Navigate(site.url)
			var res map[string]string
			page.Eval(`attack()`, &res)
			for k, v := range res {
				if v != "settled" && v != "failed" {
					t.Errorf("%s: %s", k, v)
				}
			}
			reqs := srv.Requests()[before:]
			var got []string
			for _, r := range reqs {
				got = append(got, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
				if fs := r.Header.Get("Sec-Fetch-Site"); fs != site.site {
					t.Errorf("%s %s: Sec-Fetch-Site %q, want %q", r.Method, r.Path, fs, site.site)
				}
				if len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "refused: the API answers only its own page") {
					t.Errorf("%s %s: %v", r.Method, r.Path, r.Errors)
				}
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("requests logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			t.Logf("the page at %s sent %d requests to %s: %s", site.url, len(reqs), base.Host, strings.Join(got, ", "))
		})
	}
	if st := srv.Stats(); st.Points != 0 || st.Accepted != 0 || len(srv.Series()) != 0 {
		t.Errorf("stored: %+v", st)
	}
	for _, l := range logged(srv) {
		if !strings.HasSuffix(l, " 403") {
			t.Errorf("answered: %s", l)
		}
	}
}

// TestRebindingPage plays DNS rebinding: Chromium loads a page from
// http://rebind.evil.test:PORT/, served by the attacker; then the name
// points at the server (here: the attacker's listener starts passing
// every request to the server unchanged, Host header included, as the
// server would receive them from the browser itself). The page's
// same-origin requests — the page, the introspection endpoints, both
// query languages, a JSON put — all get 403 naming the Host rule, and
// the page reads no data.
func TestRebindingPage(t *testing.T) {
	page := hostileBrowser(t)
	srv := newServer(t, WithWebPage())
	if code, body := post(t, srv, "", `[{"metric":"m","timestamp":1700000000,"value":7,"tags":{"secret":"s3cr3t"}}]`); code != 204 {
		t.Fatalf("seed: %d %s", code, body)
	}
	var rebound atomic.Bool
	target, _ := url.Parse(srv.URL())
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // what the browser sent
	}}
	attacker := servePage(reboundPage)
	l := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rebound.Load() {
			proxy.ServeHTTP(w, r)
			return
		}
		attacker.ServeHTTP(w, r)
	}))
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Listener.Addr().String())
	host := "rebind.evil.test:" + port

	page.Navigate("http://" + host + "/")
	rebound.Store(true)
	l.Config.SetKeepAlivesEnabled(false)
	l.CloseClientConnections() // a new connection per request, to the "new address"
	var res map[string]struct {
		Status int
		Body   string
	}
	page.Eval(`attack()`, &res)
	if len(res) != 6 {
		t.Errorf("answers: %+v", res)
	}
	refused := fmt.Sprintf("Host %q refused: this server answers only requests addressed to localhost, a loopback address or a name allowed with --allow-host", host)
	for name, a := range res {
		if a.Status != 403 || !strings.Contains(a.Body, strings.Trim(mustJSON(t, refused), `"`)) && !strings.Contains(a.Body, refused) {
			t.Errorf("%s: %d %s", name, a.Status, a.Body)
		}
		if strings.Contains(a.Body, "s3cr3t") {
			t.Errorf("%s: the page read the data: %s", name, a.Body)
		}
	}
	if st := srv.Stats(); st.Accepted != 1 {
		t.Errorf("stored: %+v", st)
	}
	got := logged(srv)
	want := []string{"GET /api/query 403", "GET /api/v1/query 403", "POST /api/put 204", "POST /api/put 403"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests logged:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var statuses []string
	for name, a := range res {
		statuses = append(statuses, fmt.Sprintf("%s %d", name, a.Status))
	}
	sort.Strings(statuses)
	t.Logf("the rebound page at http://%s/ read: %s", host, strings.Join(statuses, ", "))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
