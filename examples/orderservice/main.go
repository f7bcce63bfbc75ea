// Command orderservice is apptuit-py's OrderService example in Go: a service
// that counts orders per city code (tags carried in encoded metric names),
// times their processing, meters requests and reports the size of its queue,
// all sent to Apptuit by a reporter.
//
//	APPTUIT_API_TOKEN=... go run ./examples/orderservice
//	go run ./examples/orderservice -endpoint http://127.0.0.1:4242 -token dev -duration 3s
//
// It handles -orders simulated orders spread over -duration, then stops the
// reporter, which delivers everything recorded, and exits. The endpoint is
// -endpoint, else APPTUIT_API_ENDPOINT, else https://api.apptuit.ai; the token is
// -token, else APPTUIT_API_TOKEN (or APPTUIT_PY_TOKEN). APPTUIT_TAGS and
// APPTUIT_DISABLE_HOST_TAG are honoured as by the reporter.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/apptuit-go/apptuit/reporter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orderservice:", err)
		os.Exit(1)
	}
}

// Order is one order to handle.
type Order struct {
	ID       int
	CityCode string
}

// OrderService handles orders and records metrics about them.
type OrderService struct {
	registry *metrics.Registry
	reporter *reporter.Reporter

	mu            sync.Mutex
	orderCounters map[string]*metrics.Counter // by city code

	requests *metrics.Meter
	timer    *metrics.Timer
	queue    chan Order
}

// NewOrderService creates the service's registry and reporter and starts
// reporting.
func NewOrderService(client *apptuit.Client, interval time.Duration, errOut io.Writer) (*OrderService, error) {
	s := &OrderService{
		registry:      metrics.NewRegistry(),
		orderCounters: make(map[string]*metrics.Counter),
		queue:         make(chan Order, 1000),
	}
	var err error
	if s.requests, err = s.registry.Meter("order_requests_rate"); err != nil {
		return nil, err
	}
	if s.timer, err = s.registry.Timer("order_requests_processing_time"); err != nil {
		return nil, err
	}
	// A callback gauge: read at each report.
	if _, err = s.registry.GaugeFunc("order_queue_size", func() float64 { return float64(len(s.queue)) }); err != nil {
		return nil, err
	}
	s.reporter, err = reporter.New(client, s.registry,
		reporter.WithInterval(interval),
		reporter.WithTags(map[string]string{"env": "dev", "service": "order-service"}),
		reporter.WithSource(reporter.RuntimeMetrics()),
		reporter.WithErrorWriter(errOut),
	)
	if err != nil {
		return nil, err
	}
	return s, s.reporter.Start()
}

// orderCounter returns the counter of a city code, creating it the first
// time: the tags travel in the encoded name, order_count{"city-code": "BLR"}.
func (s *OrderService) orderCounter(cityCode string) (*metrics.Counter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.orderCounters[cityCode]; c != nil {
		return c, nil
	}
	name, err := apptuit.EncodeMetric("order_count", map[string]string{"city-code": cityCode})
	if err != nil {
		return nil, err
	}
	c, err := s.registry.Counter(name)
	if err != nil {
		return nil, err
	}
	s.orderCounters[cityCode] = c
	return c, nil
}

// Submit queues an order.
func (s *OrderService) Submit(o Order) {
	s.requests.Mark(1)
	s.queue <- o
}

// HandleOrder counts and processes one order.
func (s *OrderService) HandleOrder(o Order) error {
	c, err := s.orderCounter(o.CityCode)
	if err != nil {
		return err
	}
	c.Inc()
	s.timer.Time(func() { processOrder(o) })
	return nil
}

func processOrder(Order) {
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
}

// Shutdown stops the reporter, which makes a last report delivering
// everything recorded (and anything kept from failed reports) within ctx.
func (s *OrderService) Shutdown(ctx context.Context) error {
	return s.reporter.Stop(ctx)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orderservice", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", os.Getenv("APPTUIT_API_ENDPOINT"), "API base URL (default $APPTUIT_API_ENDPOINT, else "+apptuit.DefaultEndpoint+")")
	token := fs.String("token", "", "API token (default $APPTUIT_API_TOKEN)")
	interval := fs.Duration("interval", time.Second, "reporting interval")
	duration := fs.Duration("duration", 3*time.Second, "how long to take orders")
	orders := fs.Int("orders", 300, "orders to handle")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *orders < 0 || *duration < 0 {
		return errors.New("-orders and -duration must not be negative")
	}
	opts := []apptuit.Option{apptuit.WithUserAgent("orderservice/1.0")}
	if *endpoint != "" {
		opts = append(opts, apptuit.WithEndpoint(*endpoint))
	}
	if *token != "" {
		opts = append(opts, apptuit.WithToken(*token))
	}
	client, err := apptuit.New(opts...)
	if err != nil {
		return err
	}
	svc, err := NewOrderService(client, *interval, stderr)
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	var handleErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for o := range svc.queue {
			if err := svc.HandleOrder(o); err != nil && handleErr == nil {
				handleErr = err
			}
		}
	}()
	cities := []string{"BLR", "HYD", "NYC", "SFO", "LON"}
	gap := time.Duration(0)
	if *orders > 0 {
		gap = *duration / time.Duration(*orders)
	}
	submitted := 0
	tick := time.NewTicker(max(gap, time.Microsecond))
loop:
	for submitted < *orders {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		svc.Submit(Order{ID: submitted, CityCode: cities[rand.IntN(len(cities))]})
		submitted++
	}
	tick.Stop()
	close(svc.queue)
	wg.Wait()

	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.Shutdown(sctx); err != nil {
		return fmt.Errorf("final report: %w", err)
	}
	if handleErr != nil {
		return handleErr
	}
	fmt.Fprintf(stdout, "handled %d orders; metrics delivered to %s\n", submitted, client.Endpoint())
	return nil
}
