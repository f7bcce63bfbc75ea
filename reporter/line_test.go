package reporter

import (
	"bufio"
	"context"
	"errors"
	"net"

	"sync"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/leakcheck"
	"github.com/apptuit-go/apptuit/metrics"
)

// TestReporterOverTelnet: a reporter whose client has a line transport
// sends its reports as telnet lines, keeps them while the listener is down
// (a retryable *apptuit.NetworkError) and delivers them when it is back.
func TestReporterOverTelnet(t *testing.T) {
	clearEnv(t)
	leakcheck.AtCleanup(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	var mu sync.Mutex
	var lines []string
	var wg sync.WaitGroup
	serve := func(l net.Listener) {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					mu.Lock()
					lines = append(lines, sc.Text())
					mu.Unlock()
				}
			}()
		}
	}
	wg.Add(1)
	go serve(l)

	client, err := apptuit.New(apptuit.WithLineTransport(apptuit.TelnetTCP(addr)), apptuit.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	cnt, _ := reg.Counter("jobs")
	var herr []error
	r, err := New(client, reg, WithClock(steppingClock(t0)), WithHostTag("h"), WithIgnoreEnvTags(),
		WithErrorHandler(func(err error) { herr = append(herr, err) }))
	if err != nil {
		t.Fatal(err)
	}
	cnt.Inc()
	mustReport(t, r)
	wantLine := "put jobs.count 1700000000 1.0 host=h"
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return contains(lines, wantLine) })

	// Down: the listener closes and nothing listens.
	l.Close()
	client.Close()
	cnt.Inc()
	err = r.ReportNow(context.Background())
	var ne *apptuit.NetworkError
	if !errors.As(err, &ne) || !apptuit.IsRetryable(err) {
		t.Fatalf("report with the listener down: %v", err)
	}
	if r.buf.len() == 0 {
		t.Fatal("nothing kept for retry")
	}
	l2 := mustListen(t, addr)
	wg.Add(1)
	go serve(l2)
	cnt.Inc()
	mustReport(t, r)
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return contains(lines, "put jobs.count 1700000001 2.0 host=h") && contains(lines, "put jobs.count 1700000002 3.0 host=h")
	})
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	client.Close()
	l2.Close()
	wg.Wait()
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
