// Command spoolchild is a reporter with a spool, run by the reporter's
// kill tests (spool_kill_test.go): it reports a counter every -interval to
// -endpoint, keeping what it cannot deliver in -dir, and prints
// "reported <unix ms>" after each report that failed (so was spooled) once
// it has returned. SIGTERM makes it Stop (a final report) and exit 0;
// SIGKILL is what the tests use to make it die mid-flight.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/apptuit-go/apptuit/reporter"
)

func main() {
	endpoint := flag.String("endpoint", "", "API base URL")
	dir := flag.String("dir", "", "spool directory")
	interval := flag.Duration("interval", 200*time.Millisecond, "report interval")
	run := flag.String("run", "", "value of the run tag")
	flag.Parse()
	if err := serve(*endpoint, *dir, *interval, *run); err != nil {
		fmt.Fprintln(os.Stderr, "spoolchild:", err)
		os.Exit(1)
	}
}

func serve(endpoint, dir string, interval time.Duration, run string) error {
	client, err := apptuit.New(apptuit.WithEndpoint(endpoint), apptuit.WithToken("t"),
		apptuit.WithRetries(0), apptuit.WithTimeout(2*time.Second), apptuit.WithIgnoreEnvTags())
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	ticks, err := reg.Counter("ticks")
	if err != nil {
		return err
	}
	var last atomic.Int64 // the time of the report in progress, Unix ms
	clock := func() time.Time {
		now := time.Now()
		last.Store(now.Truncate(time.Millisecond).UnixMilli())
		ticks.Inc()
		return now
	}
	rep, err := reporter.New(client, reg, reporter.WithInterval(interval), reporter.WithClock(clock),
		reporter.WithHostTag("child"), reporter.WithIgnoreEnvTags(), reporter.WithTags(map[string]string{"run": run}),
		reporter.WithSpool(dir, 8<<20),
		reporter.WithErrorHandler(func(err error) {
			fmt.Printf("reported %d\n", last.Load())
			fmt.Fprintf(os.Stderr, "report %d: %v\n", last.Load(), err)
		}))
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	if err := rep.Start(); err != nil {
		return err
	}
	fmt.Println("started")
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = rep.Stop(ctx)
	fmt.Printf("stopped %v\n", err)
	return nil
}
