package apptuit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// udpServer collects datagrams on loopback.
type udpServer struct {
	pc      net.PacketConn
	mu      sync.Mutex
	packets []string
	done    chan struct{}
}

func newUDPServer(t *testing.T) *udpServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc.(*net.UDPConn).SetReadBuffer(8 << 20)
	s := &udpServer{pc: pc, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.packets = append(s.packets, string(buf[:n]))
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { pc.Close(); <-s.done })
	return s
}

func (s *udpServer) addr() string { return s.pc.LocalAddr().String() }

func (s *udpServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.packets)
}

// waitLines waits until the datagrams hold n lines and returns the
// datagrams.
func (s *udpServer) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		pk := append([]string(nil), s.packets...)
		s.mu.Unlock()
		lines := 0
		for _, p := range pk {
			lines += strings.Count(p, "\n")
		}
		if lines >= n || time.Now().After(deadline) {
			if lines != n {
				t.Fatalf("got %d lines in %d datagrams, want %d", lines, len(pk), n)
			}
			return pk
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestXCollectorUDP: lines without "put ", in datagrams of at most 8192
// bytes that end at line ends, every line arriving (on loopback, with a
// reader that keeps up).
func TestXCollectorUDP(t *testing.T) {
	checkNoLeaks(t)
	srv := newUDPServer(t)
	c := lineClient(t, XCollectorUDP(srv.addr()))
	const n = 3000
	pts := manyPoints(n)
	if err := c.Send(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	packets := srv.wait(t, n)
	var all []string
	for _, p := range packets {
		if len(p) > linePacketBytes {
			t.Fatalf("datagram of %d bytes", len(p))
		}
		if !strings.HasSuffix(p, "\n") {
			t.Fatalf("datagram does not end at a line end: ...%q", p[max(0, len(p)-40):])
		}
		if len(p) < linePacketBytes-200 && len(all)+strings.Count(p, "\n") < n {
			t.Errorf("datagram of %d bytes before the last: not filled", len(p))
		}
		all = append(all, strings.Split(strings.TrimSuffix(p, "\n"), "\n")...)
	}
	if all[0] != "orders.processing.time.p99 1700000000 0.0 host=web-1 region=eu-west-1 service=orders" {
		t.Errorf("first line %q", all[0])
	}
	if all[n-1] != "orders.processing.time.p99 1700002999 2999.0 host=web-1 region=eu-west-1 service=orders" {
		t.Errorf("last line %q", all[n-1])
	}
	t.Logf("%d lines in %d datagrams", n, len(packets))
}

func TestXCollectorUDPPacketSize(t *testing.T) {
	srv := newUDPServer(t)
	tr := XCollectorUDP(srv.addr())
	tr.packet = MaxLineBytes + 1 // the smallest a datagram may be
	c := lineClient(t, tr)
	if err := c.Send(context.Background(), manyPoints(100)); err != nil {
		t.Fatal(err)
	}
	for _, p := range srv.wait(t, 100) {
		if len(p) > 1024 || !strings.HasSuffix(p, "\n") {
			t.Fatalf("datagram of %d bytes: %q", len(p), p)
		}
	}
}

// TestXCollectorUDPNobodyListens: the kernel reports the port unreachable
// on a later write: that Send fails with a retryable *NetworkError counting
// the points of the datagrams not sent (those before were lost without a
// word: UDP).
func TestXCollectorUDPNobodyListens(t *testing.T) {
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	addr := pc.LocalAddr().String()
	pc.Close()
	c := lineClient(t, XCollectorUDP(addr))
	const n = 300 // 4 datagrams
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		err = c.Send(context.Background(), manyPoints(n))
		time.Sleep(5 * time.Millisecond)
	}
	var ne *NetworkError
	if !errors.As(err, &ne) || !IsRetryable(err) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v", err)
	}
	// The datagrams not sent hold whole lines: the count is a number of
	// lines left, from a datagram's first.
	lines := strings.Split(strings.ReplaceAll(manyPointsLines(n), "put ", ""), "\n")
	packets := map[int]bool{n: true}
	for left, size := n, 0; left > 0; left-- {
		if size += len(lines[n-left]) + 1; size > linePacketBytes {
			packets[left] = true
			size = len(lines[n-left]) + 1
		}
	}
	if ne.Total != n || !packets[ne.Undelivered] || ne.Attempts != 1 {
		t.Errorf("%d of %d points not sent, after %d attempts: not the points of whole datagrams %v", ne.Undelivered, ne.Total, ne.Attempts, packets)
	}
	if want := fmt.Sprintf("apptuit: send: %s: XCollectorUDP(%s): write udp ", strings.TrimSuffix(notSent(ne.Undelivered, n), ": "), addr); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%q\nwant the prefix %q", err, want)
	}
	t.Log(err)
}
