package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
)

// BenchmarkTelnetLines measures a line connection end to end: 50,000 put
// lines (100 series of 3 tags, 500 points each, in time order) written
// over loopback TCP to a new server, judged, committed into its store and
// logged; ns/op is per 50,000 lines.
func BenchmarkTelnetLines(b *testing.B) {
	var script bytes.Buffer
	for p := range 500 {
		for s := range 100 {
			fmt.Fprintf(&script, "put http.server.duration %d %g host=web%d service=orders dc=eu-west-1\n", 1700000000+p*10, float64(p*s%977)/7, s)
		}
	}
	data := script.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	commits := 0
	for b.Loop() {
		b.StopTimer()
		srv, err := launch()
		if err != nil {
			b.Fatal(err)
		}
		c, err := net.Dial("tcp", srv.addr())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := c.Write(data); err != nil {
			b.Fatal(err)
		}
		c.(*net.TCPConn).CloseWrite()
		if ans, err := io.ReadAll(c); err != nil || len(ans) != 0 {
			b.Fatalf("%q, %v", ans, err)
		}
		b.StopTimer()
		c.Close()
		if got := srv.Stats().Accepted; got != 50000 {
			b.Fatalf("%d points stored, want 50000", got)
		}
		commits += int(srv.Stats().Requests)
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(commits)/float64(b.N), "commits/op")
}
