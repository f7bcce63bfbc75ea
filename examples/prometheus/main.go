// Command prometheus is an HTTP service instrumented with Prometheus'
// client_golang — it still serves /metrics for a scraper — whose metrics
// the apptuit reporter also pushes to Apptuit, through the prombridge
// bridge, every -interval, with a final report when it stops.
//
//	APPTUIT_API_TOKEN=... go run ./examples/prometheus
//	go run ./examples/prometheus -endpoint http://127.0.0.1:4242 -token dev -duration 2s
//
// It listens on -listen. With -duration, it sends itself -requests
// requests spread over that time (a few to a path that does not exist),
// reads its own /metrics, then shuts down: the HTTP server first, then the
// reporter, whose final report delivers everything recorded. Without
// -duration it serves until interrupted. The endpoint is -endpoint, else
// APPTUIT_API_ENDPOINT, else https://api.apptuit.ai; the token is -token,
// else APPTUIT_API_TOKEN. APPTUIT_TAGS and APPTUIT_DISABLE_HOST_TAG are
// honoured as by the reporter.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/apptuit-go/apptuit"
	prombridge "github.com/apptuit-go/apptuit/bridge/prometheus"
	"github.com/apptuit-go/apptuit/reporter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus:", err)
		os.Exit(1)
	}
}

// newRegistry returns the service's registry, with the Go and process
// collectors and the instrumented handler of /hello.
func newRegistry() (*prometheus.Registry, http.Handler) {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "HTTP requests by handler, method and code.",
	}, []string{"handler", "method", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "HTTP request latency.",
		Buckets: []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1},
	}, []string{"handler", "method"})
	reg.MustRegister(requests, duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	mux := http.NewServeMux()
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond) // some work
		fmt.Fprintln(w, "hello")
	})
	instrument := func(name string, h http.Handler) http.Handler {
		l := prometheus.Labels{"handler": name}
		return promhttp.InstrumentHandlerDuration(duration.MustCurryWith(l),
			promhttp.InstrumentHandlerCounter(requests.MustCurryWith(l), h))
	}
	mux.Handle("/hello", instrument("/hello", hello))
	mux.Handle("/", instrument("other", http.NotFoundHandler()))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return reg, mux
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prometheus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", os.Getenv("APPTUIT_API_ENDPOINT"), "API base URL (default $APPTUIT_API_ENDPOINT, else "+apptuit.DefaultEndpoint+")")
	token := fs.String("token", "", "API token (default $APPTUIT_API_TOKEN)")
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve /hello and /metrics on")
	interval := fs.Duration("interval", time.Second, "reporting interval")
	duration := fs.Duration("duration", 0, "send requests to itself for this long, then stop (0: serve until interrupted)")
	requests := fs.Int("requests", 100, "requests to send to itself with -duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *requests < 0 || *duration < 0 {
		return errors.New("-requests and -duration must not be negative")
	}
	client, err := newClient(*endpoint, *token)
	if err != nil {
		return err
	}

	reg, handler := newRegistry()
	src, err := prombridge.New(reg)
	if err != nil {
		return err
	}
	rep, err := reporter.New(client, nil, reporter.WithSource(src),
		reporter.WithInterval(*interval),
		reporter.WithTags(map[string]string{"service": "hello-service"}),
		reporter.WithErrorWriter(stderr))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := rep.Start(); err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "serving %s/hello and %s/metrics; pushing to %s every %v\n", base, base, client.Endpoint(), *interval)

	sent, families, loadErr := exercise(ctx, base, *requests, *duration)
	if err := stop(srv, served, rep); err != nil {
		return err
	}
	if loadErr != nil {
		return loadErr
	}
	fmt.Fprintf(stdout, "served %d requests; /metrics had %d families; metrics delivered to %s\n", sent, families, client.Endpoint())
	return nil
}

// newClient returns the Apptuit client: endpoint and token when given,
// else the environment's.
func newClient(endpoint, token string) (*apptuit.Client, error) {
	opts := []apptuit.Option{apptuit.WithUserAgent("prometheus-example/1.0")}
	if endpoint != "" {
		opts = append(opts, apptuit.WithEndpoint(endpoint))
	}
	if token != "" {
		opts = append(opts, apptuit.WithToken(token))
	}
	return apptuit.New(opts...)
}

// exercise sends n requests to the service at base over d, then reads its
// /metrics, and returns how many requests were answered and how many
// metric families /metrics had; with d = 0 it waits for ctx instead.
func exercise(ctx context.Context, base string, n int, d time.Duration) (sent, families int, err error) {
	if d == 0 {
		<-ctx.Done()
		return 0, 0, nil
	}
	if sent, err = load(ctx, base, n, d); err != nil {
		return sent, 0, err
	}
	families, err = scrape(ctx, base)
	return sent, families, err
}

// stop stops serving, then stops the reporter: its final report carries
// the last requests.
func stop(srv *http.Server, served <-chan error, rep *reporter.Reporter) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutting the server down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := rep.Stop(ctx); err != nil {
		return fmt.Errorf("final report: %w", err)
	}
	return nil
}

// load sends n requests to base spread over d: one in ten to a path that
// does not exist. It returns how many were answered.
func load(ctx context.Context, base string, n int, d time.Duration) (int, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(max(d/time.Duration(max(n, 1)), time.Microsecond))
	defer tick.Stop()
	for i := range n {
		select {
		case <-ctx.Done():
			return i, nil
		case <-tick.C:
		}
		path := "/hello"
		if i%10 == 9 {
			path = "/missing"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return i, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return i, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return n, nil
}

// scrape reads base/metrics as Prometheus would and counts its families.
func scrape(ctx context.Context, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "http_requests_total{") {
		return 0, fmt.Errorf("/metrics answered %s without http_requests_total", resp.Status)
	}
	return strings.Count(string(body), "# TYPE "), nil
}
