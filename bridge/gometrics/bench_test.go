package gometricsbridge

import (
	"context"
	"fmt"
	"testing"

	metrics "github.com/rcrowley/go-metrics"
)

// BenchmarkCollect: a Collect of 1,000 counters, 1,000 gauges and 100
// histograms (uniform samples of 1,028 values, full).
func BenchmarkCollect(b *testing.B) {
	r := metrics.NewRegistry()
	for i := range 1000 {
		metrics.GetOrRegisterCounter(fmt.Sprint("requests.", i), r).Inc(1)
		metrics.GetOrRegisterGaugeFloat64(fmt.Sprint("load.", i), r).Update(1)
	}
	for i := range 100 {
		h := metrics.GetOrRegisterHistogram(fmt.Sprint("latency.", i), r, metrics.NewUniformSample(1028))
		for j := range 2000 {
			h.Update(int64(j))
		}
	}
	s, err := New(r)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	emit := func(string, map[string]string, float64) {}
	b.ReportAllocs()
	for range b.N {
		if err := s.Collect(ctx, emit); err != nil {
			b.Fatal(err)
		}
	}
}
