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
	if err := o.check(pos); err != nil {
		return usageError(stderr, "demo", fs, "%v", err)
	}
	if err := o.run(ctx, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "apptuit demo: %v\n", err)
		return exitFail
	}
	return exitOK
}

// check checks the arguments and the flags.
func (o *demoOpts) check(pos []string) error {
	switch {
	case len(pos) > 0:
		return fmt.Errorf("unexpected argument %q", pos[0])
	case o.duration <= 0 || o.duration > 5*time.Minute:
		return errors.New("--duration must be more than 0 and at most 5m")
	case o.interval <= 0:
		return errors.New("--interval must be more than 0")
	}
	if loop, err := isLoopback(o.listen); err != nil || !loop {
		return fmt.Errorf("bad --listen address %q: must be a loopback host and a port, e.g. 127.0.0.1:4243", o.listen)
	}
	return nil
}

// run runs the demo: the embedded server, the order service reporting to
// it for --duration, the data queried back; with --web, the server keeps
// serving until ctx ends.
func (o *demoOpts) run(ctx context.Context, stdout, stderr io.Writer) error {
	began := time.Now()
	d, err := startDemoServer(o.listen, o.web)
	if err != nil {
		return err
	}
	defer d.srv.Close()
	fmt.Fprintf(stdout, "embedded Apptuit API listening on %s\n", d.url)
	if o.web {
		fmt.Fprintf(stdout, "web page at %s/ (API token: %s)\n", d.url, demoToken)
	}
	client, err := apptuit.New(apptuit.WithEndpoint(d.url), apptuit.WithToken(demoToken), apptuit.WithIgnoreEnvTags())
	if err != nil {
		return err
	}
	start, err := o.simulate(ctx, client, d, stdout, stderr)
	if err != nil {
		return err
	}
	if err := d.queryBack(ctx, client, start, o.width, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ndemo done in %.1fs\n", time.Since(began).Seconds())
	if o.web {
		fmt.Fprintf(stdout, "the web page keeps serving at %s/ (API token: %s); Ctrl-C to stop\n", d.url, demoToken)
		<-ctx.Done()
		d.srv.Close()
		fmt.Fprintln(stdout, "stopped")
	}
	return nil
}

// demoServer is the demo's embedded server, counting the puts it stored
// and their points.
type demoServer struct {
	srv          *server.Server
	url          string
	puts, stored atomic.Int64
}

// startDemoServer starts the embedded server on listen, with the web page
// when web is set.
func startDemoServer(listen string, web bool) (*demoServer, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	d := &demoServer{url: "http://" + l.Addr().String()}
	opts := []server.Option{server.WithToken(demoToken), server.WithRequestLog(d.count)}
	if web {
		opts = append(opts, server.WithWebPage())
	}
	if d.srv, err = server.New(opts...); err != nil {
		l.Close()
		return nil, err
	}
	go d.srv.Serve(l)
	return d, nil
}

// count counts a put that was stored.
func (d *demoServer) count(r server.Request) {
	if r.Path == "/api/put" && r.Status/100 == 2 {
		d.puts.Add(1)
		d.stored.Add(int64(r.Accepted))
	}
}

// simulate runs the order service, reported to client every --interval,
// for --duration (or until ctx ends: an error), printing its progress every
// second, and stops the reporter, whose final report must succeed. It
// returns when the service started.
func (o *demoOpts) simulate(ctx context.Context, client *apptuit.Client, d *demoServer, stdout, stderr io.Writer) (time.Time, error) {
	reg := metrics.NewRegistry()
	svc, err := newOrderService(reg)
	if err != nil {
		return time.Time{}, err
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
		return time.Time{}, err
	}
	if err := rep.Start(); err != nil {
		return time.Time{}, err
	}
	fmt.Fprintf(stdout, "order service running for %s, reporting every %s\n", o.duration, o.interval)

	start := time.Now()
	simCtx, stopSim := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); svc.run(simCtx) }()
	interrupted := d.progress(ctx, o.duration, start, svc, stdout)

	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = rep.Stop(stopCtx)
	stopSim()
	wg.Wait()
	if err != nil {
		return start, fmt.Errorf("final report: %w", err)
	}
	fmt.Fprintf(stdout, "stopped after %.1fs; final report sent: %s  reports %d, points stored %d\n",
		time.Since(start).Seconds(), svc.progress(), d.puts.Load(), d.stored.Load())
	if interrupted {
		return start, errors.New("interrupted")
	}
	return start, nil
}

// progress prints the progress of svc every second until duration has
// passed since start (false) or ctx ends (true).
func (d *demoServer) progress(ctx context.Context, duration time.Duration, start time.Time, svc *orderService, stdout io.Writer) (interrupted bool) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.NewTimer(duration)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return true
		case <-deadline.C:
			return false
		case <-tick.C:
			fmt.Fprintf(stdout, "[%3.0fs] %s  reports %d, points stored %d\n",
				time.Since(start).Seconds(), svc.progress(), d.puts.Load(), d.stored.Load())
		}
	}
}

// queryBack prints what the server holds, then the demo's queries over the
// time since start as a table and as charts: the table must have the
// demo's three outputs of one series each.
func (d *demoServer) queryBack(ctx context.Context, client *apptuit.Client, start time.Time, width int, stdout io.Writer) error {
	qctx, cancelQ := context.WithTimeout(ctx, 10*time.Second)
	defer cancelQ()
	qStart, qEnd := start.Add(-time.Second), time.Now().Add(time.Second)
	names := map[string]bool{}
	for _, se := range d.srv.Series() {
		names[se.Metric] = true
	}
	fmt.Fprintf(stdout, "\nthe server holds %d points of %d metrics, among them %s\n", d.srv.Stats().Points, len(names), sampleNames(names))
	for i, q := range []struct{ ql, format string }{{demoTableQuery, "table"}, {demoChartQuery, "chart"}} {
		fmt.Fprintf(stdout, "\n--- %s of the query %s\n\n", q.format, strings.ReplaceAll(q.ql, "\n", " "))
		res, err := client.Query(qctx, q.ql, qStart, qEnd)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		if i == 0 && (res.Len() != 3 || countSeries(res) != 3) {
			return fmt.Errorf("the query found %d outputs and %d series, want 3 and 3", res.Len(), countSeries(res))
		}
		if err := printResult(stdout, res, q.format, width, 8); err != nil {
			return err
		}
	}
	return nil
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
