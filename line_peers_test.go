package apptuit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The TelnetTCP transport against servers that behave well and badly: what
// Send claims must be what TCP can tell (line_conn.go).

// linePeer is a TCP server on loopback that hands its i-th connection (from
// 0) to serve, on a goroutine of its own.
type linePeer struct {
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	handlers sync.WaitGroup
	done     chan struct{}
}

func newLinePeer(t *testing.T, ln net.Listener, serve func(i int, c net.Conn)) *linePeer {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	p := &linePeer{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			p.handlers.Add(1)
			go func() {
				defer p.handlers.Done()
				serve(i, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-p.done
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.handlers.Wait()
	})
	return p
}

func (p *linePeer) addr() string { return p.ln.Addr().String() }

func (p *linePeer) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// pyFloat writes v as the encoder does for the values of these tests.
func pyFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// manyPointsLines are the lines of manyPoints(n), written independently
// of the encoder.
func manyPointsLines(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "put orders.processing.time.p99 %d %s host=web-1 region=eu-west-1 service=orders\n", lineT0.Unix()+int64(i), pyFloat(float64(i)))
	}
	return b.String()
}

// TestLineTCPHealthyPeer: a server that reads gets every line of every
// Send, byte for byte, on one connection, and every Send returns nil.
func TestLineTCPHealthyPeer(t *testing.T) {
	checkNoLeaks(t)
	var mu sync.Mutex
	var got []bytes.Buffer
	peer := newLinePeer(t, nil, func(i int, c net.Conn) {
		b, _ := io.ReadAll(c)
		mu.Lock()
		got = append(got, *bytes.NewBuffer(b))
		mu.Unlock()
	})
	c, err := New(WithLineTransport(TelnetTCP(peer.addr())), WithIgnoreEnvTags(), WithRetries(0), WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var want strings.Builder

	if err := c.Send(ctx, []DataPoint{
		{Metric: "sys.cpu.user", Tags: map[string]string{"host": "web1", "cpu": "0"}, Timestamp: lineT0, Value: 42.5},
		{Metric: "sys.cpu.user", Tags: map[string]string{"host": "web1", "cpu": "1"}, Timestamp: lineT0.Add(1500 * time.Millisecond), Value: -1},
	}); err != nil {
		t.Fatal(err)
	}
	want.WriteString("put sys.cpu.user 1700000000 42.5 cpu=0 host=web1\nput sys.cpu.user 1700000001500 -1.0 cpu=1 host=web1\n")

	s, _ := NewTimeSeries("app.latency", map[string]string{"host": "web-1", "é": "ü/1"})
	for i := range 1000 {
		s.Add(lineT0.Add(time.Duration(i)*time.Second), float64(i)*0.5)
		fmt.Fprintf(&want, "put app.latency %d %s host=web-1 é=ü/1\n", lineT0.Unix()+int64(i), pyFloat(float64(i)*0.5))
	}
	if err := c.SendTimeSeries(ctx, []*TimeSeries{s}); err != nil {
		t.Fatal(err)
	}

	ps, err := c.PrepareSeries("app.queue", map[string]string{"q": "orders"})
	if err != nil {
		t.Fatal(err)
	}
	var pp []PreparedPoint
	for i := range 1000 {
		pp = append(pp, PreparedPoint{Series: ps, UnixMilli: lineT0.UnixMilli() + int64(i)*1000, Value: float64(i)})
		fmt.Fprintf(&want, "put app.queue %d %s q=orders\n", lineT0.Unix()+int64(i), pyFloat(float64(i)))
	}
	if err := c.SendPrepared(ctx, pp); err != nil {
		t.Fatal(err)
	}

	// 4.6 MB: more than the sockets' buffers hold.
	if err := c.Send(ctx, manyPoints(50000)); err != nil {
		t.Fatal(err)
	}
	want.WriteString(manyPointsLines(50000))

	c.Close() // the server reads to the end
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := peer.accepted(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("the server read %d connections to their end, want 1", len(got))
	}
	if g := got[0].String(); g != want.String() {
		t.Fatalf("the server got %d bytes, want %d; %s", len(g), want.Len(), firstDiff([]byte(g), []byte(want.String())))
	}
	t.Logf("%d bytes, %d lines, all received as written", want.Len(), strings.Count(want.String(), "\n"))
}

// TestLineTCPClosingPeer: a server that closes every connection it accepts
// makes every Send fail with a retryable *NetworkError counting all its
// points, after each attempt the client's retries allow; one that answers
// (an HTTP server on the port) is quoted in the error.
func TestLineTCPClosingPeer(t *testing.T) {
	checkNoLeaks(t)
	closing := newLinePeer(t, nil, func(_ int, c net.Conn) { c.Close() })
	// Closes a line it has not read, once its TCP acknowledged it: only
	// waiting on a new connection (lineSettle) tells.
	late := newLinePeer(t, nil, func(_ int, c net.Conn) { time.Sleep(5 * time.Millisecond); c.Close() })
	http := httptest.NewServer(nil)
	t.Cleanup(http.Close)
	for _, tc := range []struct {
		name    string
		addr    string
		retries int
		calls   int
		n       int      // points a call
		wantErr []string // in the error's text
	}{
		{"closes at accept", closing.addr(), 0, 20, 1000, []string{"1000 points may not have arrived: TelnetTCP(" + closing.addr() + "): the server "}},
		{"closes at accept, 2 retries", closing.addr(), 2, 5, 1000, []string{"1000 points may not have arrived: after 3 attempts: TelnetTCP("}},
		{"closes 5 ms after accept", late.addr(), 0, 5, 1, []string{"1 point may not have arrived: TelnetTCP(" + late.addr() + "): the server reset the connection with 89 bytes written: "}},
		{"an HTTP server", strings.TrimPrefix(http.URL, "http://"), 0, 3, 1000, []string{
			"1000 points may not have arrived: TelnetTCP(", `; it wrote "HTTP/1.1 400 Bad Request\r\n`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(WithLineTransport(TelnetTCP(tc.addr)), WithIgnoreEnvTags(), WithRetries(tc.retries),
				WithTimeout(2*time.Second), WithBackoff(time.Millisecond, 2*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			pts := manyPoints(tc.n)
			var slowest time.Duration
			for call := range tc.calls {
				start := time.Now()
				err := c.Send(context.Background(), pts)
				slowest = max(slowest, time.Since(start))
				var ne *NetworkError
				if !errors.As(err, &ne) {
					t.Fatalf("call %d: got %v, want a *NetworkError", call, err)
				}
				if ne.Undelivered != tc.n || ne.Total != tc.n || ne.Attempts != tc.retries+1 || !IsRetryable(err) {
					t.Errorf("call %d: undelivered %d of %d after %d attempts, retryable %v", call, ne.Undelivered, ne.Total, ne.Attempts, IsRetryable(err))
				}
				if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
					t.Errorf("call %d: %v: neither EOF nor a reset", call, err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("call %d: %q\nlacks %q", call, err, w)
					}
				}
			}
			t.Logf("%d of %d calls failed, the slowest in %v; e.g. %v", tc.calls, tc.calls, slowest, c.Send(context.Background(), pts))
		})
	}
}

// TestLineTCPPeerDiesMidStream: a server that dies after reading part of
// a Send (its connection reset, as when its process is killed) fails that
// Send, counting all its points; with a retry, the Send is written again
// whole on a new connection.
func TestLineTCPPeerDiesMidStream(t *testing.T) {
	checkNoLeaks(t)
	const n = 50000 // 4.6 MB
	want := manyPointsLines(n)
	for _, tc := range []struct {
		name    string
		retries int
		dies    int // connections that die
	}{
		{"no retry", 0, 1},
		{"retried on a new connection", 1, 1},
		{"dies twice", 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var whole []string // what connections that lived read
			peer := newLinePeer(t, nil, func(i int, c net.Conn) {
				if i < tc.dies {
					io.CopyN(io.Discard, c, 100<<10)
					c.(*net.TCPConn).SetLinger(0) // a reset, lines unread dropped
					c.Close()
					return
				}
				b, _ := io.ReadAll(c)
				mu.Lock()
				whole = append(whole, string(b))
				mu.Unlock()
			})
			c, err := New(WithLineTransport(TelnetTCP(peer.addr())), WithIgnoreEnvTags(), WithRetries(tc.retries),
				WithTimeout(10*time.Second), WithBackoff(time.Millisecond, 2*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Send(context.Background(), manyPoints(n))
			c.Close()
			if tc.dies > tc.retries {
				var ne *NetworkError
				if !errors.As(err, &ne) || ne.Undelivered != n || ne.Total != n || ne.Attempts != tc.retries+1 || !IsRetryable(err) {
					t.Fatalf("got %v, want a retryable *NetworkError counting %d of %d points after %d attempts", err, n, n, tc.retries+1)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				mu.Lock()
				k := len(whole)
				mu.Unlock()
				if k == 1 || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(whole) != 1 || whole[0] != want {
				t.Fatalf("the connection that lived read %d connections, want 1 with every line", len(whole))
			}
		})
	}
}

// TestLineTCPHungPeer: a server that accepts and never reads, with a small
// receive buffer. A Send larger than the buffers blocks in its write; one
// that fits in the client's buffer is written at once, but the server's TCP
// does not acknowledge it. Both fail with a retryable *NetworkError (a
// timeout) counting all their points, and the call is bounded by the
// timeout × (retries + 1) (the bound starts once the lines are encoded).
func TestLineTCPHungPeer(t *testing.T) {
	checkNoLeaks(t)
	ln := listenSmallRcvbuf(t)
	peer := newLinePeer(t, ln, func(int, net.Conn) {}) // held open until the cleanup
	big := manyPoints(12000)                           // ~11 MB in few points: the test times the wire, not the encoding
	tags := map[string]string{"k": strings.Repeat("v", 900)}
	for i := range big {
		big[i].Tags = tags
	}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		retries int
		first   []DataPoint // sent first, nil returned
		pts     []DataPoint
		want    string
	}{
		{"write blocks", 300 * time.Millisecond, 1, nil, big, "bytes written within the timeout (the server is not reading)"},
		{"written, not acknowledged", 300 * time.Millisecond, 1, manyPoints(1), manyPoints(1000), "bytes written within the timeout (the server is not reading)"},
		{"the issue's case: 2s, 1 retry", 2 * time.Second, 1, nil, big, "written within the timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(WithLineTransport(TelnetTCP(peer.addr())), WithIgnoreEnvTags(), WithRetries(tc.retries), WithTimeout(tc.timeout))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.first != nil {
				// One line fits in the server's buffer: its TCP acknowledges it,
				// which is all a client of a protocol without answers can know.
				if err := c.Send(context.Background(), tc.first); err != nil {
					t.Fatalf("one line: %v", err)
				}
			}
			enc := time.Now()
			appendLines(nil, &dataPoints{c, tc.pts}, &scratch{}, c.cfg.precision)
			encoding := time.Since(enc)
			start := time.Now()
			err = c.Send(context.Background(), tc.pts)
			took := time.Since(start)
			var ne *NetworkError
			if !errors.As(err, &ne) || ne.Undelivered != len(tc.pts) || ne.Total != len(tc.pts) || ne.Attempts != tc.retries+1 || !IsRetryable(err) {
				t.Fatalf("got %v, want a retryable *NetworkError counting all %d points after %d attempts", err, len(tc.pts), tc.retries+1)
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: not a timeout with %q", err, tc.want)
			}
			bound := tc.timeout * time.Duration(tc.retries+1)
			// Slack for a loaded machine: the encoding measured above is
			// not the Send's own, and validation comes before it.
			slack := 250*time.Millisecond + bound/4
			if wire := took - encoding; wire > bound+slack || took < bound-50*time.Millisecond {
				t.Errorf("took %v (encoding %v), want the bound %v", took, encoding, bound)
			}
			t.Logf("failed after %v (bound %v, encoding %v): %v", took.Round(time.Millisecond), bound, encoding.Round(time.Millisecond), err)
		})
	}
}

// TestLineTCPHungPeerCtx: the Send's ctx ends the wait for the server's
// acknowledgement, and the error counts the points.
func TestLineTCPHungPeerCtx(t *testing.T) {
	checkNoLeaks(t)
	peer := newLinePeer(t, listenSmallRcvbuf(t), func(int, net.Conn) {})
	c, err := New(WithLineTransport(TelnetTCP(peer.addr())), WithIgnoreEnvTags(), WithRetries(2), WithTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Send(ctx, manyPoints(1000)) // written at once, never acknowledged
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "apptuit: send: 1000 points may not have arrived: context deadline exceeded" {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}
