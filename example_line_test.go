package apptuit_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/apptuit-go/apptuit"
)

// Send points as OpenTSDB telnet lines to a TCP listener (here one of the
// example's own; in production OpenTSDB's telnet port, a tcollector, or
// InfluxDB's or VictoriaMetrics' OpenTSDB listener). Timestamps are
// written with the client's precision, PrecisionAuto by default: seconds,
// or milliseconds for a sub-second time.
func ExampleTelnetTCP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	lines := make(chan string)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	client, err := apptuit.New(apptuit.WithLineTransport(apptuit.TelnetTCP(ln.Addr().String())),
		apptuit.WithGlobalTags(map[string]string{"host": "web1"}))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	err = client.Send(context.Background(), []apptuit.DataPoint{
		{Metric: "sys.cpu.user", Tags: map[string]string{"cpu": "0"}, Timestamp: time.Unix(1700000000, 0), Value: 42.5},
		{Metric: "sys.cpu.user", Tags: map[string]string{"cpu": "1"}, Timestamp: time.Unix(1700000000, 250e6), Value: 7},
	})
	if err != nil {
		log.Fatal(err) // a *apptuit.NetworkError, or a *apptuit.ValidationError naming the point
	}
	fmt.Println(<-lines)
	fmt.Println(<-lines)

	// A space in a tag value would split the line: refused before sending.
	err = client.Send(context.Background(), []apptuit.DataPoint{
		{Metric: "sys.cpu.user", Tags: map[string]string{"city": "New York"}, Timestamp: time.Unix(1700000000, 0), Value: 1},
	})
	fmt.Println(err)
	// Output:
	// put sys.cpu.user 1700000000 42.5 cpu=0 host=web1
	// put sys.cpu.user 1700000000250 7.0 cpu=1 host=web1
	// apptuit: point 0 (metric "sys.cpu.user"): tag "city" value "New York" has white space (' '), which would split the line
}

// Send lines to InfluxDB's OpenTSDB telnet listener, which reads only
// second timestamps right: PrecisionSeconds writes every time in seconds,
// floored, as it does over HTTP.
func ExampleTelnetTCP_influxDB() {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // InfluxDB's [[opentsdb]] bind-address
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	lines := make(chan string)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	client, err := apptuit.New(apptuit.WithLineTransport(apptuit.TelnetTCP(ln.Addr().String())),
		apptuit.WithTimestampPrecision(apptuit.PrecisionSeconds))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	err = client.Send(context.Background(), []apptuit.DataPoint{
		{Metric: "sys.cpu.user", Tags: map[string]string{"cpu": "0"}, Timestamp: time.Unix(1700000000, 0), Value: 42.5},
		{Metric: "sys.cpu.user", Tags: map[string]string{"cpu": "1"}, Timestamp: time.Unix(1700000000, 750e6), Value: 7},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-lines)
	fmt.Println(<-lines)
	// Output:
	// put sys.cpu.user 1700000000 42.5 cpu=0
	// put sys.cpu.user 1700000000 7.0 cpu=1
}

// Forward points to a local XCollector agent over UDP, as Apptuit's Java
// client does: lines without "put ", in datagrams of at most 8 KiB.
func ExampleXCollectorUDP() {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // XCollector listens on 127.0.0.1:8953
	if err != nil {
		log.Fatal(err)
	}
	defer pc.Close()

	client, err := apptuit.New(apptuit.WithLineTransport(apptuit.XCollectorUDP(pc.LocalAddr().String())))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	s, _ := apptuit.NewTimeSeries("orders.count", map[string]string{"service": "orders"})
	s.AddUnix(1700000000, 1)
	s.AddUnix(1700000060, 3)
	if err := client.SendTimeSeries(context.Background(), []*apptuit.TimeSeries{s}); err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 8192)
	n, _, _ := pc.ReadFrom(buf)
	fmt.Print(string(buf[:n]))
	// Output:
	// orders.count 1700000000 1.0 service=orders
	// orders.count 1700000060 3.0 service=orders
}
