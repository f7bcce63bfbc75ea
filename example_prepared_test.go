package apptuit_test

import (
	"context"
	"log"
	"time"

	"github.com/apptuit-go/apptuit"
)

// Series sent again and again are prepared once: name and tags are checked
// and encoded then, and every later point costs only its timestamp and
// value.
func ExampleClient_SendPrepared() {
	srv := fakeAPI()
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithToken("my-token"), apptuit.WithEndpoint(srv.URL), apptuit.WithIgnoreEnvTags())
	if err != nil {
		log.Fatal(err)
	}
	count, err := client.PrepareSeries("orders.count", map[string]string{"city": "BLR"})
	if err != nil {
		log.Fatal(err) // a *apptuit.ValidationError naming the rule broken
	}
	sum, err := count.WithMetric("orders.sum") // same tags, encoded once
	if err != nil {
		log.Fatal(err)
	}
	points := make([]apptuit.PreparedPoint, 0, 2)
	for range 1 { // e.g. once a minute
		now := time.Unix(1700000000, 0).UnixMilli()
		points = append(points[:0],
			apptuit.PreparedPoint{Series: count, UnixMilli: now, Value: 42},
			apptuit.PreparedPoint{Series: sum, UnixMilli: now, Value: 1234.5})
		if err := client.SendPrepared(context.Background(), points); err != nil {
			log.Print(err)
		}
	}
	// Output:
	// POST /api/put details
	// [{"metric":"orders.count","tags":{"city":"BLR"},"timestamp":1700000000,"value":42.0},{"metric":"orders.sum","tags":{"city":"BLR"},"timestamp":1700000000,"value":1234.5}]
}
