package reporter_test

import (
	"context"
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
		reporter.WithHostname("web-1"), // os.Hostname() by default
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
	// 19 meta points
}
