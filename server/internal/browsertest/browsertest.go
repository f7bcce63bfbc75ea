// Package browsertest runs a headless Chromium for this module's tests,
// through chromedp (the maintained Go client of the Chrome DevTools
// Protocol): a page per test, JavaScript evaluated in it, keyboard and
// mouse input, emulated screens and colour schemes, screenshots, and the
// page's console problems collected for the test to check.
//
// New skips the test when no Chromium is installed, except under CI (the
// environment variable CI or APPTUIT_TEST_REQUIRE_BROWSER set), where a
// browser test that did not run must fail.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Environment variables: the browser's path (else chromium,
// chromium-browser or google-chrome on $PATH), the switch that makes a
// missing browser fail the test, and the directory screenshots go to (a CI
// artifact; else the test's temporary directory).
const (
	EnvChromium  = "APPTUIT_TEST_CHROMIUM"
	EnvRequire   = "APPTUIT_TEST_REQUIRE_BROWSER"
	EnvArtifacts = "APPTUIT_TEST_ARTIFACTS"
)

// WaitTimeout bounds Page.Wait.
const WaitTimeout = 20 * time.Second

// find returns the browser's path.
func find() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvChromium, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errNotFound
}

var errNotFound = errors.New("no Chromium found (install Debian's chromium, or set " + EnvChromium + ")")

// flags are added to chromedp's defaults (headless, no first run, no
// background networking, ...): no sandbox (CI runs as root), no GPU, and
// none of the connections that a machine without a network refuses.
var flags = []chromedp.ExecAllocatorOption{
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("hide-scrollbars", true),
	chromedp.Flag("mute-audio", true),
	chromedp.Flag("lang", "en-US"),
}

// Option changes how New starts the browser.
type Option func(*[]chromedp.ExecAllocatorOption)

// ResolveToLoopback makes the browser resolve the host names (patterns
// such as "evil.test" and "*.evil.test") to 127.0.0.1, through Chromium's
// --host-resolver-rules: pages of another site, or of a rebinding domain
// once it has rebound, served from this machine.
func ResolveToLoopback(names ...string) Option {
	rules := make([]string, len(names))
	for i, n := range names {
		rules[i] = "MAP " + n + " 127.0.0.1"
	}
	return func(opts *[]chromedp.ExecAllocatorOption) {
		*opts = append(*opts, chromedp.Flag("host-resolver-rules", strings.Join(rules, ", ")))
	}
}

// Page is a browser tab of a test, with a browser of its own (so tests
// share nothing and a crash stays in one test).
type Page struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// New starts a browser for t with one tab of the given size in CSS
// pixels, and closes it when the test ends. The tab's time zone is UTC.
func New(t testing.TB, width, height int, options ...Option) *Page {
	t.Helper()
	path, err := find()
	if err != nil {
		if os.Getenv("CI") == "" && os.Getenv(EnvRequire) == "" {
			t.Skipf("%v; the browser test is skipped (CI fails it)", err)
		}
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], flags...)
	opts = append(opts, chromedp.ExecPath(path))
	for _, o := range options {
		o(&opts)
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	p := &Page{t: t, ctx: ctx}
	// The first Run starts the browser; it must not have a deadline.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		acancel()
		t.Fatalf("starting %s: %v", path, err)
	}
	console := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				text := m.Text
				if m.Source != "" {
					text = m.Source + ": " + text
				}
				if m.URL != "" && !strings.Contains(text, m.URL) {
					text += " (" + m.URL + ")"
				}
				p.mu.Lock()
				p.problems = append(p.problems, string(m.Type)+": "+text)
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		acancel()
		<-done
	})
	p.Do(chromedp.EmulateViewport(int64(width), int64(height)),
		call(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"}))
	return p
}

// call is an action sending one protocol command.
func call[P, R any](c cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, c, params)
		return err
	})
}

// Context is the tab's chromedp context, for actions this type has no
// method for.
func (p *Page) Context() context.Context { return p.ctx }

// Do runs the actions, failing the test on an error.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	p.Do(chromedp.Navigate(url))
}

// Reload reloads the page, as the browser's reload button does, and
// waits for its load event.
func (p *Page) Reload() {
	p.t.Helper()
	p.Do(chromedp.Reload())
}

// Back and Forward go one entry back or forward in the tab's history, as
// the browser's buttons do; they do not wait for a load, since an entry
// the page pushed (history.pushState) loads nothing.
func (p *Page) Back()    { p.t.Helper(); p.history(-1) }
func (p *Page) Forward() { p.t.Helper(); p.history(+1) }

func (p *Page) history(delta int64) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	h, err := chromedp.Run(ctx, chromedp.NavigationEntries())
	if err != nil {
		p.t.Fatal(err)
	}
	i := h.CurrentIndex + delta
	if i < 0 || i >= int64(len(h.Entries)) {
		p.t.Fatalf("no history entry %d (of %d, at %d)", i, len(h.Entries), h.CurrentIndex)
	}
	p.Do(call(page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: h.Entries[i].ID}))
}

// HistoryLength is the number of entries in the tab's history.
func (p *Page) HistoryLength() int {
	p.t.Helper()
	var n int
	p.Eval(`history.length`, &n)
	return n
}

// OnNewDocument runs script in every document the tab loads from now on,
// before the document's own scripts.
func (p *Page) OnNewDocument(script string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (page.AddScriptToEvaluateOnNewDocumentResult, error) {
		return cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
	}); err != nil {
		p.t.Fatal(err)
	}
}

// Hold pauses the page's requests whose URL matches pattern (* matches
// any text) until the returned release is called, which lets them go on
// and stops pausing. held reports how many are paused.
func (p *Page) Hold(pattern string) (held func() int, release func()) {
	p.t.Helper()
	ctx, cancel := context.WithCancel(p.ctx)
	var mu sync.Mutex
	var ids []fetch.RequestID
	events := chromedp.Events(ctx, fetch.RequestPaused)
	p.Do(call(fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range events {
			if err != nil {
				return
			}
			mu.Lock()
			ids = append(ids, ev.RequestID)
			mu.Unlock()
		}
	}()
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			p.Do(call(fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id}))
		}
		p.Do(call(fetch.Disable, cdp.Empty{}))
	}
	p.t.Cleanup(release)
	return func() int { mu.Lock(); defer mu.Unlock(); return len(ids) }, release
}

// Eval evaluates the JavaScript expression (awaiting a promise) and
// decodes its JSON value into out (nil: ignore it).
func (p *Page) Eval(expr string, out any) {
	p.t.Helper()
	if err := p.eval(expr, out); err != nil {
		p.t.Fatalf("%v\nin: %s", err, expr)
	}
}

func (p *Page) eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte]("(async () => ("+expr+"\n))().then(v => v === undefined ? null : v)", chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Wait polls the JavaScript expression until it is true, and fails the
// test with the page's text and problems after WaitTimeout.
func (p *Page) Wait(expr string) {
	p.t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		var ok bool
		err := p.eval("!!("+expr+")", &ok)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var text string
			p.eval(`document.body.innerText`, &text)
			p.t.Fatalf("waited %v for %s (last error %v)\npage text:\n%s\nproblems: %q", WaitTimeout, expr, err, text, p.Problems())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// JS quotes s as a JavaScript string literal.
func JS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Type focuses the element selector matches and types text into it as
// the keyboard would, one key press per character.
func (p *Page) Type(selector, text string) {
	p.t.Helper()
	p.Eval(`document.querySelector(`+JS(selector)+`).focus()`, nil)
	p.Do(keys(text, 0))
}

// Key presses keys (kb constants such as kb.Enter, or characters) with
// modifiers held.
func (p *Page) Key(key string, mods ...chromedp.Modifier) {
	p.t.Helper()
	var m chromedp.Modifier
	for _, x := range mods {
		m |= x
	}
	p.Do(keys(key, m))
}

// keys presses each key as a keyboard does: a keyDown that carries the
// key's text, then a keyUp. Unlike chromedp.KeyEvent, which sends the text
// in a separate char event, the browser then types the text only if the
// page does not cancel the keydown (as the query box does for Enter when
// it takes a suggestion).
func keys(text string, mods chromedp.Modifier) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, r := range text {
			var down, up *input.DispatchKeyEventParams
			var char string
			for _, e := range kb.Encode(r) {
				switch e.Type {
				case input.DispatchKeyEventTypeKeyDown:
					down = e
				case input.DispatchKeyEventTypeKeyUp:
					up = e
				case input.DispatchKeyEventTypeChar:
					char = e.Text
				}
			}
			down.Modifiers |= int64(mods)
			up.Modifiers |= int64(mods)
			if char != "" && mods&^chromedp.ModifierShift == 0 {
				down.Text, down.UnmodifiedText = char, char
			} else {
				down.Type = input.DispatchKeyEventTypeRawKeyDown
			}
			for _, e := range []*input.DispatchKeyEventParams{down, up} {
				if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, *e); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Mouse sends one mouse event of type typ (input.MouseMoved,
// input.MousePressed, input.MouseReleased) at (x, y) in CSS pixels, with
// the left button (held, for a move) and the click count n.
func (p *Page) Mouse(typ input.DispatchMouseEventType, x, y float64, n int) {
	p.t.Helper()
	params := input.DispatchMouseEventParams{Type: typ, X: x, Y: y, Button: input.MouseButtonLeft, ClickCount: int64(n)}
	if typ == chromedp.MouseMoved {
		params.Button = input.MouseButtonNone
		if n > 0 {
			params.Button, params.Buttons = input.MouseButtonLeft, 1
		}
		params.ClickCount = 0
	}
	p.Do(call(input.DispatchMouseEvent, params))
}

// Rect returns the bounding box of the element selector matches, in CSS
// pixels of the viewport.
func (p *Page) Rect(selector string) (x, y, w, h float64) {
	p.t.Helper()
	var r struct{ X, Y, W, H float64 }
	p.Eval(`(() => { const r = document.querySelector(`+JS(selector)+`).getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height}; })()`, &r)
	return r.X, r.Y, r.W, r.H
}

// ColorScheme emulates the system's light or dark setting
// (prefers-color-scheme: "light" or "dark").
func (p *Page) ColorScheme(scheme string) {
	p.t.Helper()
	p.Do(call(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}))
}

// Viewport resizes the tab; mobile also emulates a touch phone's screen.
func (p *Page) Viewport(width, height int, mobile bool) {
	p.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	p.Do(chromedp.EmulateViewport(int64(width), int64(height), opts...))
}

// Screenshot writes a PNG of the viewport to name in the artifacts
// directory and returns its path and bytes.
func (p *Page) Screenshot(name string) (string, []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatal(err)
	}
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		dir = p.t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s (%d bytes)", path, len(png))
	return path, png
}

// Problems returns the console errors and warnings, uncaught exceptions
// and the browser's log entries of those levels (failed loads, CSP
// violations) so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// NoProblems fails the test for every problem the page reported, but those
// containing one of the expected strings (each may match once).
func (p *Page) NoProblems(expected ...string) {
	p.t.Helper()
	left := append([]string(nil), expected...)
	var bad []string
next:
	for _, pr := range p.Problems() {
		for i, e := range left {
			if strings.Contains(pr, e) {
				left = append(left[:i], left[i+1:]...)
				continue next
			}
		}
		bad = append(bad, pr)
	}
	if len(bad) > 0 {
		p.t.Errorf("the page reported problems:\n%s", strings.Join(bad, "\n"))
	}
}
