package cdp

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/leakcheck"
)

func TestPage(t *testing.T) {
	leakcheck.AtCleanup(t)
	b := ForTest(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(`<!doctype html><title>t</title><link rel="icon" href="data:,"><input id="in" aria-label="in"><p id="out"></p>
<script src="/s.js"></script>`))
		case "/s.js":
			w.Header().Set("Content-Type", "text/javascript")
			w.Write([]byte(`document.getElementById('in').addEventListener('keydown', e => {
  if (e.key === 'Enter' && e.ctrlKey) document.getElementById('out').textContent = 'ctrl-enter:' + e.target.value;
});
document.addEventListener('mousemove', e => { document.title = e.clientX + ',' + e.clientY; });`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := b.NewPage(ctx, 640, 480)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, srv.URL+"/"); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(ctx, `document.getElementById('in').focus()`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.InsertText(ctx, "héllo"); err != nil {
		t.Fatal(err)
	}
	if err := p.Key(ctx, "Enter", "Enter", 13, Ctrl); err != nil {
		t.Fatal(err)
	}
	var out string
	if err := p.Eval(ctx, `document.getElementById('out').textContent`, &out); err != nil || out != "ctrl-enter:héllo" {
		t.Errorf("after typing: %q, %v; want %q", out, err, "ctrl-enter:héllo")
	}
	if err := p.MouseMove(ctx, 12, 34); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.title === '12,34'`); err != nil {
		t.Error(err)
	}
	var ee *EvalError
	if err := p.Eval(ctx, `(() => { throw new Error('boom') })()`, nil); !errors.As(err, &ee) {
		t.Errorf("a throwing expression: %v, want an *EvalError", err)
	}
	var ce *Error
	if err := p.Call(ctx, "No.such", nil, nil); !errors.As(err, &ce) {
		t.Errorf("an unknown method: %v, want an *Error", err)
	}
	png, err := p.Screenshot(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("the screenshot is not a PNG: % x", png[:min(8, len(png))])
	}
	if err := p.Eval(ctx, `console.error('on purpose')`, nil); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	for len(p.Problems()) == 0 && wctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if got := p.Problems(); len(got) != 1 || got[0] != "console.error: on purpose" {
		t.Errorf("problems: %q, want the one console error", got)
	}
	if err := p.Close(ctx); err != nil {
		t.Error(err)
	}
}
