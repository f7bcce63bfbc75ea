package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/apptuit-go/apptuit/server/internal/browsertest"
)

// linesHostilePage is a page on another origin that tries every way a page has
// to send bytes to the server, each carrying put lines.
const linesHostilePage = `<!doctype html><title>hostile</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" enctype="text/plain" target="sink"><input id="i"></form>
<script>
async function attack(target) {
  const line = (n) => "put evil." + n + " 1700000000 1 k=v\n";
  const out = [];
  const tries = [
    ["post-no-cors", {method: "POST", mode: "no-cors", body: line("a")}],
    ["lowercase-put", {method: "put", body: line("b")}],
    ["lowercase-custom-cors", {method: "xput", body: line("c")}],
    ["lowercase-custom-no-cors", {method: "xput", mode: "no-cors", body: line("d")}],
  ];
  for (const [name, init] of tries) {
    try {
      const r = await fetch(target + "/api/put", init);
      out.push(name + ": " + r.type + " " + r.status);
    } catch (e) {
      out.push(name + ": " + e.name);
    }
  }
  await new Promise((done) => {
    const ws = new WebSocket(target.replace("http:", "ws:") + "/");
    ws.onopen = () => { ws.send(line("e")); out.push("websocket: open"); done(); };
    ws.onerror = () => { out.push("websocket: error"); done(); };
  });
  const f = document.getElementById("f"), i = document.getElementById("i");
  f.action = target + "/api/put";
  i.name = "put evil.f 1700000000 1 k";
  i.value = "v\n";
  await new Promise((done) => {
    document.querySelector("iframe").onload = done;
    f.submit();
    setTimeout(done, 3000);
  });
  out.push("form: submitted");
  return out;
}
</script>`

// TestTelnetNotFromBrowser: a page on another origin (headless Chromium)
// that sends put lines by fetch (no-cors, lowercase methods), a
// WebSocket and a text/plain form never opens a line connection: every
// connection it makes is HTTP, and nothing is stored.
func TestTelnetNotFromBrowser(t *testing.T) {
	page := browsertest.New(t, 800, 600)
	srv := newServer(t)
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(linesHostilePage))
	}))
	defer hostile.Close()

	page.Navigate(hostile.URL)
	var out []string
	page.Eval("attack("+strconv.Quote(srv.URL())+")", &out)
	t.Logf("the page's attempts: %q", out)
	if len(out) != 6 {
		t.Fatalf("the page made %d attempts, want 6: %q", len(out), out)
	}
	var methods []string
	for _, r := range srv.Requests() {
		methods = append(methods, r.Method+" "+r.Path)
		if r.Method == "TELNET" {
			t.Errorf("a line connection from the page: %+v", r)
		}
	}
	t.Logf("the server saw: %q", methods)
	if len(methods) == 0 {
		t.Error("the server saw no request from the page")
	}
	for _, p := range srv.Points() {
		t.Errorf("stored %+v", p)
	}
}
