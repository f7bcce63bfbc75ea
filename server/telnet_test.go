package server

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
)

// addr returns the server's host:port.
func (s *testServer) addr() string { return strings.TrimPrefix(s.url, "http://") }

// dialLines opens a connection to srv's port.
func dialLines(t *testing.T, srv *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// converse sends text on a new connection, half-closes it and returns all
// the server answered until it closed the connection.
func converse(t *testing.T, srv *testServer, text string) string {
	t.Helper()
	c := dialLines(t, srv)
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answers: %v (read %q)", err, b)
	}
	return string(b)
}

// telnetRecords returns the request log's records of line connections.
func telnetRecords(srv *testServer) []Request {
	var recs []Request
	for _, r := range srv.Requests() {
		if r.Method == "TELNET" {
			r.Time, r.Duration = time.Time{}, 0
			recs = append(recs, r)
		}
	}
	return recs
}

// waitRecords waits until the request log holds n records of line
// connections.
func waitRecords(t *testing.T, srv *testServer, n int) []Request {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := telnetRecords(srv)
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d telnet records, want %d: %+v", len(recs), n, recs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTelnetLines(t *testing.T) {
	checkNoLeak(t, func() {
		srv := mustLaunch(t)
		defer srv.Close()
		got := converse(t, srv, strings.Join([]string{
			"put sys.cpu.user 1700000000 42.5 host=web1 cpu=0",
			"put sys.cpu.user 1700000010 43.5 host=web1 cpu=0  \r", // collectd's end: spaces, "\r\n"
			"",
			"put load.1 1700000000.250 0.15 fqdn=ci",
			"put bad",
			"put m 1700000000 abc host=a",
			"put a,b 1700000000 1 host=a",
			"put m 1700000000 1 host=a host=b",
			"version",
			"help",
			"nope x",
			"exit",
			"put after.exit 1700000000 1 host=a",
		}, "\n")+"\n")
		want := strings.Join([]string{
			"put: illegal argument: not enough arguments (need least 4, got 1)",
			"put: invalid value: Unable to parse value to a number: abc",
			`put: illegal argument: Invalid metric name ("a,b"): illegal character: ,`,
			"put: illegal argument: duplicate tag: host=b, tags={host=a}",
			"apptuit-go " + apptuit.Version + " (apptuit serve, " + runtime.Version() + ")",
			"available commands: auth exit help put stats version",
			"unknown command: nope.  Try `help'.",
		}, "\n") + "\n"
		if got != want {
			t.Errorf("answers:\n%s\nwant:\n%s", got, want)
		}
		pts := srv.Points()
		wantPts := []apptuit.DataPoint{
			{Metric: "sys.cpu.user", Tags: map[string]string{"host": "web1", "cpu": "0"}, Timestamp: time.Unix(1700000000, 0).UTC(), Value: 42.5},
			{Metric: "sys.cpu.user", Tags: map[string]string{"host": "web1", "cpu": "0"}, Timestamp: time.Unix(1700000010, 0).UTC(), Value: 43.5},
			{Metric: "load.1", Tags: map[string]string{"fqdn": "ci"}, Timestamp: time.UnixMilli(1700000000250).UTC(), Value: 0.15},
		}
		if !reflect.DeepEqual(inOrder(pts), inOrder(wantPts)) {
			t.Errorf("stored %+v\nwant %+v", pts, wantPts)
		}
		recs := waitRecords(t, srv, 1)
		wantRecs := []Request{{
			Method: "TELNET", Path: "put", Status: 400, Accepted: 3, Failed: 5, BodySize: int64(len(strings.Join([]string{
				"put sys.cpu.user 1700000000 42.5 host=web1 cpu=0",
				"put sys.cpu.user 1700000010 43.5 host=web1 cpu=0  \r", "",
				"put load.1 1700000000.250 0.15 fqdn=ci", "put bad", "put m 1700000000 abc host=a", "put a,b 1700000000 1 host=a",
				"put m 1700000000 1 host=a host=b", "version", "help", "nope x", "exit"}, "\n")) + 1),
			Errors: []string{
				"bad: illegal argument: not enough arguments (need least 4, got 1)",
				"m: invalid value: Unable to parse value to a number: abc",
				`a,b: illegal argument: Invalid metric name ("a,b"): illegal character: ,`,
				"m: illegal argument: duplicate tag: host=b, tags={host=a}",
				"unknown command: nope.  Try `help'.",
			},
		}}
		if !reflect.DeepEqual(recs, wantRecs) {
			t.Errorf("request log %+v\nwant %+v", recs, wantRecs)
		}
		if st := srv.Stats(); st.Accepted != 3 || st.Requests != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestTelnetStats: "stats" counts the lines before it.
func TestTelnetStats(t *testing.T) {
	srv := newServer(t)
	got := converse(t, srv, "put m 1700000000 1 k=v\nput m 1700000001 2 k=v\nstats\n")
	fields := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || !strings.HasPrefix(f[0], "apptuit.serve.") {
			t.Fatalf("stats line %q", l)
		}
		fields[strings.Join(append([]string{f[0]}, f[3:]...), " ")] = f[2]
	}
	want := map[string]string{
		"apptuit.serve.points": "2", "apptuit.serve.series": "1", "apptuit.serve.points.accepted": "2",
		"apptuit.serve.points.evicted reason=retention": "0", "apptuit.serve.points.evicted reason=max_memory": "0",
		"apptuit.serve.requests": "1", "apptuit.serve.connections type=telnet": "1",
	}
	if b, err := strconv.Atoi(fields["apptuit.serve.bytes"]); err != nil || b <= 0 {
		t.Errorf("stats: bytes %q", fields["apptuit.serve.bytes"])
	}
	delete(fields, "apptuit.serve.bytes")
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("stats %v\nwant %v", fields, want)
	}
}

// TestTelnetAuth: with WithToken, puts wait for "auth <token>".
func TestTelnetAuth(t *testing.T) {
	srv := newServer(t, WithToken("s3cr3t"))
	got := converse(t, srv, "put m 1700000000 1 k=v\nstats\nauth wrong\nversion\nauth s3cr3t\nput m 1700000001 2 k=v\n")
	want := `put: unauthorized: this server requires a token; send "auth <token>" first` + "\n" +
		`stats: unauthorized: this server requires a token; send "auth <token>" first` + "\n" +
		"AUTH_FAIL\r\napptuit-go " + apptuit.Version + " (apptuit serve, " + runtime.Version() + ")\nAUTH_SUCCESS\r\n"
	if got != want {
		t.Errorf("answers %q\nwant %q", got, want)
	}
	if pts := srv.Points(); len(pts) != 1 || pts[0].Value != 2 {
		t.Errorf("stored %+v", pts)
	}
	recs := waitRecords(t, srv, 1)
	if len(recs) != 1 || recs[0].Status != 401 || recs[0].Accepted != 1 || recs[0].Failed != 3 {
		t.Errorf("request log %+v", recs)
	}
	for _, r := range srv.Requests() {
		if strings.Contains(fmt.Sprint(r), "s3cr3t") || strings.Contains(fmt.Sprint(r), "wrong") {
			t.Errorf("the request log shows a token: %+v", r)
		}
	}
}

// TestTelnetTCP: the library's own line transport into the server: every
// point sent is stored, exactly.
func TestTelnetTCP(t *testing.T) {
	checkNoLeak(t, func() {
		srv := mustLaunch(t)
		defer srv.Close()
		c, err := apptuit.New(apptuit.WithLineTransport(apptuit.TelnetTCP(srv.addr())))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx := context.Background()
		base := time.Unix(1700000000, 0)
		var want []apptuit.DataPoint
		for batch := range 20 {
			var pts []apptuit.DataPoint
			for i := range 1000 {
				n := batch*1000 + i
				pts = append(pts, apptuit.DataPoint{
					Metric: fmt.Sprintf("app.requests.%d", n%7), Tags: map[string]string{"host": fmt.Sprintf("web-%d", n%13), "é": "ü/1"},
					Timestamp: base.Add(time.Duration(n) * 250 * time.Millisecond), Value: float64(n) * 1.25,
				})
			}
			if err := c.Send(ctx, pts); err != nil {
				t.Fatal(err)
			}
			want = append(want, pts...)
		}
		series, err := apptuit.NewTimeSeries("app.latency", map[string]string{"host": "web-1"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 500 {
			series.Add(base.Add(time.Duration(i)*time.Second), -float64(i)/3)
			want = append(want, apptuit.DataPoint{Metric: "app.latency", Tags: map[string]string{"host": "web-1"}, Timestamp: base.Add(time.Duration(i) * time.Second), Value: -float64(i) / 3})
		}
		if err := c.SendTimeSeries(ctx, []*apptuit.TimeSeries{series}); err != nil {
			t.Fatal(err)
		}
		c.Close()
		deadline := time.Now().Add(10 * time.Second)
		for srv.Stats().Accepted < uint64(len(want)) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		got := inOrder(srv.Points())
		if len(got) != len(want) {
			t.Fatalf("stored %d points, sent %d", len(got), len(want))
		}
		for i := range want {
			want[i].Timestamp = want[i].Timestamp.UTC()
		}
		want = inOrder(want)
		for i := range want {
			w := want[i]
			if !reflect.DeepEqual(got[i], w) {
				t.Fatalf("point %d: stored %+v, sent %+v", i, got[i], w)
			}
		}
		failed := 0
		for _, r := range telnetRecords(srv) {
			failed += r.Failed
		}
		if failed != 0 {
			t.Errorf("%d lines refused", failed)
		}
		t.Logf("%d points sent with TelnetTCP, all stored, in %d request-log records", len(want), len(telnetRecords(srv)))
	})
}

// TestTelnetSamePortHTTP: HTTP on the same port is as before: keep-alive,
// pipelined requests; TLS is not served; a lowercase first byte is lines.
func TestTelnetSamePortHTTP(t *testing.T) {
	checkNoLeak(t, func() {
		srv := mustLaunch(t)
		defer srv.Close()

		// Keep-alive: three requests, one connection.
		hc := &http.Client{Transport: &http.Transport{}}
		defer hc.CloseIdleConnections()
		reused := 0
		for i := range 3 {
			body := fmt.Sprintf(`{"metric":"m","timestamp":%d,"value":1,"tags":{"k":"v"}}`, 1700000000+i)
			req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/put", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				GotConn: func(info httptrace.GotConnInfo) {
					if info.Reused {
						reused++
					}
				},
			}))
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("put %d: %d", i, resp.StatusCode)
			}
		}
		if reused != 2 {
			t.Errorf("%d of 3 requests reused the connection, want 2", reused)
		}

		// Pipelined: two requests written at once, two answers in order.
		c := dialLines(t, srv)
		io.WriteString(c, "GET /api/v1/labels HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"+
			"GET /api/v1/label/k/values HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
		br := bufio.NewReader(c)
		for _, want := range []string{`{"status":"success","data":["__name__","k"]}`, `{"status":"success","data":["v"]}`} {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != want {
				t.Errorf("pipelined answer %d %s, want %s", resp.StatusCode, b, want)
			}
		}

		// TLS is not served: the handshake gets net/http's 400.
		tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", srv.addr(), &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			tc.Close()
			t.Error("a TLS handshake succeeded")
		} else {
			t.Logf("TLS: %v", err)
		}
		_, err = hc.Get("https://" + srv.addr() + "/api/v1/labels")
		if err == nil || !strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
			t.Errorf("GET https://: %v", err)
		}

		// An HTTP body of lines is not lines: nothing stored.
		resp, err := http.Post(srv.URL()+"/api/put", "text/plain", strings.NewReader("put evil 1700000000 1 k=v\n"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			t.Errorf("a text/plain body of lines: %d", resp.StatusCode)
		}
		// A request line in lowercase is lines, as on OpenTSDB.
		if got := converse(t, srv, "get /api/v1/labels HTTP/1.1\r\nHost: x\r\n\r\n"); got != "unknown command: get.  Try `help'.\nunknown command: Host:.  Try `help'.\n" {
			t.Errorf("a lowercase request line: %q", got)
		}
		for _, p := range srv.Points() {
			if p.Metric != "m" {
				t.Errorf("stored %+v", p)
			}
		}
		http.DefaultClient.CloseIdleConnections()
	})
}

// TestTelnetBounds: a line too long is refused and the connection goes
// on; the connections beyond maxLineConns are refused; a connection that
// sends no line for the idle timeout is closed, its lines stored.
func TestTelnetBounds(t *testing.T) {
	srv := newServer(t, func(c *config) { c.lineIdle = 300 * time.Millisecond })

	long := "put m 1700000000 1 k=" + strings.Repeat("v", maxLineBytes)
	got := converse(t, srv, long+"\nput m 1700000000 2 k=v\n"+strings.Repeat("x", 3*maxLineBytes)+"\r\nput m 1700000001 3 k=v\n")
	msg := fmt.Sprintf("put: line too long: longer than %d bytes; the line is dropped\n", maxLineBytes)
	if got != msg+msg {
		t.Errorf("answers %q", got)
	}
	if pts := srv.Points(); len(pts) != 2 || pts[0].Value != 2 || pts[1].Value != 3 {
		t.Errorf("stored %+v", pts)
	}

	// maxLineConns connections at once; the next is refused.
	var conns []net.Conn
	for range maxLineConns {
		c := dialLines(t, srv)
		io.WriteString(c, "version\n")
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	want := fmt.Sprintf("error: too many connections: the server takes %d line connections at once; retry later\n", maxLineConns)
	if got := converse(t, srv, "put m 1700000002 4 k=v\n"); got != want {
		t.Errorf("connection %d: %q, want %q", maxLineConns+1, got, want)
	}
	// The idle ones are closed (300 ms here); then connections are taken again.
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
			t.Fatalf("an idle connection: %q, %v", b, err)
		}
	}
	// A line left incomplete when the connection ends is dropped and logged.
	if got := converse(t, srv, "put m 1700000003 5 k=v\nput m 1700000004 6 k="); got != "" {
		t.Errorf("answers %q", got)
	}
	recs := waitRecords(t, srv, 4)
	last := recs[len(recs)-1]
	if last.Failed != 1 || last.Errors[0] != "incomplete line: the connection ended (or idled out) 21 bytes into a line; the line is dropped" {
		t.Errorf("record %+v", last)
	}
	if pts := srv.Points(); len(pts) != 3 || pts[2].Value != 5 {
		t.Errorf("stored %+v", pts)
	}
	var refused int
	for _, r := range recs {
		if r.Status == 503 {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d refused connections logged: %+v", refused, recs)
	}
}

// TestTelnetClientDoesNotRead: a client that never reads the answers
// (collectd's write_tsdb does not) never holds up the reading of its
// lines; the answers it leaves are dropped and counted.
func TestTelnetClientDoesNotRead(t *testing.T) {
	var logged logLines
	srv := newServer(t, WithLogger(logged.logf))
	const bad = 200_000 // 13 MB of answers, more than the kernel's buffers hold
	c := dialLines(t, srv)
	go func() {
		io.WriteString(c, strings.Repeat("put x\n", bad)+"put ok 1700000000 1 k=v\n")
		c.(*net.TCPConn).CloseWrite()
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		failed := 0
		for _, r := range telnetRecords(srv) {
			failed += r.Failed
		}
		if failed == bad && len(srv.Points()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d lines refused, %d points stored", failed, bad, len(srv.Points()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Close()
	waitFor := time.Now().Add(10 * time.Second)
	for !strings.Contains(logged.String(), "answers dropped: the client did not read them") {
		if time.Now().After(waitFor) {
			t.Fatalf("no answers dropped logged: %q", logged.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Log(logged.String())
}

// TestTelnetMemoryBound: maxLineConns clients sending the lines that cost
// the server most (long lines of many tags, lines too long, good lines)
// and reading no answer: the heap grows by at most what the bounds allow,
// 64 connections of a read buffer, two answer buffers, a batch of
// lineCommitBytes and one line's scratch space (about 140 bytes a tag).
func TestTelnetMemoryBound(t *testing.T) {
	var judged atomic.Int64
	srv := newServer(t, WithRequestLog(func(r Request) { judged.Add(int64(r.Accepted + r.Failed)) }))
	var script strings.Builder
	for i := 0; script.Len() < 1<<20; i++ {
		switch i % 3 {
		case 0: // refused (too many tags), with a 1 KiB answer
			script.WriteString("put m 1700000000 1")
			for j := 0; script.Len()%maxLineBytes < maxLineBytes-8; j++ {
				fmt.Fprintf(&script, " %c=v", 'a'+j%26)
			}
			script.WriteString("\n")
		case 1: // too long
			script.WriteString(strings.Repeat("put m ", maxLineBytes/3) + "\n")
		case 2: // good, of a long series key
			fmt.Fprintf(&script, "put m 1700000000 %d k=%s\n", i, strings.Repeat("v", maxLineBytes-64))
		}
	}
	data := []byte(script.String()) // shared by the clients' writes

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
		}
	}()
	done := make(chan struct{}, maxLineConns)
	for range maxLineConns {
		c := dialLines(t, srv)
		go func() {
			c.Write(data)
			c.(*net.TCPConn).CloseWrite()
			done <- struct{}{}
		}()
	}
	for range maxLineConns {
		<-done
	}
	// Every line judged, every connection ended.
	want := int64(maxLineConns * bytes.Count(data, []byte("\n")))
	deadline := time.Now().Add(60 * time.Second)
	for judged.Load() < want || func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.lineConns) > 0
	}() {
		if time.Now().After(deadline) {
			t.Fatalf("%d lines judged, want %d", judged.Load(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	<-sampled
	if judged.Load() != want {
		t.Errorf("%d lines judged, want %d", judged.Load(), want)
	}
	grown := int64(peak) - int64(base.HeapInuse)
	const perConn = maxLineBytes + 2*maxAnswerBytes + lineCommitBytes + maxLineBytes + 140*maxLineBytes/4
	bound := int64(maxLineConns*perConn) + 4<<20 // and the store's points, the test's script
	t.Logf("%d connections sending %d KiB each, unread: heap in use grew by %.1f MiB at its peak (bound %.1f MiB)",
		maxLineConns, len(data)>>10, float64(grown)/(1<<20), float64(bound)/(1<<20))
	if grown > bound {
		t.Errorf("heap grew by %d bytes, over the bound %d", grown, bound)
	}
}

// TestTelnetClose: Close ends the line connections promptly, a client
// streaming lines and a client yet to send its first byte alike; the
// lines read are stored and logged, and nothing is left running.
func TestTelnetClose(t *testing.T) {
	checkNoLeak(t, func() {
		var logged atomic.Int64
		srv := mustLaunch(t, WithRequestLog(func(r Request) { logged.Add(int64(r.Accepted)) }))
		silent := dialLines(t, srv)
		streaming := dialLines(t, srv)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			for i := 0; ; i++ {
				if _, err := fmt.Fprintf(streaming, "put m %d %d k=v\n", 1700000000+i, i); err != nil {
					return
				}
			}
		}()
		for srv.Stats().Accepted < 1000 {
			time.Sleep(time.Millisecond)
		}
		start := time.Now()
		srv.Close()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Close took %v", d)
		}
		<-stopped
		silent.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := silent.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("the silent connection: %v", err)
		}
		if st := srv.Stats(); int64(st.Accepted) != logged.Load() || st.Points != int(st.Accepted) {
			t.Errorf("stats %+v, %d accepted in the request log", st, logged.Load())
		}
		streaming.Close()
		silent.Close()
	})
}

// TestTelnetSameAsPut: the points of telnet lines are stored as those of
// the same points put over HTTP, in a data directory too: the two servers
// hold the same points, before and after a restart.
func TestTelnetSameAsPut(t *testing.T) {
	lines := "put a 1500000000 1.5 h=h0\nput a 1500000001123 -2 h=h1 z=é\nput b 1500000002.250 3e2 h=h0\nput a 1500000000 7 h=h0\n"
	body := `[{"metric":"a","timestamp":1500000000,"value":1.5,"tags":{"h":"h0"}},` +
		`{"metric":"a","timestamp":1500000001123,"value":"-2","tags":{"h":"h1","z":"é"}},` +
		`{"metric":"b","timestamp":1500000002250,"value":3e2,"tags":{"h":"h0"}},` +
		`{"metric":"a","timestamp":1500000000,"value":7,"tags":{"h":"h0"}}]`
	telnetDir, putDir := t.TempDir(), t.TempDir()
	viaTelnet, _ := dataServer(t, telnetDir)
	if got := converse(t, viaTelnet, lines); got != "" {
		t.Fatalf("answers %q", got)
	}
	viaPut, _ := dataServer(t, putDir)
	if code, resp := post(t, viaPut, "", body); code != 204 {
		t.Fatalf("put: %d %s", code, resp)
	}
	if a, b := viaTelnet.Points(), viaPut.Points(); !reflect.DeepEqual(a, b) || len(a) != 4 {
		t.Fatalf("telnet stored %+v\nput stored %+v", a, b)
	}
	viaTelnet.Close()
	viaPut.Close()
	viaTelnet, _ = dataServer(t, telnetDir)
	viaPut, _ = dataServer(t, putDir)
	if a, b := viaTelnet.Points(), viaPut.Points(); !reflect.DeepEqual(a, b) || len(a) != 4 {
		t.Errorf("after a restart, telnet's %+v\nput's %+v", a, b)
	}
}

// inOrder sorts points by metric, tags and time (the store gives them by
// series, then time; a test lists them as sent).
func inOrder(pts []apptuit.DataPoint) []apptuit.DataPoint {
	key := func(p apptuit.DataPoint) string { b, _ := json.Marshal(p.Tags); return p.Metric + string(b) }
	slices.SortStableFunc(pts, func(a, b apptuit.DataPoint) int {
		return cmp.Or(strings.Compare(key(a), key(b)), a.Timestamp.Compare(b.Timestamp))
	})
	return pts
}
