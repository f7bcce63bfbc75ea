package reporter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/spool"
	"github.com/apptuit-go/apptuit/metrics"
)

// BenchmarkReport makes one report of a registry of 1,000 metrics (400
// counters, 300 gauges, 100 meters, 100 histograms, 100 timers: 4,000
// points with the meta metrics) to a server that discards the body.
func BenchmarkReport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	reg := metrics.NewRegistry()
	for i := range 1000 {
		tags := map[string]string{"shard": strconv.Itoa(i % 10)}
		name := "metric" + strconv.Itoa(i)
		switch {
		case i < 400:
			c, _ := reg.CounterWith(name, tags)
			c.Add(int64(i))
		case i < 700:
			g, _ := reg.GaugeWith(name, tags)
			g.Set(float64(i))
		case i < 800:
			m, _ := reg.MeterWith(name, tags)
			m.Mark(int64(i))
		case i < 900:
			h, _ := reg.HistogramWith(name, tags)
			for v := range 100 {
				h.Update(float64(v))
			}
		default:
			t, _ := reg.TimerWith(name, tags)
			for v := range 100 {
				t.Update(time.Duration(v) * time.Millisecond)
			}
		}
	}
	r, err := New(newClient(b, srv.URL), reg, WithHostTag("bench"), WithErrorHandler(func(err error) { b.Fatal(err) }))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	r.ReportNow(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := r.ReportNow(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/metric")
	b.ReportMetric(float64(len(r.points)), "points/report")
}

// BenchmarkSpoolDecode turns a spooled batch of 10,000 points, one for each
// of 10,000 series, back into prepared points, as a drain does once the
// series are known (decoded once, then cached).
func BenchmarkSpoolDecode(b *testing.B) {
	client := newClient(b, "http://127.0.0.1:1")
	pts := make([]apptuit.PreparedPoint, 10_000)
	for i := range pts {
		ps, err := client.PrepareSeries("orders.processing.time.count", map[string]string{"host": "web-1", "s": strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		pts[i] = apptuit.PreparedPoint{Series: ps, UnixMilli: 1700000000000, Value: float64(i)}
	}
	s := &spoolStore{r: &Reporter{client: client}}
	rec := spool.Record{Data: s.enc.appendBatch(nil, pts), Points: len(pts)}
	if _, err := s.decode(nil, rec); err != nil {
		b.Fatal(err)
	}
	var got []apptuit.PreparedPoint
	b.ReportAllocs()
	for b.Loop() {
		var err error
		got, err = s.decode(got[:0], rec)
		if err != nil || len(got) != len(pts) {
			b.Fatal(len(got), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pts)), "ns/point")
}
