// Command spoolchild is a reporter with a spool, run by the reporter's
// kill and drain tests (spool_kill_test.go, spool_drain_test.go): it
// reports a counter every -interval to -endpoint, keeping what it cannot
// deliver in -dir, and prints "reported <unix ms>" after each report that
// failed (so was spooled) once it has returned. SIGTERM makes it Stop (a
// final report) and exit 0; SIGKILL is what the tests use to make it die
// mid-flight.
//
// With -heap it also samples its heap every millisecond from the start
// (runtime/metrics: the bytes of heap objects, live or not yet swept, and
// the GC's heap goal) and, once stopped, prints
// "heap peak=<bytes> goal=<bytes> hwm=<bytes> base=<bytes>": the largest
// samples, and the peak resident set (VmHWM) at the end and at the start.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apptuit-go/apptuit"
	apmetrics "github.com/apptuit-go/apptuit/metrics"
	"github.com/apptuit-go/apptuit/reporter"
)

func main() {
	endpoint := flag.String("endpoint", "", "API base URL")
	dir := flag.String("dir", "", "spool directory")
	maxBytes := flag.Int64("max", 8<<20, "spool size limit (bytes)")
	interval := flag.Duration("interval", 200*time.Millisecond, "report interval")
	timeout := flag.Duration("timeout", 2*time.Second, "the client's timeout")
	batch := flag.Int("batch", apptuit.DefaultBatchSize, "the client's batch size")
	run := flag.String("run", "", "value of the run tag")
	heap := flag.Bool("heap", false, "sample the heap; print its peak once stopped")
	flag.Parse()
	var h *heapSampler
	if *heap {
		h = startHeapSampler()
	}
	if err := serve(*endpoint, *dir, *maxBytes, *interval, *timeout, *batch, *run); err != nil {
		fmt.Fprintln(os.Stderr, "spoolchild:", err)
		os.Exit(1)
	}
	if h != nil {
		peak, goal := h.stop()
		fmt.Printf("heap peak=%d goal=%d hwm=%d base=%d\n", peak, goal, vmHWM(), h.base)
	}
}

func serve(endpoint, dir string, maxBytes int64, interval, timeout time.Duration, batch int, run string) error {
	client, err := apptuit.New(apptuit.WithEndpoint(endpoint), apptuit.WithToken("t"),
		apptuit.WithRetries(0), apptuit.WithTimeout(timeout), apptuit.WithBatchSize(batch), apptuit.WithIgnoreEnvTags())
	if err != nil {
		return err
	}
	reg := apmetrics.NewRegistry()
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
		reporter.WithSpool(dir, maxBytes),
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

// heapSampler reads the heap's figures every millisecond. The bytes of heap
// objects (runtime.MemStats.HeapAlloc, without stopping the world) grow
// between collections and fall as a cycle sweeps: sampled this often, the
// largest sample misses the true peak by at most what the process
// allocates in a millisecond. The heap goal is what the collector lets the
// heap grow to before the next cycle.
type heapSampler struct {
	base       int64 // VmHWM at the start
	peak, goal atomic.Uint64
	done       chan struct{}
	ended      chan struct{}
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{base: vmHWM(), done: make(chan struct{}), ended: make(chan struct{})}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	read := func() {
		metrics.Read(samples)
		h.peak.Store(max(h.peak.Load(), samples[0].Value.Uint64()))
		h.goal.Store(max(h.goal.Load(), samples[1].Value.Uint64()))
	}
	read()
	go func() {
		defer close(h.ended)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return h
}

func (h *heapSampler) stop() (peak, goal uint64) {
	close(h.done)
	<-h.ended
	return h.peak.Load(), h.goal.Load()
}

// vmHWM returns the process's peak resident set size (Linux; -1 elsewhere).
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			f := bytes.Fields(v)
			if len(f) == 2 && string(f[1]) == "kB" {
				if kb, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return -1
}
