// Package cdp drives a headless Chromium through the Chrome DevTools
// Protocol over --remote-debugging-pipe: the browser reads commands from its
// file descriptor 3 and writes answers and events to its descriptor 4, each
// message a JSON object ended by a NUL byte. It is for this module's tests
// (the browser test of the web page of apptuit serve) and implements only
// what they use: pages, evaluating JavaScript, input events, screenshots
// and the console. It uses the standard library only, so that the module
// needs no dependency to test its page in a real browser.
package cdp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// EnvChromium names the environment variable that gives the browser's
// path; without it Find looks for chromium, chromium-browser and
// google-chrome on $PATH.
const EnvChromium = "APPTUIT_TEST_CHROMIUM"

// ErrNotFound is returned by Find when no browser is installed.
var ErrNotFound = errors.New("cdp: no Chromium found (install Debian's chromium, or set " + EnvChromium + ")")

// Find returns the path of the browser to launch.
func Find() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("cdp: %s=%q: %w", EnvChromium, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Flags are the command-line flags Launch passes: headless, no sandbox (CI
// runs as root), and none of the background connections (updates, sync,
// safe browsing, QUIC) that a machine without a network refuses.
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-extensions", "--disable-default-apps", "--disable-dev-shm-usage",
	"--mute-audio", "--hide-scrollbars", "--force-color-profile=srgb",
	"--remote-debugging-pipe",
}

// maxMessage bounds one message from the browser (a screenshot of a large
// page is the largest).
const maxMessage = 64 << 20

// Browser is a running browser. Its methods are safe for concurrent use.
type Browser struct {
	cmd     *exec.Cmd
	in      *os.File // our end of the browser's fd 3
	out     *os.File // our end of the browser's fd 4
	dataDir string
	stderr  *tailBuffer

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan message
	subs    map[string][]chan<- Event // by session id
	readErr error
	done    chan struct{} // closed when the reader stops
	exited  chan struct{} // closed when the process has been waited for
}

// message is any message of the protocol.
type message struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *Error          `json:"error,omitempty"`
}

// Error is an error answer of the browser to a command.
type Error struct {
	Method  string `json:"-"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data,omitempty"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("cdp: %s: %s (code %d)", e.Method, e.Message, e.Code)
	if e.Data != "" {
		s += ": " + e.Data
	}
	return s
}

// Event is an event the browser sent.
type Event struct {
	Method    string
	SessionID string
	Params    json.RawMessage
}

// Launch starts the browser at path with Flags and a fresh profile
// directory (removed by Close), plus extra flags. The browser is killed
// when ctx ends; call Close when done.
func Launch(ctx context.Context, path string, extra ...string) (*Browser, error) {
	dir, err := os.MkdirTemp("", "apptuit-cdp-*")
	if err != nil {
		return nil, fmt.Errorf("cdp: profile directory: %w", err)
	}
	// The browser reads fd 3 and writes fd 4.
	cmdR, in, err := os.Pipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cdp: pipe: %w", err)
	}
	out, cmdW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		in.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cdp: pipe: %w", err)
	}
	args := append(append(append([]string{}, Flags...), "--user-data-dir="+dir), extra...)
	args = append(args, "about:blank")
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.ExtraFiles = []*os.File{cmdR, cmdW}
	b := &Browser{
		cmd: cmd, in: in, out: out, dataDir: dir, stderr: &tailBuffer{max: 16 << 10},
		pending: map[int64]chan message{}, subs: map[string][]chan<- Event{},
		done: make(chan struct{}), exited: make(chan struct{}),
	}
	cmd.Stderr = b.stderr
	cmd.Stdout = b.stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Start()
	cmdR.Close()
	cmdW.Close()
	if err != nil {
		in.Close()
		out.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cdp: starting %s: %w", path, err)
	}
	go func() { cmd.Wait(); close(b.exited) }()
	go b.read()
	// The first command proves the pipe works.
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := b.Call(vctx, "", "Browser.getVersion", nil, nil); err != nil {
		b.Close()
		return nil, fmt.Errorf("%w; browser output: %s", err, b.stderr.String())
	}
	return b, nil
}

// read dispatches the browser's messages until the pipe closes.
func (b *Browser) read() {
	defer close(b.done)
	r := bufio.NewReaderSize(b.out, 1<<16)
	var err error
	for {
		var raw []byte
		raw, err = readMessage(r)
		if err != nil {
			break
		}
		var m message
		if err = json.Unmarshal(raw, &m); err != nil {
			err = fmt.Errorf("cdp: bad message from the browser: %w", err)
			break
		}
		b.dispatch(m)
	}
	b.mu.Lock()
	b.readErr = err
	for id, ch := range b.pending {
		close(ch)
		delete(b.pending, id)
	}
	for sid, chs := range b.subs {
		for _, ch := range chs {
			close(ch)
		}
		delete(b.subs, sid)
	}
	b.mu.Unlock()
}

// readMessage reads one NUL-ended message of at most maxMessage bytes.
func readMessage(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice(0)
		buf = append(buf, chunk...)
		if len(buf) > maxMessage {
			return nil, fmt.Errorf("cdp: a message from the browser exceeds %d bytes", maxMessage)
		}
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

func (b *Browser) dispatch(m message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.ID != 0 {
		if ch, ok := b.pending[m.ID]; ok {
			ch <- m
			delete(b.pending, m.ID)
		}
		return
	}
	for _, ch := range b.subs[m.SessionID] {
		select {
		case ch <- Event{Method: m.Method, SessionID: m.SessionID, Params: m.Params}:
		default: // a subscriber that does not keep up loses events, not the browser
		}
	}
}

// subscribe delivers the events of a session (of the browser itself for
// "") to ch until the browser stops, when ch is closed.
func (b *Browser) subscribe(sessionID string, ch chan<- Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.readErr != nil || isClosed(b.done) {
		close(ch)
		return
	}
	b.subs[sessionID] = append(b.subs[sessionID], ch)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Call sends the command method with params to the browser (sessionID ""),
// or to the page of a session, waits for the answer and decodes its result
// into result (unless nil).
func (b *Browser) Call(ctx context.Context, sessionID, method string, params, result any) error {
	var rawParams json.RawMessage
	if params != nil {
		p, err := json.Marshal(params)
		if err != nil {
			return fmt.Errorf("cdp: %s: encoding the parameters: %w", method, err)
		}
		rawParams = p
	}
	ch := make(chan message, 1)
	b.mu.Lock()
	if b.readErr != nil || isClosed(b.done) {
		b.mu.Unlock()
		return fmt.Errorf("cdp: %s: the browser is gone: %v", method, b.readErr)
	}
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	b.mu.Unlock()

	req, err := json.Marshal(message{ID: id, Method: method, Params: rawParams, SessionID: sessionID})
	if err != nil {
		return fmt.Errorf("cdp: %s: %w", method, err)
	}
	b.writeMu.Lock()
	_, err = b.in.Write(append(req, 0))
	b.writeMu.Unlock()
	if err != nil {
		b.forget(id)
		return fmt.Errorf("cdp: %s: writing to the browser: %w", method, err)
	}
	select {
	case <-ctx.Done():
		b.forget(id)
		return fmt.Errorf("cdp: %s: %w", method, ctx.Err())
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("cdp: %s: the browser closed the connection; its output: %s", method, b.stderr.String())
		}
		if m.Error != nil {
			m.Error.Method = method
			return m.Error
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("cdp: %s: decoding the result: %w", method, err)
			}
		}
		return nil
	}
}

func (b *Browser) forget(id int64) {
	b.mu.Lock()
	delete(b.pending, id)
	b.mu.Unlock()
}

// Output returns the last 16 KiB the browser printed.
func (b *Browser) Output() string { return b.stderr.String() }

// Close asks the browser to quit, kills it if it has not within 5 s, and
// removes its profile directory. It is safe to call more than once.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !isClosed(b.exited) {
		b.Call(ctx, "", "Browser.close", nil, nil) // the answer may not come
	}
	select {
	case <-b.exited:
	case <-ctx.Done():
		if b.cmd.Process != nil {
			b.cmd.Process.Kill()
		}
		<-b.exited
	}
	b.in.Close()
	<-b.done
	b.out.Close()
	return os.RemoveAll(b.dataDir)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

var _ io.Writer = (*tailBuffer)(nil)
