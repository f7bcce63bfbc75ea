// Command reporter instruments a loop with a counter, a timer and a gauge
// and lets a reporter push them every second: the README's reporter
// quickstart, kept compiling and running by CI.
//
//	APPTUIT_API_TOKEN=... go run ./examples/reporter [-endpoint URL]
package main

import (
	"context"
	"flag"
	"log"
	"math/rand/v2"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/apptuit-go/apptuit/reporter"
)

func main() {
	endpoint := flag.String("endpoint", apptuit.DefaultEndpoint, "API base URL")
	flag.Parse()

	client, err := apptuit.New(apptuit.WithEndpoint(*endpoint))
	if err != nil {
		log.Fatal(err)
	}
	registry := metrics.NewRegistry()
	// Get metrics once and keep them: updating one is a few nanoseconds, no allocation.
	// Getting one fails for an empty or undecodable name, or one taken by another kind.
	orders, err := registry.CounterWith("order_count", map[string]string{"city-code": "NYC"})
	if err != nil {
		log.Fatal(err)
	}
	latency, err := registry.Timer("order_latency")
	if err != nil {
		log.Fatal(err)
	}
	pending, err := registry.Gauge("orders_pending")
	if err != nil {
		log.Fatal(err)
	}

	rep, err := reporter.New(client, registry,
		reporter.WithInterval(time.Second),
		reporter.WithTags(map[string]string{"service": "order-service"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := rep.Start(); err != nil {
		log.Fatal(err)
	}

	for i := 0; i < 30; i++ {
		start := time.Now()
		time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond) // handle an order
		orders.Inc()
		latency.UpdateSince(start)
		pending.Set(float64(rand.IntN(10)))
	}

	// Stop makes one final report: nothing recorded is lost.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Stop(ctx); err != nil {
		log.Fatal(err)
	}
	log.Printf("reported %d orders", orders.Count())
}
