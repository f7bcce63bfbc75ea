package apptuit

import (
	"context"
	"io"
	"net"
	"testing"
)

// BenchmarkLineSend: Send of 10,000 points as telnet lines to a loopback
// listener that discards them.
func BenchmarkLineSend(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	c, err := New(WithLineTransport(TelnetTCP(ln.Addr().String())))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pts := manyPoints(10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Send(context.Background(), pts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(pts))/b.Elapsed().Seconds(), "points/s")
}
