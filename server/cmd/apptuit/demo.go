package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/apptuit-go/apptuit/reporter"
	"github.com/apptuit-go/apptuit/server"
)

var demoCmd = &command{
	name:     "demo",
	summary:  "run an instrumented demo service against an embedded server",
	synopsis: "apptuit demo [--duration 10s] [--interval 1s] [--web [--listen 127.0.0.1:0]]",
	about: `Demo shows the library end to end without an account or a network: it
starts the local backend on a free loopback port, runs a simulated order
service instrumented with package metrics (a counter per city, a timer,
a meter, a histogram and a queue-size gauge) and reports them with package
reporter every --interval, printing a progress line each second. After
--duration it stops the reporter (which makes a final report), queries the
data back with the Apptuit query language and prints it as a table and as
charts. It exits 0 when the queried data holds the demo's metrics.

The points are named as the reporter sends them: order_count.count (tag city),
order.processed.count, order.processed.1m_rate, order.processing.time.avg (in
seconds), order.amount.95_percentile, order.queue.size.value, ... all tagged
service=orders, plus the Go runtime metrics (go.goroutines, go.heap.bytes, ...)
and the reporter's own (apptuit.reporter.send.*).

With --web the embedded server also serves a web page at its URL (printed
at the start, with the API token to type into the page): the metrics
received, a query box with a chart, the request log. It refreshes while the
demo runs, and the server keeps serving after the demo until Ctrl-C
(SIGINT) or SIGTERM, which then ends the command with status 0.`,
	examples: `  apptuit demo
  apptuit demo --duration 30s --interval 5s
  apptuit demo --web --listen 127.0.0.1:4243   # then open http://127.0.0.1:4243/
  go run ./cmd/apptuit demo       # from a clone of the repository`,
	flags: func() *flag.FlagSet { fs, _ := demoFlags(); return fs },
	run:   runDemo,
}

type demoOpts struct {
	duration time.Duration
	interval time.Duration
	width    int
	web      bool
	listen   string
}

func demoFlags() (*flag.FlagSet, *demoOpts) {
	o := &demoOpts{}
	fs := newFlagSet("demo")
	durationVar(fs, &o.duration, "duration", 10*time.Second, "how long the order service runs, a `duration` (at most 5m)")
	durationVar(fs, &o.interval, "interval", time.Second, "reporting interval, a `duration`")
	fs.IntVar(&o.width, "width", 80, "chart width in columns")
	fs.BoolVar(&o.web, "web", false, "serve the web page too, and keep serving after the demo until Ctrl-C")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback `address` of the embedded server (port 0 picks a free port)")
	return fs, o
}

// The demo's queries: the table and the charts.
const (
	demoTableQuery = `orders = fetch('order_count.count').series_sum();
latency_ms = fetch('order.processing.time.avg').mul(1000);
queue = fetch('order.queue.size.value');
output(orders, latency_ms, queue)`
	demoChartQuery = `orders_per_s = fetch('order_count.count').series_sum().rate();
latency_ms = fetch('order.processing.time.avg').mul(1000);
output(orders_per_s, latency_ms)`
)

// demoToken is the API token of the demo's embedded server: not a secret,
// the demo prints it for the web page.
const demoToken = "demo-token"

var demoCities = []string{"NYC", "SF", "LDN"}

// orderService is the simulated, instrumented service.
type orderService struct {
	orders  []*metrics.Counter // per city
	proc    *metrics.Meter
	latency *metrics.Timer
	amount  *metrics.Histogram
	queue   *metrics.Gauge
}

func newOrderService(reg *metrics.Registry) (*orderService, error) {
	s := &orderService{}
	var errs []error
	for _, city := range demoCities {
		name, err := apptuit.EncodeMetric("order_count", map[string]string{"city": city})
		errs = append(errs, err)
		c, err := reg.Counter(name) // e.g. order_count{"city": "NYC"}
		errs = append(errs, err)
		s.orders = append(s.orders, c)
	}
	var err error
	s.proc, err = reg.Meter("order.processed")
	errs = append(errs, err)
	s.latency, err = reg.Timer("order.processing.time")
	errs = append(errs, err)
	s.amount, err = reg.Histogram("order.amount")
	errs = append(errs, err)
	s.queue, err = reg.Gauge("order.queue.size")
	errs = append(errs, err)
	return s, errors.Join(errs...)
}

// run takes orders every 10 ms until ctx ends. The simulation is seeded, so
// the numbers differ between runs only by timing.
func (s *orderService) run(ctx context.Context) {
	rng := rand.New(rand.NewPCG(4242, 1))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	queue := 5.0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		queue = min(max(queue+float64(rng.IntN(5)-2), 0), 40)
		s.queue.Set(queue)
		for range rng.IntN(3) {
			s.orders[[]int{0, 0, 1, 2}[rng.IntN(4)]].Inc() // NYC twice as busy as SF or LDN
			s.proc.Mark(1)
			ms := 5 + queue/2 + rng.ExpFloat64()*8
			s.latency.Update(time.Duration(ms * float64(time.Millisecond)))
			s.amount.Update(float64(5 + rng.IntN(195)))
		}
	}
}

func (s *orderService) progress() string {
	var b strings.Builder
	var total int64
	for i, c := range s.orders {
		n := c.Count()
		total += n
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", demoCities[i], n)
	}
	return fmt.Sprintf("orders %d (%s)  queue %.0f", total, b.String(), s.queue.Value())
}

func runDemo(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs, o := demoFlags()
	pos, code, done := parseFlags(fs, "demo", args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) > 0:
		return usageError(stderr, "demo", fs, "unexpected argument %q", pos[0])
	case o.duration <= 0 || o.duration > 5*time.Minute:
		return usageError(stderr, "demo", fs, "--duration must be more than 0 and at most 5m")
	case o.interval <= 0:
		return usageError(stderr, "demo", fs, "--interval must be more than 0")
	}
	if loop, err := isLoopback(o.listen); err != nil || !loop {
		return usageError(stderr, "demo", fs, "bad --listen address %q: must be a loopback host and a port, e.g. 127.0.0.1:4243", o.listen)
	}
	began := time.Now()
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "apptuit demo: %v\n", err)
		return exitFail
	}

	// The embedded server, counting what it stores.
	var puts, stored atomic.Int64
	opts := []server.Option{
		server.WithToken(demoToken),
		server.WithRequestLog(func(r server.Request) {
			if r.Path == "/api/put" && r.Status/100 == 2 {
				puts.Add(1)
				stored.Add(int64(r.Accepted))
			}
		}),
	}
	if o.web {
		opts = append(opts, server.WithWebPage())
	}
	srv, err := server.New(opts...)
	if err != nil {
		l.Close()
		fmt.Fprintf(stderr, "apptuit demo: %v\n", err)
		return exitFail
	}
	go srv.Serve(l)
	defer srv.Close()
	url := "http://" + l.Addr().String()
	fmt.Fprintf(stdout, "embedded Apptuit API listening on %s\n", url)
	if o.web {
		fmt.Fprintf(stdout, "web page at %s/ (API token: %s)\n", url, demoToken)
	}

	client, err := apptuit.New(apptuit.WithEndpoint(url), apptuit.WithToken(demoToken), apptuit.WithIgnoreEnvTags())
	if err != nil {
		fmt.Fprintf(stderr, "apptuit demo: %v\n", err)
		return exitFail
	}
	reg := metrics.NewRegistry()
	svc, err := newOrderService(reg)
	if err != nil {
		fmt.Fprintf(stderr, "apptuit demo: %v\n", err)
		return exitFail
	}
	rep, err := reporter.New(client, reg,
		reporter.WithInterval(o.interval),
		reporter.WithTags(map[string]string{"service": "orders"}),
		reporter.WithHostTag(""),
		reporter.WithIgnoreEnvTags(), // self-contained: APPTUIT_TAGS must not change the demo
		reporter.WithSource(reporter.RuntimeMetrics()),
		reporter.WithErrorWriter(stderr),
	)
	if err != nil {
		fmt.Fprintf(stderr, "apptuit demo: %v\n", err)
		return exitFail
	}
	if err := rep.Start(); err != nil {
		fmt.Fprintf(stderr, "apptuit demo: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "order service running for %s, reporting every %s\n", o.duration, o.interval)

	start := time.Now()
	simCtx, stopSim := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); svc.run(simCtx) }()
	tick := time.NewTicker(time.Second)
	deadline := time.NewTimer(o.duration)
	interrupted := false
loop:
	for {
		select {
		case <-ctx.Done():
			interrupted = true
			break loop
		case <-deadline.C:
			break loop
		case <-tick.C:
			fmt.Fprintf(stdout, "[%3.0fs] %s  reports %d, points stored %d\n",
				time.Since(start).Seconds(), svc.progress(), puts.Load(), stored.Load())
		}
	}
	tick.Stop()
	deadline.Stop()

	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = rep.Stop(stopCtx)
	stopSim()
	wg.Wait()
	if err != nil {
		fmt.Fprintf(stderr, "apptuit demo: final report: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "stopped after %.1fs; final report sent: %s  reports %d, points stored %d\n",
		time.Since(start).Seconds(), svc.progress(), puts.Load(), stored.Load())
	if interrupted {
		fmt.Fprintln(stderr, "apptuit demo: interrupted")
		return exitFail
	}

	// Query the data back.
	qctx, cancelQ := context.WithTimeout(ctx, 10*time.Second)
	defer cancelQ()
	qStart, qEnd := start.Add(-time.Second), time.Now().Add(time.Second)
	names := map[string]bool{}
	for _, se := range srv.Series() {
		names[se.Metric] = true
	}
	fmt.Fprintf(stdout, "\nthe server holds %d points of %d metrics, among them %s\n", srv.Stats().Points, len(names), sampleNames(names))
	for i, q := range []struct{ ql, format string }{{demoTableQuery, "table"}, {demoChartQuery, "chart"}} {
		fmt.Fprintf(stdout, "\n--- %s of the query %s\n\n", q.format, strings.ReplaceAll(q.ql, "\n", " "))
		res, err := client.Query(qctx, q.ql, qStart, qEnd)
		if err != nil {
			fmt.Fprintf(stderr, "apptuit demo: query: %v\n", err)
			return exitFail
		}
		if i == 0 && (res.Len() != 3 || countSeries(res) != 3) {
			fmt.Fprintf(stderr, "apptuit demo: the query found %d outputs and %d series, want 3 and 3\n", res.Len(), countSeries(res))
			return exitFail
		}
		if err := printResult(stdout, res, q.format, o.width, 8); err != nil {
			fmt.Fprintf(stderr, "apptuit demo: %v\n", err)
			return exitFail
		}
	}
	fmt.Fprintf(stdout, "\ndemo done in %.1fs\n", time.Since(began).Seconds())
	if o.web {
		fmt.Fprintf(stdout, "the web page keeps serving at %s/ (API token: %s); Ctrl-C to stop\n", url, demoToken)
		<-ctx.Done()
		srv.Close()
		fmt.Fprintln(stdout, "stopped")
	}
	return exitOK
}

// demoNames are metrics the demo shows as examples of what was stored.
var demoNames = []string{"order_count.count", "order.processed.1m_rate", "order.processing.time.avg",
	"order.processing.time.99_percentile", "order.amount.95_percentile", "order.queue.size.value",
	reporter.GoHeapBytes, reporter.MetaSuccessful + ".count"}

// sampleNames lists those of demoNames that are among names.
func sampleNames(names map[string]bool) string {
	var list []string
	for _, n := range demoNames {
		if names[n] {
			list = append(list, n)
		}
	}
	return strings.Join(list, ", ")
}
