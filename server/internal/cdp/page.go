package cdp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Page is a browser tab attached in flat mode (commands carry its session
// id). It records what the page reports as a problem: console errors and
// warnings, uncaught exceptions and the browser's log entries (failed
// loads, Content-Security-Policy violations). Its methods are safe for
// concurrent use.
type Page struct {
	b         *Browser
	targetID  string
	sessionID string

	mu       sync.Mutex
	problems []string
	loaded   chan struct{} // replaced by Navigate, closed on Page.loadEventFired
	events   chan Event
	stopped  chan struct{}
}

// NewPage opens a tab of width × height CSS pixels and enables the
// domains the page's methods need.
func (b *Browser) NewPage(ctx context.Context, width, height int) (*Page, error) {
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.Call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.Call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	p := &Page{b: b, targetID: created.TargetID, sessionID: attached.SessionID,
		events: make(chan Event, 1024), stopped: make(chan struct{})}
	b.subscribe(p.sessionID, p.events)
	go p.watch()
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		if err := p.Call(ctx, m, nil, nil); err != nil {
			return nil, err
		}
	}
	err := p.Call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// watch records the page's problems and load events.
func (p *Page) watch() {
	defer close(p.stopped)
	for ev := range p.events {
		switch ev.Method {
		case "Page.loadEventFired":
			p.mu.Lock()
			if p.loaded != nil && !isClosed(p.loaded) {
				close(p.loaded)
			}
			p.mu.Unlock()
		case "Runtime.consoleAPICalled":
			var e struct {
				Type string `json:"type"`
				Args []struct {
					Value       any    `json:"value"`
					Description string `json:"description"`
				} `json:"args"`
			}
			if json.Unmarshal(ev.Params, &e) == nil && (e.Type == "error" || e.Type == "warning" || e.Type == "assert") {
				var parts []string
				for _, a := range e.Args {
					if a.Description != "" {
						parts = append(parts, a.Description)
					} else {
						parts = append(parts, fmt.Sprint(a.Value))
					}
				}
				p.problem("console." + e.Type + ": " + strings.Join(parts, " "))
			}
		case "Runtime.exceptionThrown":
			var e struct {
				Details struct {
					Text      string `json:"text"`
					Exception struct {
						Description string `json:"description"`
					} `json:"exception"`
				} `json:"exceptionDetails"`
			}
			json.Unmarshal(ev.Params, &e)
			p.problem("exception: " + e.Details.Text + " " + e.Details.Exception.Description)
		case "Log.entryAdded":
			var e struct {
				Entry struct {
					Source string `json:"source"`
					Level  string `json:"level"`
					Text   string `json:"text"`
					URL    string `json:"url"`
				} `json:"entry"`
			}
			if json.Unmarshal(ev.Params, &e) == nil && (e.Entry.Level == "error" || e.Entry.Level == "warning") {
				p.problem(fmt.Sprintf("log %s %s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
			}
		}
	}
}

func (p *Page) problem(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.problems) < 100 {
		p.problems = append(p.problems, s)
	}
}

// Problems returns the console errors and warnings, uncaught exceptions and
// error or warning log entries seen so far (at most 100).
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// Call sends a command to the page.
func (p *Page) Call(ctx context.Context, method string, params, result any) error {
	return p.b.Call(ctx, p.sessionID, method, params, result)
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(ctx context.Context, url string) error {
	loaded := make(chan struct{})
	p.mu.Lock()
	p.loaded = loaded
	p.mu.Unlock()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.Call(ctx, "Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return err
	}
	if res.ErrorText != "" {
		return fmt.Errorf("cdp: navigating to %s: %s", url, res.ErrorText)
	}
	select {
	case <-loaded:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cdp: waiting for %s to load: %w", url, ctx.Err())
	}
}

// EvalError is a JavaScript exception thrown by an expression.
type EvalError struct {
	Expr string
	Text string
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("cdp: evaluating %q: %s", e.Expr, e.Text)
}

// Eval evaluates the JavaScript expression expr in the page (awaiting it if
// it is a promise) and decodes its value, as JSON, into out (unless nil).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.Call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true, "userGesture": true}, &res)
	if err != nil {
		return err
	}
	if d := res.ExceptionDetails; d != nil {
		return &EvalError{Expr: expr, Text: strings.TrimSpace(d.Text + " " + d.Exception.Description)}
	}
	if out != nil && len(res.Result.Value) > 0 {
		if err := json.Unmarshal(res.Result.Value, out); err != nil {
			return fmt.Errorf("cdp: decoding the value of %q: %w", expr, err)
		}
	}
	return nil
}

// WaitFor evaluates expr every 50 ms until it is true (JavaScript's
// truthiness), and returns an error naming expr and the last exception if
// ctx ends first.
func (p *Page) WaitFor(ctx context.Context, expr string) error {
	var last error
	for {
		var ok bool
		err := p.Eval(ctx, "!!("+expr+")", &ok)
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("cdp: waiting for %s: %w (last error: %v)", expr, ctx.Err(), last)
			}
			return fmt.Errorf("cdp: waiting for %s: %w", expr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// InsertText types text into the focused element, as an input method does.
func (p *Page) InsertText(ctx context.Context, text string) error {
	return p.Call(ctx, "Input.insertText", map[string]any{"text": text}, nil)
}

// Modifier bits of Key.
const (
	Alt   = 1
	Ctrl  = 2
	Meta  = 4
	Shift = 8
)

// Key presses and releases a key on the focused element: key is the DOM
// key value ("Enter", "a"), code the DOM code ("Enter", "KeyA"), keyCode
// the legacy key code (13) and modifiers a sum of Alt, Ctrl, Meta, Shift.
func (p *Page) Key(ctx context.Context, key, code string, keyCode, modifiers int) error {
	for _, typ := range []string{"rawKeyDown", "keyUp"} {
		params := map[string]any{"type": typ, "key": key, "code": code,
			"windowsVirtualKeyCode": keyCode, "nativeVirtualKeyCode": keyCode, "modifiers": modifiers}
		if typ == "rawKeyDown" && key == "Enter" && modifiers == 0 {
			params["type"], params["text"] = "keyDown", "\r"
		}
		if err := p.Call(ctx, "Input.dispatchKeyEvent", params, nil); err != nil {
			return err
		}
	}
	return nil
}

// MouseMove moves the mouse to (x, y), in CSS pixels of the viewport.
func (p *Page) MouseMove(ctx context.Context, x, y float64) error {
	return p.Call(ctx, "Input.dispatchMouseEvent", map[string]any{"type": "mouseMoved", "x": x, "y": y}, nil)
}

// Screenshot returns a PNG of the page: of the viewport, or of the whole
// page when full is true.
func (p *Page) Screenshot(ctx context.Context, full bool) ([]byte, error) {
	var res struct {
		Data string `json:"data"`
	}
	params := map[string]any{"format": "png", "captureBeyondViewport": full}
	if full {
		var size struct {
			CSSContentSize struct {
				Width  float64 `json:"width"`
				Height float64 `json:"height"`
			} `json:"cssContentSize"`
		}
		if err := p.Call(ctx, "Page.getLayoutMetrics", nil, &size); err != nil {
			return nil, err
		}
		params["clip"] = map[string]any{"x": 0, "y": 0, "width": size.CSSContentSize.Width,
			"height": size.CSSContentSize.Height, "scale": 1}
	}
	if err := p.Call(ctx, "Page.captureScreenshot", params, &res); err != nil {
		return nil, err
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		return nil, fmt.Errorf("cdp: decoding the screenshot: %w", err)
	}
	return png, nil
}

// Close closes the tab.
func (p *Page) Close(ctx context.Context) error {
	return p.b.Call(ctx, "", "Target.closeTarget", map[string]any{"targetId": p.targetID}, nil)
}
