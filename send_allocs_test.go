package apptuit

import (
	"context"
	"testing"

	"github.com/apptuit-go/apptuit/internal/putsink"
)

// maxAllocsPerBatch bounds the allocations of SendTimeSeries per
// 50,000-point batch (issue #8): what the client allocates for the HTTP
// exchange, the body and the per-call setup, divided by the number of
// batches. The server is putsink's child process, so none of its
// allocations are counted.
const maxAllocsPerBatch = 100

// TestSendTimeSeriesAllocsPerBatch sends BenchmarkSendTimeSeries' 1,000
// series × 1,000 points (20 batches of 50,000, 1,000 series to set up) with
// one and two batches in flight and fails above maxAllocsPerBatch. It is
// skipped under the race detector, which makes sync.Pool drop a quarter of
// what is put in it (and the child sink slow); .ci/run runs it without.
func TestSendTimeSeriesAllocsPerBatch(t *testing.T) {
	if raceEnabled {
		t.Skip("the bound is checked without -race (sync.Pool drops items under it), as .ci/run does")
	}
	clearEnv(t)
	series := benchSeries(t, benchNSeries, benchNPoints)
	sink := putsink.Start(t)
	for _, conc := range []int{1, 2} {
		c := mustNew(t, WithEndpoint(sink.URL), WithToken("t"), WithConcurrency(conc))
		batches := (benchNSeries*benchNPoints + DefaultBatchSize - 1) / DefaultBatchSize
		allocs := testing.AllocsPerRun(3, func() {
			if err := c.SendTimeSeries(context.Background(), series); err != nil {
				t.Fatal(err)
			}
		})
		perBatch := allocs / float64(batches)
		t.Logf("concurrency %d: %.0f allocations per call of %d batches: %.1f per batch", conc, allocs, batches, perBatch)
		if perBatch > maxAllocsPerBatch {
			t.Errorf("concurrency %d: %.1f allocations per 50,000-point batch, want <= %d", conc, perBatch, maxAllocsPerBatch)
		}
	}
}
