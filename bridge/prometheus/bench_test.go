package prombridge_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/apptuit-go/apptuit"
	prombridge "github.com/apptuit-go/apptuit/bridge/prometheus"
	"github.com/apptuit-go/apptuit/reporter"
)

var paired = flag.Bool("paired", false, "run TestPairedReportCost")

// The benchmark registry: 10,000 series, 8,000 counters and 2,000
// histograms with 10 buckets, so 8,000 + 2,000×13 = 34,000 samples.
const (
	benchCounters   = 8000
	benchHistograms = 2000
	benchSeries     = benchCounters + benchHistograms
	benchSamples    = benchCounters + benchHistograms*13
)

func benchRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bench_http_requests_total", Help: "Requests."},
		[]string{"route", "code"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bench_http_request_duration_seconds", Help: "Latency.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}}, []string{"route"})
	reg.MustRegister(reqs, lat)
	for i := range benchCounters {
		reqs.WithLabelValues(fmt.Sprintf("/api/v1/resource/%d", i/4), []string{"200", "201", "404", "500"}[i%4]).Add(float64(i))
	}
	for i := range benchHistograms {
		h := lat.WithLabelValues(fmt.Sprintf("/api/v1/resource/%d", i))
		for j := range 20 {
			h.Observe(float64(j) * 0.01)
		}
	}
	return reg
}

// scrape is what a Prometheus scrape of reg costs the service:
// client_golang's Gather and the text exposition encoding.
func scrape(reg prometheus.Gatherer, w io.Writer) error {
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

// sink is a loopback Apptuit that reads and discards every body.
func sink(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// benchReporter returns a reporter of reg through the bridge, sending to
// url with compression c.
func benchReporter(tb testing.TB, reg prometheus.Gatherer, url string, c apptuit.Compression) *reporter.Reporter {
	tb.Helper()
	client, err := apptuit.New(apptuit.WithToken("t"), apptuit.WithEndpoint(url), apptuit.WithCompression(c),
		apptuit.WithRetries(0), apptuit.WithIgnoreEnvTags())
	if err != nil {
		tb.Fatal(err)
	}
	src, err := prombridge.New(reg)
	if err != nil {
		tb.Fatal(err)
	}
	rep, err := reporter.New(client, nil, reporter.WithSource(src), reporter.WithHostTag("bench"), reporter.WithIgnoreEnvTags(),
		reporter.WithErrorHandler(func(err error) { tb.Error(err) }))
	if err != nil {
		tb.Fatal(err)
	}
	if err := rep.ReportNow(context.Background()); err != nil { // first report: caches and series built
		tb.Fatal(err)
	}
	return rep
}

// run runs f b.N times and reports allocations per series, wall time per
// sample and CPU time per operation.
func run(b *testing.B, f func() error) {
	b.Helper()
	if err := f(); err != nil { // warm
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	allocs := float64(after.Mallocs-before.Mallocs) / float64(b.N)
	b.ReportMetric(allocs/benchSeries, "allocs/series")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchSamples, "ns/sample")
	// CPU time of the whole process per operation (all goroutines: the
	// loopback sink's and the GC's too): steadier than wall time on a
	// loaded machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1e6, "cpu-ms/op")
}

// BenchmarkReport10k compares, on one registry of 10,000 series, what a
// Prometheus scrape costs (Gather + text encoding) with a report through
// the bridge (Gather + Collect + the reporter's encoding, gzip and send to
// a loopback sink), with Gather alone and Collect alone (Gather + the
// bridge's mapping) for the breakdown.
func BenchmarkReport10k(b *testing.B) {
	reg := benchRegistry()
	srv := sink(b)
	// Every sub-benchmark runs with the same live heap: the reporters (and
	// their caches) exist before the first one starts.
	reps := map[apptuit.Compression]*reporter.Reporter{}
	for _, c := range []apptuit.Compression{apptuit.Gzip, apptuit.NoCompression} {
		reps[c] = benchReporter(b, reg, srv.URL, c)
	}
	src, err := prombridge.New(reg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("gather", func(b *testing.B) {
		run(b, func() error { _, err := reg.Gather(); return err })
	})
	b.Run("scrape", func(b *testing.B) {
		run(b, func() error { return scrape(reg, io.Discard) })
	})
	b.Run("collect", func(b *testing.B) {
		emit := func(string, map[string]string, float64) {}
		run(b, func() error { return src.Collect(context.Background(), emit) })
	})
	for _, c := range []apptuit.Compression{apptuit.Gzip, apptuit.NoCompression} {
		b.Run("report/"+c.String(), func(b *testing.B) {
			run(b, func() error { return reps[c].ReportNow(context.Background()) })
		})
	}
}

// TestPairedReportCost (go test -run TestPairedReportCost -paired -v)
// alternates blocks of scrapes and of reports through the bridge of the
// same registry, so that both see the same load, and prints the median of
// the per-pair ratios of wall and of CPU time.
func TestPairedReportCost(t *testing.T) {
	if !*paired {
		t.Skip("run with -paired")
	}
	reg := benchRegistry()
	srv := sink(t)
	reps := map[apptuit.Compression]*reporter.Reporter{}
	for _, c := range []apptuit.Compression{apptuit.Gzip, apptuit.NoCompression} {
		reps[c] = benchReporter(t, reg, srv.URL, c)
	}
	// timeIt returns the wall time and the process's CPU time (user +
	// system, all goroutines: the loopback sink's and the GC's too) that
	// block consecutive calls of f took. No GC is forced: each side pays
	// for the collections its garbage causes, as in a running service.
	const block = 4
	timeIt := func(f func() error) (wall, cpu time.Duration) {
		c0, start := cpuTime(), time.Now()
		for range block {
			if err := f(); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(start) / block, (cpuTime() - c0) / block
	}
	const rounds = 25
	for _, c := range []apptuit.Compression{apptuit.Gzip, apptuit.NoCompression} {
		var wallRatios, cpuRatios, scrapes, reports, scrapeCPU, reportCPU []float64
		for range rounds {
			s, sc := timeIt(func() error { return scrape(reg, io.Discard) })
			r, rc := timeIt(func() error { return reps[c].ReportNow(context.Background()) })
			scrapes, reports = append(scrapes, float64(s)/1e6), append(reports, float64(r)/1e6)
			scrapeCPU, reportCPU = append(scrapeCPU, float64(sc)/1e6), append(reportCPU, float64(rc)/1e6)
			wallRatios = append(wallRatios, float64(r)/float64(s))
			if sc > 0 {
				cpuRatios = append(cpuRatios, float64(rc)/float64(sc))
			}
		}
		t.Logf("report (%v) / scrape, %d pairs of %d-call blocks: wall time: median ratio %.2f (min %.2f, max %.2f), median scrape %.1f ms, report %.1f ms",
			c, rounds, block, median(wallRatios), slices.Min(wallRatios), slices.Max(wallRatios), median(scrapes), median(reports))
		if len(cpuRatios) > 0 {
			t.Logf("report (%v) / scrape, %d pairs of %d-call blocks: CPU time:  median ratio %.2f (min %.2f, max %.2f), median scrape %.1f ms, report %.1f ms",
				c, rounds, block, median(cpuRatios), slices.Min(cpuRatios), slices.Max(cpuRatios), median(scrapeCPU), median(reportCPU))
		}
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
