package apptuit

import (
	"bufio"
	"context"
	"errors"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineServer is a TCP listener on loopback that collects the lines it is
// sent, connection by connection.
type lineServer struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
	conns []net.Conn
	wg    sync.WaitGroup
}

func newLineServer(t *testing.T) *lineServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lineServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					s.mu.Lock()
					s.lines = append(s.lines, sc.Text())
					s.mu.Unlock()
				}
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *lineServer) addr() string { return s.ln.Addr().String() }

// dropConns closes the server's side of every connection.
func (s *lineServer) dropConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *lineServer) close() {
	s.ln.Close()
	s.dropConns()
	s.wg.Wait()
}

// waitLines waits for n lines and returns them.
func (s *lineServer) waitLines(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		got := append([]string(nil), s.lines...)
		s.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("got %d lines, want %d: %q", len(got), n, got)
			}
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func lineClient(t *testing.T, tr *LineTransport, opts ...Option) *Client {
	t.Helper()
	c, err := New(append([]Option{WithLineTransport(tr), WithIgnoreEnvTags(), WithRetries(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var lineT0 = time.Unix(1700000000, 0)

func TestLineEncoding(t *testing.T) {
	pts := []DataPoint{
		{Metric: "sys.cpu.user", Tags: map[string]string{"host": "web1", "cpu": "0"}, Timestamp: lineT0, Value: 42.5},
		{Metric: "sys.cpu.user", Tags: map[string]string{"host": "web1", "cpu": "1"}, Timestamp: lineT0.Add(1500 * time.Millisecond), Value: 1e-7},
		{Metric: "日本.x", Tags: map[string]string{"city": "São Paulo,\"x\"\\"}, Timestamp: lineT0, Value: -3},
	}
	for _, tc := range []struct {
		name string
		tr   func(addr string) *LineTransport
		opts []Option
		pts  []DataPoint
		want []string
	}{
		{"telnet auto", func(a string) *LineTransport { return TelnetTCP(a) }, nil, pts[:2], []string{
			"put sys.cpu.user 1700000000 42.5 cpu=0 host=web1",
			"put sys.cpu.user 1700000001500 1e-07 cpu=1 host=web1",
		}},
		{"telnet millis", func(a string) *LineTransport { return TelnetTCP(a) }, []Option{WithTimestampPrecision(PrecisionMilliseconds)}, pts[:1], []string{
			"put sys.cpu.user 1700000000000 42.5 cpu=0 host=web1",
		}},
		{"global tags and sanitizer", func(a string) *LineTransport { return TelnetTCP(a) },
			[]Option{WithGlobalTags(map[string]string{"dc": "eu", "host": "default"}), WithSanitizer(SanitizePrometheus)},
			[]DataPoint{{Metric: "a.b-c", Tags: map[string]string{"host": "h", "k.1": "v/1"}, Timestamp: lineT0, Value: 1}},
			[]string{"put a_b_c 1700000000 1.0 dc=eu host=h k_1=v/1"}},
		{"telnet unicode and punctuation in values", func(a string) *LineTransport { return TelnetTCP(a) }, nil, pts[2:], []string{
			"put 日本.x 1700000000 -3.0 city=São",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "telnet unicode and punctuation in values" {
				// A space in a value is refused: see TestLineValidation.
				tc.pts = []DataPoint{{Metric: "日本.x", Tags: map[string]string{"city": "São-Paulo,\"x\"\\/ü"}, Timestamp: lineT0, Value: -3}}
				tc.want = []string{`put 日本.x 1700000000 -3.0 city=São-Paulo,"x"\/ü`}
			}
			srv := newLineServer(t)
			c := lineClient(t, tc.tr(srv.addr()), tc.opts...)
			if err := c.Send(context.Background(), tc.pts); err != nil {
				t.Fatal(err)
			}
			got := srv.waitLines(t, len(tc.want))
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("line %d:\n got %q\nwant %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestLineSendTimeSeries(t *testing.T) {
	srv := newLineServer(t)
	c := lineClient(t, TelnetTCP(srv.addr()), WithGlobalTags(map[string]string{"dc": "eu"}))
	a, _ := NewTimeSeries("m.a", map[string]string{"k": "v"})
	a.Add(lineT0, 1)
	a.Add(lineT0.Add(time.Second), 2.25)
	empty, _ := NewTimeSeries("m.empty", map[string]string{"k": "v"})
	b, _ := NewTimeSeries("m.b", nil)
	b.Add(lineT0.Add(10*time.Millisecond), 3)
	if err := c.SendTimeSeries(context.Background(), []*TimeSeries{a, empty, b}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"put m.a 1700000000 1.0 dc=eu k=v",
		"put m.a 1700000001 2.25 dc=eu k=v",
		"put m.b 1700000000010 3.0 dc=eu",
	}
	got := srv.waitLines(t, 3)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %q, want %q", i, got[i], want[i])
		}
	}
	if err := c.SendTimeSeries(context.Background(), []*TimeSeries{empty}); err != nil {
		t.Errorf("empty series: %v", err)
	}
}

// TestLineValidation: what the line format cannot carry is a
// *ValidationError naming the point, and nothing of the call is sent.
func TestLineValidation(t *testing.T) {
	long := strings.Repeat("v", MaxLineBytes)
	for _, tc := range []struct {
		name   string
		udp    bool
		p      DataPoint
		series bool
		want   string
	}{
		{"space", false, DataPoint{Tags: map[string]string{"city": "New York"}}, false, `tag "city" value "New York" has white space (' '), which would split the line`},
		{"space in a series", false, DataPoint{Tags: map[string]string{"city": "New York"}}, true, `point 1 (metric "m"): tag "city" value "New York" has white space`},
		{"tab", false, DataPoint{Tags: map[string]string{"k": "a\tb"}}, false, `has white space ('\t')`},
		{"newline", false, DataPoint{Tags: map[string]string{"k": "a\nput x 1 1 k=v"}}, false, `has white space ('\n')`},
		{"no-break space", false, DataPoint{Tags: map[string]string{"k": "a\u00a0b"}}, false, `has white space ('\u00a0')`},
		{"equals", false, DataPoint{Tags: map[string]string{"k": "a=b"}}, false, `tag "k" value "a=b" has '='`},
		{"control", false, DataPoint{Tags: map[string]string{"k": "a\x00b"}}, false, `control character '\x00'`},
		{"invalid UTF-8", false, DataPoint{Tags: map[string]string{"k": "a\xffb"}}, false, `is not valid UTF-8`},
		{"space in the name", false, DataPoint{Metric: "a b"}, false, `metric name "a b" has a character outside the allowed set`},
		{"too long", false, DataPoint{Tags: map[string]string{"k": long}}, false, `longer than 1023 bytes`},
		{"NaN", false, DataPoint{Value: math.NaN()}, false, `value NaN is not a finite number`},
		{"xcollector unicode value", true, DataPoint{Tags: map[string]string{"city": "São"}}, false, `tag "city" value "São" has 'ã', which XCollector refuses`},
		{"xcollector comma", true, DataPoint{Tags: map[string]string{"k": "a,b"}}, false, `has ',', which XCollector refuses`},
		{"xcollector unicode name", true, DataPoint{Metric: "日本"}, false, `metric name "日本" has a non-ASCII character`},
		{"xcollector unicode key", true, DataPoint{Tags: map[string]string{"ключ": "v"}}, false, `tag key "ключ" has a non-ASCII character`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DataPoint{Metric: "m", Tags: map[string]string{"k": "v"}, Timestamp: lineT0, Value: 1}
			if tc.p.Metric != "" {
				p.Metric = tc.p.Metric
			}
			if tc.p.Tags != nil {
				p.Tags = tc.p.Tags
			}
			if !tc.p.Timestamp.IsZero() {
				p.Timestamp = tc.p.Timestamp
			}
			if tc.p.Value != 0 {
				p.Value = tc.p.Value
			}
			var tr *LineTransport
			var srv *lineServer
			var udp *udpServer
			if tc.udp {
				udp = newUDPServer(t)
				tr = XCollectorUDP(udp.addr())
			} else {
				srv = newLineServer(t)
				tr = TelnetTCP(srv.addr())
			}
			c := lineClient(t, tr)
			good := DataPoint{Metric: "ok", Tags: map[string]string{"k": "v"}, Timestamp: lineT0, Value: 1}
			var err error
			if tc.series {
				s1, _ := NewTimeSeries("ok", map[string]string{"k": "v"})
				s1.Add(lineT0, 1)
				s2, serr := NewTimeSeries(p.Metric, p.Tags)
				if serr != nil {
					t.Fatal(serr)
				}
				s2.Add(p.Timestamp, p.Value)
				err = c.SendTimeSeries(context.Background(), []*TimeSeries{s1, s2})
			} else {
				err = c.Send(context.Background(), []DataPoint{good, p})
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			if !tc.series && (ve.Index != 1 || ve.Metric != p.Metric) {
				t.Errorf("error names point %d %q, want 1 %q", ve.Index, ve.Metric, p.Metric)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nlacks %q", err, tc.want)
			}
			if IsRetryable(err) {
				t.Error("a validation error is retryable")
			}
			// Nothing was sent: the good point came first and is not there.
			time.Sleep(20 * time.Millisecond)
			if srv != nil && len(srv.waitLines(t, 0)) != 0 || udp != nil && udp.count() != 0 {
				t.Error("something was sent")
			}
		})
	}
}

func TestLineOptionsValidated(t *testing.T) {
	for _, tc := range []struct {
		tr   *LineTransport
		want string
	}{
		{nil, "transport is nil"},
		{TelnetTCP("localhost"), `address "localhost" is not host:port`},
		{TelnetTCP(":4242"), "needs a host and a port"},
		{TelnetTCP("127.0.0.1:0"), "needs a host and a port"},
		{TelnetTCP("127.0.0.1:x"), "needs a host and a port"},
	} {
		_, err := New(WithLineTransport(tc.tr))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.tr, err, tc.want)
		}
	}
	if got := XCollectorUDP("").String(); got != "XCollectorUDP(127.0.0.1:8953)" {
		t.Errorf("default address: %s", got)
	}
	// No token needed.
	t.Setenv(EnvToken, "")
	t.Setenv(EnvTokenPy, "")
	if _, err := New(WithLineTransport(TelnetTCP("127.0.0.1:4242"))); err != nil {
		t.Errorf("a line client without a token: %v", err)
	}
}

func TestLineQueryUnsupported(t *testing.T) {
	c := lineClient(t, TelnetTCP("127.0.0.1:4242"))
	_, err := c.Query(context.Background(), "fetch('x')", lineT0, time.Time{})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Op != "query" || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Query: %v", err)
	}
	if want := "apptuit: query: not available with the line transport TelnetTCP(127.0.0.1:4242), which can only send"; err.Error() != want {
		t.Errorf("got %q", err)
	}
	_, err = c.QueryRange(context.Background(), "up", lineT0, time.Time{}, 0)
	if !errors.As(err, &ue) || ue.Op != "promql" {
		t.Fatalf("QueryRange: %v", err)
	}
}

// TestLineTCPReconnect: a server that closed the connection between two
// Sends (a restart) loses nothing: the client sees it and reconnects.
func TestLineTCPReconnect(t *testing.T) {
	checkNoLeaks(t)
	srv := newLineServer(t)
	c := lineClient(t, TelnetTCP(srv.addr()))
	send := func(v float64) {
		t.Helper()
		if err := c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"k": "v"}, Timestamp: lineT0, Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	send(1)
	srv.waitLines(t, 1)
	srv.dropConns()
	time.Sleep(20 * time.Millisecond)
	send(2)
	send(3)
	got := srv.waitLines(t, 3)
	if got[1] != "put m 1700000000 2.0 k=v" || got[2] != "put m 1700000000 3.0 k=v" {
		t.Errorf("lines %q", got)
	}
}

// TestLineTCPDown: nothing listens: a retryable *NetworkError, after the
// client's retries.
func TestLineTCPDown(t *testing.T) {
	checkNoLeaks(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(WithLineTransport(TelnetTCP(addr)), WithRetries(2), WithBackoff(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Send(context.Background(), []DataPoint{{Metric: "m", Tags: map[string]string{"k": "v"}, Timestamp: lineT0, Value: 1}})
	var ne *NetworkError
	if !errors.As(err, &ne) || !IsRetryable(err) || !strings.Contains(err.Error(), "TelnetTCP("+addr+")") {
		t.Fatalf("got %v", err)
	}
}

// stallServer accepts connections and never reads them.
func stallServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetReadBuffer(4096)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

func manyPoints(n int) []DataPoint {
	pts := make([]DataPoint, n)
	tags := map[string]string{"host": "web-1", "service": "orders", "region": "eu-west-1"}
	for i := range pts {
		pts[i] = DataPoint{Metric: "orders.processing.time.p99", Tags: tags, Timestamp: lineT0.Add(time.Duration(i) * time.Second), Value: float64(i)}
	}
	return pts
}

// TestLineTCPWriteDeadline: a server that stops reading makes Send fail
// with a *NetworkError once the client's timeout passes, and a cancelled
// ctx ends it sooner.
func TestLineTCPWriteDeadline(t *testing.T) {
	checkNoLeaks(t)
	addr := stallServer(t)
	// ~30 MB, more than the socket buffers hold, in few points: the test
	// times the write, not the encoding.
	pts := manyPoints(12000)
	big := map[string]string{"k": strings.Repeat("v", 900)}
	for i := range pts {
		pts[i].Tags = big
	}
	// What encoding costs here (-race makes it slow): the bound below is
	// on the time spent writing.
	c, err := New(WithLineTransport(TelnetTCP(addr)), WithRetries(0), WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	enc := time.Now()
	appendLines(nil, &dataPoints{c, pts}, &scratch{}, c.cfg.precision)
	encoding := time.Since(enc)
	start := time.Now()
	err = c.Send(context.Background(), pts)
	var ne *NetworkError
	if !errors.As(err, &ne) || !IsRetryable(err) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > encoding+2*time.Second {
		t.Errorf("took %v (encoding %v)", d, encoding)
	}

	c2, err := New(WithLineTransport(TelnetTCP(addr)), WithRetries(0), WithTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = c2.Send(ctx, pts)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with a ctx deadline: %v", err)
	}
	if d := time.Since(start); d > encoding+2*time.Second {
		t.Errorf("took %v (encoding %v)", d, encoding)
	}
}

// TestLineConcurrentSends: lines of concurrent Sends never interleave.
func TestLineConcurrentSends(t *testing.T) {
	checkNoLeaks(t)
	srv := newLineServer(t)
	c := lineClient(t, TelnetTCP(srv.addr()))
	var wg sync.WaitGroup
	const workers, per = 4, 2000
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Send(context.Background(), manyPoints(per)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, l := range srv.waitLines(t, workers*per) {
		if !strings.HasPrefix(l, "put orders.processing.time.p99 ") || !strings.HasSuffix(l, " host=web-1 region=eu-west-1 service=orders") {
			t.Fatalf("mangled line %q", l)
		}
	}
}

func TestLineSendPrepared(t *testing.T) {
	srv := newLineServer(t)
	c := lineClient(t, TelnetTCP(srv.addr()), WithGlobalTags(map[string]string{"dc": "eu"}), WithSanitizer(SanitizePrometheus))
	a, err := c.PrepareSeries("m.a", map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := a.WithMetric("m.b")
	// The line format's rules are checked when a series is prepared.
	if _, err := c.PrepareSeries("m.bad", map[string]string{"city": "New York"}); err == nil ||
		err.Error() != `apptuit: metric "m.bad": tag "city" value "New York" has white space (' '), which would split the line` {
		t.Errorf("PrepareSeries of a value with white space: %v", err)
	}
	other := lineClient(t, TelnetTCP(srv.addr()))
	foreign, _ := other.PrepareSeries("m.x", map[string]string{"k": "v"})
	pts := []PreparedPoint{{Series: a, UnixMilli: 1700000000000, Value: 1}, {Series: a2, UnixMilli: 1700000000500, Value: 2}, {Series: a, UnixMilli: 1700000001000, Value: 3}}
	if err := c.SendPrepared(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	want := []string{"put m_a 1700000000 1.0 dc=eu k=v", "put m_b 1700000000500 2.0 dc=eu k=v", "put m_a 1700000001 3.0 dc=eu k=v"}
	got := srv.waitLines(t, 3)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %q, want %q", i, got[i], want[i])
		}
	}
	for _, tc := range []struct {
		p    PreparedPoint
		want string
	}{
		{PreparedPoint{Series: foreign, UnixMilli: 1700000000000, Value: 1}, "prepared by another client"},
		{PreparedPoint{Series: a, UnixMilli: 1700000000000, Value: math.Inf(1)}, "not a finite number"},
		{PreparedPoint{UnixMilli: 1700000000000, Value: 1}, "series is nil"},
	} {
		err := c.SendPrepared(context.Background(), []PreparedPoint{pts[0], tc.p})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Index != 1 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want a *ValidationError at 1 with %q", err, tc.want)
		}
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(srv.waitLines(t, 3)); n != 3 {
		t.Errorf("%d lines: a refused call sent something", n)
	}
}
