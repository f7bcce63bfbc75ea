package apptuit_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/apptuit-go/apptuit"
)

// A stand-in for Apptuit's query service, answering every request with a
// small recorded-style response.
func exampleQueryServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/query":
			io.WriteString(w, `{"outputs":[{"id":"nyc.taxi.rides","result":[
			 {"metric":"nyc.taxi.rides","tags":{"host":"localhost"},"dps":[[1406829600,23050.0],[1406831400,20138.0],[1406833200,17252.0]]},
			 {"metric":"nyc.taxi.rides","tags":{"host":"backup"},"dps":[[1406831400,20139.5]]}]}],
			 "hints":[],"query_stats":{"numSeries":2}}`)
		case "/prometheus/api/v1/query_range":
			io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[
			 {"metric":{"__name__":"nyc.taxi.rides","host":"localhost"},"values":[[1406831400,"20138"],[1406833200,"17252"]]}]}}`)
		default:
			http.NotFound(w, r)
		}
	}))
}

func ExampleClient_Query() {
	srv := exampleQueryServer()
	defer srv.Close()

	client, err := apptuit.New(apptuit.WithEndpoint(srv.URL), apptuit.WithToken("my-token"))
	if err != nil {
		log.Fatal(err)
	}
	start := time.Unix(1406831400, 0)
	end := time.Unix(1407609000, 0)
	res, err := client.Query(context.Background(), "fetch('nyc.taxi.rides')", start, end)
	if err != nil {
		log.Fatal(err)
	}
	out := res.Get("nyc.taxi.rides") // or res.Output(0)
	for _, s := range out.Series {
		fmt.Println(s.Metric(), s.Tags(), s.Len(), "points")
	}
	// The point at 1406829600, before start, was dropped.
	if err := out.Frame().WriteCSV(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// nyc.taxi.rides map[host:localhost] 2 points
	// nyc.taxi.rides map[host:backup] 1 points
	// ,nyc.taxi.rides{host:localhost},nyc.taxi.rides{host:backup}
	// 2014-07-31 18:30:00,20138.0,20139.5
	// 2014-07-31 19:00:00,17252.0,
}

func ExampleClient_QueryRange() {
	srv := exampleQueryServer()
	defer srv.Close()

	client, err := apptuit.New(apptuit.WithEndpoint(srv.URL), apptuit.WithToken("my-token"))
	if err != nil {
		log.Fatal(err)
	}
	start := time.Unix(1406831400, 0)
	end := start.Add(time.Hour)
	// A zero step is chosen for about 1,000 points: 3s for an hour.
	fmt.Println("step:", apptuit.PromQLStep(start, end))
	res, err := client.QueryRange(context.Background(), `nyc.taxi.rides{host="localhost"}`, start, end, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Output(0).Series {
		for t, v := range s.Points() {
			fmt.Println(s.Metric(), s.Tags()["host"], t.Format(time.RFC3339), v)
		}
	}
	// Output:
	// step: 3s
	// nyc.taxi.rides localhost 2014-07-31T18:30:00Z 20138
	// nyc.taxi.rides localhost 2014-07-31T19:00:00Z 17252
}
