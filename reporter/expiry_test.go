package reporter

import (
	"math"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/metrics"
)

// TestExpiryThroughReports: with metrics.WithExpiry(2), a series not
// updated for two reports is sent by the second and not after; a counter
// looked up again restarts from zero, which PromQL's rate reads as a
// counter reset (see the package documentation).
func TestExpiryThroughReports(t *testing.T) {
	clearEnv(t)
	srv := newServer(t)
	reg := metrics.NewRegistry(metrics.WithExpiry(2))
	reqs, _ := reg.CounterVec("reqs", "path")
	reqs.With("/a").Add(5)
	reqs.With("/b").Add(7)
	r := newReporter(t, newClient(t, srv.URL()), reg, WithClock(steppingClock(t0)))
	want := map[int]map[string]float64{ // report -> path -> count sent
		0: {"/a": 5, "/b": 7},
		1: {"/a": 5, "/b": 8},
		2: {"/a": 5, "/b": 8}, // /a idle for two reports: its last
		3: {"/b": 8},
		4: {"/a": 1}, // /b gone; /a looked up again: a new counter
	}
	for i := range 5 {
		switch i {
		case 1:
			reqs.With("/b").Inc()
		case 4:
			reqs.With("/a").Inc()
		}
		n := len(srv.Points())
		mustReport(t, r)
		got := map[string]float64{}
		for _, p := range srv.Points()[n:] {
			if p.Metric == "reqs.count" {
				got[p.Tags["path"]] = p.Value
			}
		}
		if len(got) != len(want[i]) {
			t.Errorf("report %d sent %v, want %v", i, got, want[i])
			continue
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("report %d sent %v, want %v", i, got, want[i])
			}
		}
	}
	if c := r.registry; len(c.cache) != 1 {
		t.Errorf("the collector keeps %d series, want 1", len(c.cache))
	}
}

// TestExpiryReleasesReporterMemory registers 200,000 series (20,000 under
// the race detector), reports them, lets them expire, and checks that the
// live heap of the reporter and its registry comes back to what it was
// before (within 10 %, or 256 KiB) (with the client's idle connections closed both
// times: the big report opens more).
func TestExpiryReleasesReporterMemory(t *testing.T) {
	clearEnv(t)
	n := 200_000
	if raceEnabled {
		n = 20_000
	}
	reg := metrics.NewRegistry(metrics.WithExpiry(1), metrics.WithSeriesLimit(0))
	reqs, _ := reg.CounterVec("reqs", "id")
	client := newClient(t, newDiscardSink(t), apptuit.WithBatchSize(10_000))
	r := newReporter(t, client, reg, WithClock(steppingClock(t0)))
	mustReport(t, r)
	client.Close() // the idle connections' buffers are not the series'
	base := heapAfterGC()
	for i := range n {
		reqs.With(strconv.Itoa(i)).Inc()
	}
	mustReport(t, r) // sends them all
	full := heapAfterGC()
	mustReport(t, r) // sends them, unchanged; they expire
	mustReport(t, r) // sends none; the collector forgets them
	client.Close()
	after := heapAfterGC()
	runtime.KeepAlive(r)
	if reg.Len() != 0 || len(r.registry.cache) != 0 {
		t.Fatalf("%d series left, %d in the collector", reg.Len(), len(r.registry.cache))
	}
	t.Logf("%d series: heap %.1f MiB before, %.1f MiB registered and reported (%.0f B a series), %.1f MiB after expiry",
		n, mib(base), mib(full), float64(full-base)/float64(n), mib(after))
	// Within 10 % of the baseline, or 256 KiB (0.2 % of what the series
	// took) when the baseline is too small for 10 % of it to be more than
	// the scheduler's and the sink connection's noise.
	if slack := max(base/10, 256<<10); after > base+slack {
		t.Errorf("heap after expiry %d B, more than %d B over the %d B before", after, slack, base)
	}
}

// heapAfterGC returns the live heap: the least of a few readings after a
// GC, 10 ms apart, so that goroutines other tests left winding down (their
// connections' buffers) do not count.
func heapAfterGC() uint64 {
	least := uint64(math.MaxUint64)
	for range 5 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		least = min(least, ms.HeapAlloc)
		time.Sleep(10 * time.Millisecond)
	}
	return least
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
