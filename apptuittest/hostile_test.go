package apptuittest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/reqlog"
)

// retainedHeap returns the live heap after a GC.
func retainedHeap() uint64 {
	runtime.GC()
	runtime.GC()
	return heapNow()
}

// flood sends n token-less puts (with a 2 KiB header and a 1 KiB body each)
// from 4 keep-alive connections and checks each gets 401.
func flood(t *testing.T, srv *Server, n int) {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	big := strings.Repeat("x", 2048)
	body := strings.Repeat(good1, 1024/len(good1)+1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				req, _ := http.NewRequest("POST", srv.URL()+"/api/put", strings.NewReader(body))
				req.Header.Set("X-Filler", big)
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 401 {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if bad > 0 {
		t.Errorf("%d of %d requests were not answered 401", bad, n)
	}
}

// TestUnauthorizedFlood sends 1,200 token-less requests with 2 KiB headers
// to a server keeping 100 records: the log keeps the newest 100 and the
// heap nothing more than the log (a log of every request kept ~3 MiB here).
func TestUnauthorizedFlood(t *testing.T) {
	srv := newServer(t, WithToken("t"), WithRequestLogSize(100))
	n := 1000
	if raceEnabled {
		n = 400
	}
	flood(t, srv, 200) // warm up: connections, buffers, the full ring
	before := retainedHeap()
	flood(t, srv, n)
	after := retainedHeap()
	grew := int64(after) - int64(before)
	t.Logf("%d token-less requests: retained heap %+.2f MiB", n, float64(grew)/(1<<20))
	if grew > 512<<10 {
		t.Errorf("retained heap grew %.2f MiB, want < 0.5 MiB", float64(grew)/(1<<20))
	}
	if r, st := srv.Requests(), srv.Stats(); len(r) != 100 || st.Requests != uint64(200+n) || r[99].Status != 401 {
		t.Errorf("%d records kept, %d counted; want 100 and %d", len(r), st.Requests, 200+n)
	}
}

// TestLoadUnauthorizedFlood is the acceptance figure: 50,000 token-less
// requests (+280 MiB before the log was a ring) keep the heap within the
// default ring of 1,000 records.
func TestLoadUnauthorizedFlood(t *testing.T) {
	loadTests(t)
	srv := newServer(t, WithToken("t"))
	flood(t, srv, 2000)
	before := retainedHeap()
	start := time.Now()
	flood(t, srv, 50000)
	after := retainedHeap()
	grew := int64(after) - int64(before)
	t.Logf("50,000 token-less requests in %v: retained heap %+.2f MiB (ring of %d)", time.Since(start).Round(time.Millisecond), float64(grew)/(1<<20), DefaultRequestLogSize)
	if grew > 4<<20 {
		t.Errorf("retained heap grew %.2f MiB, want < 4 MiB", float64(grew)/(1<<20))
	}
	if n := len(srv.Requests()); n != DefaultRequestLogSize {
		t.Errorf("%d records kept", n)
	}
}

func TestRequestLogRing(t *testing.T) {
	srv := newServer(t, WithRequestLogSize(3))
	for i := 0; i < 5; i++ {
		query(t, srv, fmt.Sprintf("start=%d&q=fetch('m')", i))
	}
	var got []string
	for _, r := range srv.Requests() {
		got = append(got, r.RawQuery)
	}
	want := []string{"start=2&q=fetch('m')", "start=3&q=fetch('m')", "start=4&q=fetch('m')"}
	if fmt.Sprint(got) != fmt.Sprint(want) || srv.Stats().Requests != 5 {
		t.Errorf("kept %q (%d counted), want %q", got, srv.Stats().Requests, want)
	}
	srv.Reset()
	if len(srv.Requests()) != 0 || srv.Stats().Requests != 0 {
		t.Error("Reset kept records")
	}

	none := newServer(t, WithRequestLogSize(0))
	post(t, none, "", good1)
	if len(none.Requests()) != 0 || none.Stats().Requests != 1 || len(none.Points()) != 1 {
		t.Errorf("size 0: %d records, %d counted", len(none.Requests()), none.Stats().Requests)
	}
}

func TestRequestLogBounds(t *testing.T) {
	srv := newServer(t)
	hdr := map[string]string{
		"Authorization":       "Bearer s3cr3t",
		"Proxy-Authorization": "Basic dTpw",
		"Cookie":              "session=s3cr3t",
		"A-Long":              strings.Repeat("é", 1000), // 2000 bytes
	}
	for i := 0; i < 20; i++ {
		hdr[fmt.Sprintf("X-%02d", i)] = strings.Repeat("v", 500)
	}
	do(t, "GET", srv.URL()+"/api/query?start=0&q=fetch('m')&pad="+strings.Repeat("p", 5000), nil, hdr)
	r := srv.Requests()[0]
	if a, p, c := r.Header.Get("Authorization"), r.Header.Get("Proxy-Authorization"), r.Header.Get("Cookie"); a != "Bearer [redacted]" || p != "Basic [redacted]" || c != "[redacted]" {
		t.Errorf("credentials logged as %q, %q, %q", a, p, c)
	}
	if v := r.Header.Get("A-Long"); v != strings.Repeat("é", 512) {
		t.Errorf("a 2000-byte value logged as %d bytes, want 1024 (cut at a character)", len(v))
	}
	total := 0
	for k, vs := range r.Header {
		for _, v := range vs {
			total += len(k) + len(v)
		}
	}
	if total > 4<<10 || r.Header.Get("X-00") == "" || r.Header.Get("X-19") != "" {
		t.Errorf("logged %d bytes of headers (X-00 %t, X-19 %t), want at most %d, the first keys kept", total, r.Header.Get("X-00") != "", r.Header.Get("X-19") != "", 4<<10)
	}
	if len(r.RawQuery) != reqlog.MaxURL || !strings.HasPrefix(r.RawQuery, "start=0&q=fetch('m')&pad=ppp") {
		t.Errorf("query logged as %d bytes", len(r.RawQuery))
	}
}

// slowloris opens n connections that each send a request's headers one
// byte every interval, and returns how long the server took to close each.
func slowloris(t *testing.T, addr string, n int, interval time.Duration) []time.Duration {
	t.Helper()
	const head = "POST /api/put HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	start := time.Now()
	closed := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() { // notices the close
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			io.Copy(io.Discard, c)
			closed[i] = time.Since(start)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for i := 0; i < len(head); i++ {
		for _, c := range conns {
			c.Write([]byte{head[i]})
		}
		select {
		case <-done:
			return closed
		case <-time.After(interval):
		}
	}
	<-done
	return closed
}

func TestSlowloris(t *testing.T) {
	srv := newServer(t, WithTimeouts(Timeouts{ReadHeader: 150 * time.Millisecond}))
	addr := strings.TrimPrefix(srv.URL(), "http://")
	for i, d := range slowloris(t, addr, 10, 25*time.Millisecond) {
		if d < 120*time.Millisecond || d > 2*time.Second {
			t.Errorf("connection %d closed after %v, want about 150ms", i, d)
		}
	}
	if code, _ := post(t, srv, "", good1); code != 204 {
		t.Errorf("after the slowloris: %d", code)
	}
}

// TestLoadSlowloris is the acceptance figure: 500 connections sending one
// header byte per second are all closed at the header timeout (1 s here).
func TestLoadSlowloris(t *testing.T) {
	loadTests(t)
	srv := newServer(t, WithTimeouts(Timeouts{ReadHeader: time.Second}))
	addr := strings.TrimPrefix(srv.URL(), "http://")
	ds := slowloris(t, addr, 500, time.Second)
	var worst time.Duration
	for _, d := range ds {
		worst = max(worst, d)
	}
	t.Logf("500 slowloris connections: the last closed after %v", worst.Round(time.Millisecond))
	if worst > 2500*time.Millisecond {
		t.Errorf("a connection stayed open %v, want about 1s", worst)
	}
}

// rawRequest writes req on a new connection, then body one byte every
// interval, and returns the response.
func rawRequest(t *testing.T, srv *Server, req, body string, interval time.Duration) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(req))
	go func() {
		for i := 0; i < len(body); i++ {
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
			time.Sleep(interval)
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestBodyTimeout(t *testing.T) {
	srv := newServer(t, WithTimeouts(Timeouts{Body: 100 * time.Millisecond}))
	start := time.Now()
	resp, body := rawRequest(t, srv, fmt.Sprintf("POST /api/put HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(good1)), good1, 10*time.Millisecond)
	d := time.Since(start)
	want := `{"error":{"code":408,"message":"Request Timeout: the body was not received within 100ms"}}`
	if resp.StatusCode != 408 || body != want || d > 2*time.Second {
		t.Errorf("after %v: %d %s, want 408 %s", d, resp.StatusCode, body, want)
	}
	if n := len(srv.Points()); n != 0 {
		t.Errorf("stored %d", n)
	}
}

func TestIdleTimeout(t *testing.T) {
	srv := newServer(t, WithTimeouts(Timeouts{Idle: 50 * time.Millisecond}))
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /api/query?start=0&q=fetch('m') HTTP/1.1\r\nHost: x\r\n\r\n"))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: %v, want EOF", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle connection closed after %v, want about 50ms", d)
	}
}

// slowPut starts a put whose body arrives only when the returned function
// is called; it returns the status through the channel.
func slowPut(t *testing.T, srv *Server) (func(), chan int) {
	pr, pw := io.Pipe()
	res := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL()+"/api/put", "application/json", pr)
		if err != nil {
			res <- 0
			return
		}
		resp.Body.Close()
		res <- resp.StatusCode
	}()
	return func() { pw.Write([]byte(good1)); pw.Close() }, res
}

func TestMaxConcurrentBodies(t *testing.T) {
	srv := newServer(t, WithMaxConcurrentBodies(1, 50*time.Millisecond))
	finish, first := slowPut(t, srv)
	for len(srv.put.Slots) == 0 { // the first holds the slot
		time.Sleep(5 * time.Millisecond)
	}
	code, body, h := do(t, "POST", srv.URL()+"/api/put", []byte(good2), nil)
	want := `{"error":{"code":503,"message":"Service Unavailable: 1 request bodies are being read already (the limit); retry later"}}`
	if code != 503 || body != want || h.Get("Retry-After") != "1" {
		t.Errorf("second put: %d %s (Retry-After %q), want 503 %s", code, body, h.Get("Retry-After"), want)
	}
	finish()
	if c := <-first; c != 204 {
		t.Errorf("first put: %d", c)
	}
	if code, _ := post(t, srv, "", good2); code != 204 {
		t.Errorf("third put: %d", code)
	}
	if n := len(srv.Points()); n != 2 {
		t.Errorf("stored %d, want 2", n)
	}

	// With a longer wait, a put waits for its turn.
	srv = newServer(t, WithMaxConcurrentBodies(1, 5*time.Second))
	finish, first = slowPut(t, srv)
	for len(srv.put.Slots) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	second := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL()+"/api/put", "application/json", strings.NewReader(good2))
		if err != nil {
			second <- 0
			return
		}
		resp.Body.Close()
		second <- resp.StatusCode
	}()
	time.Sleep(20 * time.Millisecond)
	finish()
	if a, b := <-first, <-second; a != 204 || b != 204 {
		t.Errorf("puts answered %d and %d, want 204 twice", a, b)
	}
}

func TestOpenOptionErrors(t *testing.T) {
	tests := []struct {
		opt  Option
		want string
	}{
		{WithMaxBodySize(0), "WithMaxBodySize(0): the size must be positive"},
		{WithMaxDecompressedSize(-1), "WithMaxDecompressedSize(-1): the size must be positive"},
		{WithMaxConcurrentBodies(0, time.Second), "WithMaxConcurrentBodies(0, …): the count must be positive"},
		{WithMaxConcurrentBodies(1, -time.Second), "WithMaxConcurrentBodies(…, -1s): the wait must not be negative"},
		{WithRequestLogSize(-1), "WithRequestLogSize(-1): the size must not be negative"},
		{WithTimeouts(Timeouts{Idle: -1}), "WithTimeouts({ReadHeader:0s Body:0s Write:0s Idle:-1ns}): timeouts must not be negative"},
		{WithClock(nil), "WithClock(nil): the clock must not be nil"},
	}
	for _, tt := range tests {
		s, err := Open(tt.opt)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Open: %v, want %q", err, tt.want)
		}
		if s != nil {
			t.Error("a Server with the error")
		}
	}
	func() {
		defer func() {
			if r := recover(); r != "apptuittest: WithRequestLogSize(-5): the size must not be negative" {
				t.Errorf("NewServer panicked with %v", r)
			}
		}()
		NewServer(WithRequestLogSize(-5))
	}()
}
