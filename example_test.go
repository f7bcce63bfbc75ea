package apptuit_test

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apptuit-go/apptuit"
)

// fakeAPI stands in for api.apptuit.ai: it prints each put body it gets.
func fakeAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(zr)
		fmt.Printf("%s %s %s\n%s\n", r.Method, r.URL.Path, r.URL.RawQuery, body)
		w.WriteHeader(http.StatusNoContent)
	}))
}

func ExampleNew() {
	// Token and global tags may also come from APPTUIT_API_TOKEN and
	// APPTUIT_TAGS ("service: orders, env: prod").
	client, err := apptuit.New(
		apptuit.WithToken("my-token"),
		apptuit.WithGlobalTags(map[string]string{"service": "order-service"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.Endpoint(), client.GlobalTags())
	// Output: https://api.apptuit.ai map[service:order-service]
}

func ExampleClient_Send() {
	srv := fakeAPI()
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithEndpoint(srv.URL), apptuit.WithToken("my-token"),
		apptuit.WithGlobalTags(map[string]string{"host": "web-1"}))
	if err != nil {
		log.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	err = client.Send(context.Background(), []apptuit.DataPoint{
		{Metric: "proc.cpu.percent", Tags: map[string]string{"core": "0"}, Timestamp: now, Value: 12.5},
		{Metric: "node.load.avg", Timestamp: now, Value: 0.75},
	})
	var sendErr *apptuit.SendError
	if errors.As(err, &sendErr) {
		log.Fatalf("%d points refused: %v", sendErr.Failed, sendErr)
	} else if err != nil {
		log.Fatal(err)
	}
	// Output:
	// POST /api/put details
	// [{"metric":"proc.cpu.percent","timestamp":1700000000,"value":12.5,"tags":{"core":"0","host":"web-1"}},{"metric":"node.load.avg","timestamp":1700000000,"value":0.75,"tags":{"host":"web-1"}}]
}

func ExampleClient_SendTimeSeries() {
	srv := fakeAPI()
	defer srv.Close()
	client, err := apptuit.New(apptuit.WithEndpoint(srv.URL), apptuit.WithToken("my-token"), apptuit.WithIgnoreEnvTags())
	if err != nil {
		log.Fatal(err)
	}
	// Name and tags are validated once; adding points is just appending.
	series, err := apptuit.NewTimeSeries("nyc.taxi.rides", map[string]string{"city": "nyc"})
	if err != nil {
		log.Fatal(err)
	}
	start := time.Unix(1406829600, 0)
	for i, v := range []float64{23050, 17811} {
		series.Add(start.Add(time.Duration(i)*30*time.Minute), v)
	}
	if err := client.SendTimeSeries(context.Background(), []*apptuit.TimeSeries{series}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// POST /api/put details
	// [{"metric":"nyc.taxi.rides","tags":{"city":"nyc"},"timestamp":1406829600,"value":23050.0},{"metric":"nyc.taxi.rides","tags":{"city":"nyc"},"timestamp":1406831400,"value":17811.0}]
}

func ExampleEncodeMetric() {
	name, err := apptuit.EncodeMetric("order_count", map[string]string{"city-code": "NYC"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)
	metric, tags, err := apptuit.DecodeMetric(name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(metric, tags)
	// Output:
	// order_count{"city-code": "NYC"}
	// order_count map[city-code:NYC]
}
