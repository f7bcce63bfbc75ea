package reporter_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/apptuittest"
	"github.com/apptuit-go/apptuit/metrics"
	"github.com/apptuit-go/apptuit/reporter"
)

// A reporter with a spool: what it cannot deliver while the backend is down
// waits on disk, and the next process with the same directory sends it
// first.
func ExampleWithSpool() {
	dir, _ := os.MkdirTemp("", "spool")
	defer os.RemoveAll(dir)
	spoolDir := filepath.Join(dir, "apptuit-spool")
	reg := metrics.NewRegistry()
	orders, _ := reg.Counter("orders")
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { now = now.Add(time.Second); return now } // one second per report

	// The backend is down (nothing listens at this endpoint).
	down, _ := apptuit.New(apptuit.WithEndpoint("http://127.0.0.1:1"), apptuit.WithToken("t"), apptuit.WithRetries(0))
	rep, err := reporter.New(down, reg, reporter.WithSpool(spoolDir, 64<<20), reporter.WithClock(clock),
		reporter.WithHostTag("web-1"), reporter.WithIgnoreEnvTags(), reporter.WithErrorHandler(nil))
	if err != nil {
		log.Fatal(err)
	}
	orders.Add(3)
	rep.ReportNow(context.Background()) // fails: the points go to the spool
	_, err = reporter.New(down, reg, reporter.WithSpool(spoolDir, 64<<20), reporter.WithHostTag("web-1"))
	fmt.Println("second reporter on the directory:", errors.Is(err, reporter.ErrSpoolLocked))
	rep.Stop(context.Background()) // fails too: the spool keeps everything

	// The next process, with the backend up.
	srv := apptuittest.NewServer()
	defer srv.Close()
	up, _ := apptuit.New(apptuit.WithEndpoint(srv.URL()), apptuit.WithToken("t"))
	rep, err = reporter.New(up, reg, reporter.WithSpool(spoolDir, 64<<20), reporter.WithClock(clock),
		reporter.WithHostTag("web-1"), reporter.WithIgnoreEnvTags())
	if err != nil {
		log.Fatal(err)
	}
	if err := rep.ReportNow(context.Background()); err != nil {
		log.Fatal(err)
	}
	rep.Stop(context.Background())
	for _, p := range srv.Points() {
		if p.Metric == "orders.count" {
			fmt.Println(p.Metric, p.Timestamp.Unix(), p.Value)
		}
	}
	// Output:
	// second reporter on the directory: true
	// orders.count 1700000001 3
	// orders.count 1700000002 3
	// orders.count 1700000003 3
	// orders.count 1700000004 3
}
