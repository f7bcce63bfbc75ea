package otelbridge

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// BenchmarkCollect: a Collect of 1,000 counter and 1,000 histogram series
// (default buckets: 19 points each), and the mapping alone (walk) over the
// same collected data.
func BenchmarkCollect(b *testing.B) {
	br, err := New()
	if err != nil {
		b.Fatal(err)
	}
	m := newProvider(b, br).Meter("bench")
	ctx := context.Background()
	c := must(m.Int64Counter("http.server.requests"))
	h := must(m.Float64Histogram("http.server.request.duration", metric.WithUnit("s")))
	for i := range 1000 {
		a := metric.WithAttributes(attribute.String("http.route", fmt.Sprint("/r/", i)), attribute.Int("http.response.status_code", 200))
		c.Add(ctx, 1, a)
		h.Record(ctx, 0.1, a)
	}
	emit := func(string, map[string]string, float64) {}
	b.Run("collect", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := br.Collect(ctx, emit); err != nil {
				b.Fatal(err)
			}
		}
	})
	var rm metricdata.ResourceMetrics
	if err := br.reader.Collect(ctx, &rm); err != nil {
		b.Fatal(err)
	}
	mp := newMapper(br.m.cfg)
	b.Run("walk", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for range b.N {
			mp.walk(&rm, func(string, map[string]string, time.Time, float64) { n++ })
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/point")
	})
}
