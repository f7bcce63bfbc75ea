// Command quickstart sends a point and a series, then queries them back: the
// README's quickstart, kept compiling and running by CI.
//
//	APPTUIT_API_TOKEN=... go run ./examples/quickstart [-endpoint URL]
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"time"

	"github.com/apptuit-go/apptuit"
)

func main() {
	endpoint := flag.String("endpoint", apptuit.DefaultEndpoint, "API base URL")
	flag.Parse()

	// Token from APPTUIT_API_TOKEN, global tags from APPTUIT_TAGS ("service: orders, env: prod").
	client, err := apptuit.New(apptuit.WithEndpoint(*endpoint))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()

	// Send points.
	err = client.Send(ctx, []apptuit.DataPoint{{
		Metric:    "proc.cpu.percent",
		Tags:      map[string]string{"host": "web-1", "core": "0"},
		Timestamp: now,
		Value:     12.5,
	}})
	if err != nil {
		log.Fatal(err) // a *apptuit.SendError lists the points the server refused
	}

	// Many points of one series: name and tags are validated once.
	series, err := apptuit.NewTimeSeries("nyc.taxi.rides", map[string]string{"city": "nyc"})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		series.Add(now.Add(time.Duration(i-3)*time.Minute), float64(23050+i))
	}
	if err := client.SendTimeSeries(ctx, []*apptuit.TimeSeries{series}); err != nil {
		log.Fatal(err)
	}

	// Query with the Apptuit query language: outputs by index or by name.
	res, err := client.Query(ctx, "fetch('nyc.taxi.rides')", now.Add(-time.Hour), time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	if out := res.Get("nyc.taxi.rides"); out != nil {
		// Frame is pandas' to_df(): a row per timestamp, a column per series.
		if err := out.Frame().WriteCSV(os.Stdout); err != nil {
			log.Fatal(err)
		}
	}
}
