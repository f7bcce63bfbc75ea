package apptuit

import (
	"context"
	"errors"
	"net"
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
