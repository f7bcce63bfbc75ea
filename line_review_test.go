package apptuit

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// TestLineTCPCtxEndsWaitForConcurrentSend: a Send waiting for a concurrent
// Send on the same transport (one stuck on a server that does not read)
// returns when its own ctx ends, as "its ctx ends it sooner" promises,
// not when the other Send gives up.
func TestLineTCPCtxEndsWaitForConcurrentSend(t *testing.T) {
	checkNoLeaks(t)
	peer := newLinePeer(t, listenSmallRcvbuf(t), func(int, net.Conn) {})
	c, err := New(WithLineTransport(TelnetTCP(peer.addr())), WithIgnoreEnvTags(), WithRetries(0), WithTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctxA, cancelA := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelA()
	doneA := make(chan error, 1)
	go func() { doneA <- c.Send(ctxA, manyPoints(1000)) }() // written, never acknowledged
	for peer.accepted() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // A holds the transport
	ctxB, cancelB := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelB()
	start := time.Now()
	err = c.Send(ctxB, manyPoints(10))
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("B: got %v, want its ctx's deadline", err)
	}
	if took > time.Second {
		t.Errorf("B took %v with a ctx of 100ms: it waited for A", took)
	}
	if err := <-doneA; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("A: got %v", err)
	}
}

// TestLineTCPCloseDuringSend: Client.Close while a Send is stuck on a
// server that does not read (WithTimeout(0), a ctx of 2s) returns at once
// rather than when the Send gives up. Known, not fixed: Close waits for the
// Send in progress, so with WithTimeout(0) and a ctx without deadline it
// never returns.
func TestLineTCPCloseDuringSend(t *testing.T) {
	if os.Getenv("APPTUIT_REVIEW_KNOWN") == "" {
		t.Skip("known: Close waits for a Send in progress (set APPTUIT_REVIEW_KNOWN=1 to run)")
	}
	checkNoLeaks(t)
	peer := newLinePeer(t, listenSmallRcvbuf(t), func(int, net.Conn) {})
	c, err := New(WithLineTransport(TelnetTCP(peer.addr())), WithIgnoreEnvTags(), WithRetries(0), WithTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Send(ctx, manyPoints(1000)) }()
	for peer.accepted() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	c.Close()
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close took %v: it waited for the Send", d)
	}
	<-done
}
