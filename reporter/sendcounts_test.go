package reporter

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// A 400 whose counts cannot be right counts its whole batch as failed, so
// the meta counters stay consistent: total = successful + failed.
func TestMetaCountersWithImpossibleCounts(t *testing.T) {
	for _, body := range []string{
		`{"success":-5,"failed":3,"errors":[]}`,
		`{"success":0,"failed":1000,"errors":[]}`,
		`{"success":0,"failed":0,"errors":[]}`,
		`{"success":2,"failed":1,"errors":[]}`,
		`not json at all`,
	} {
		t.Run(body, func(t *testing.T) {
			clearEnv(t)
			var mu sync.Mutex
			var bodies [][]apptuit.DataPoint
			srv := newFakePut(t, func(pts []apptuit.DataPoint) (int, string) {
				mu.Lock()
				defer mu.Unlock()
				bodies = append(bodies, pts)
				if len(bodies) == 1 {
					return 400, body
				}
				return 204, ""
			})
			reg := metrics.NewRegistry()
			for i := range 7 {
				c, err := reg.Counter(fmt.Sprintf("c%d", i))
				if err != nil {
					t.Fatal(err)
				}
				c.Inc()
			}
			r := newReporter(t, newClient(t, srv), reg, WithClock(steppingClock(t0)), WithErrorHandler(nil))
			if err := r.ReportNow(context.Background()); err == nil {
				t.Fatal("no error for a 400")
			}
			mustReport(t, r)
			mu.Lock()
			defer mu.Unlock()
			sent := len(bodies[0])
			ts := t0.Unix() + 1
			total := value(t, bodies[1], "apptuit.reporter.send.total.count", ts)
			ok := value(t, bodies[1], "apptuit.reporter.send.successful.count", ts)
			failed := value(t, bodies[1], "apptuit.reporter.send.failed.count", ts)
			if total != float64(sent) || ok+failed != total || failed != float64(sent) {
				t.Errorf("meta: total %v, successful %v, failed %v after a refused batch of %d", total, ok, failed, sent)
			}
		})
	}
}
