package reporter_test

import (
	"context"
	"expvar"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/apptuit-go/apptuit/reporter"
)

// A reporter started for the life of a service and stopped at its end, which
// delivers the last report.
func Example() {
	srv := apptuittest.NewServer() // stands in for https://api.apptuit.ai
	defer srv.Close()

	client, err := apptuit.New(apptuit.WithToken("my-token"), apptuit.WithEndpoint(srv.URL()), apptuit.WithIgnoreEnvTags())
	if err != nil {
		panic(err)
	}
	reg := metrics.NewRegistry()
	rep, err := reporter.New(client, reg,
		reporter.WithInterval(time.Minute),
		reporter.WithTags(map[string]string{"env": "dev", "service": "order-service"}),
		reporter.WithHostTag("web-1"), // os.Hostname() by default
	)
	if err != nil {
		panic(err)
	}
	rep.Start()

	orders, _ := reg.CounterWith("order_count", map[string]string{"city-code": "BLR"})
	orders.Inc()
	orders.Inc()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Stop(ctx); err != nil {
		panic(err)
	}
	var meta int
	for _, p := range srv.Points() {
		if strings.HasPrefix(p.Metric, "apptuit.reporter.") {
			meta++
			continue
		}
		keys := make([]string, 0, len(p.Tags))
		for k, v := range p.Tags {
			keys = append(keys, k+"="+v)
		}
		slices.Sort(keys)
		fmt.Println(p.Metric, p.Value, keys)
	}
	fmt.Println(meta, "meta points")
	// Output:
	// order_count.count 2 [city-code=BLR env=dev host=web-1 service=order-service]
	// 10 meta points
}

// Variables a service publishes with the expvar package.
var (
	exampleRequests = expvar.NewMap("example.requests")
	exampleLoad     = expvar.NewFloat("example.load")
)

// A reporter without a registry, pushing what a service already publishes
// with the expvar package (and a source of its own).
func ExampleExpvar() {
	srv := apptuittest.NewServer()
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("my-token"), apptuit.WithEndpoint(srv.URL()), apptuit.WithIgnoreEnvTags())
	if err != nil {
		panic(err)
	}
	exampleRequests.Init() // from zero: go test -count=2 runs examples twice
	exampleRequests.Add("GET", 3)
	exampleRequests.Add("POST", 1)
	exampleLoad.Set(0.75)

	queue := reporter.SourceFunc(func(ctx context.Context, emit reporter.Emit) error {
		emit("example.queue.length", map[string]string{"queue": "mail"}, 12)
		return nil
	})
	rep, err := reporter.New(client, nil, reporter.WithSource(reporter.Expvar()), reporter.WithSource(queue),
		reporter.WithHostTag("web-1"))
	if err != nil {
		panic(err)
	}
	if err := rep.ReportNow(context.Background()); err != nil {
		panic(err)
	}
	for _, p := range srv.Points() {
		if strings.HasPrefix(p.Metric, "example.") {
			keys := make([]string, 0, len(p.Tags))
			for k, v := range p.Tags {
				keys = append(keys, k+"="+v)
			}
			slices.Sort(keys)
			fmt.Println(p.Metric, p.Value, keys)
		}
	}
	// Output:
	// example.load 0.75 [host=web-1]
	// example.requests 3 [host=web-1 key=GET]
	// example.requests 1 [host=web-1 key=POST]
	// example.queue.length 12 [host=web-1 queue=mail]
}
