package bench

import (
	"fmt"
	"testing"

	"github.com/apptuit-go/apptuit/metrics"
)

// BenchmarkRegistryLookup measures looking up an existing metric in a
// registry of 10,000 (the lookup a user makes when they do not keep the
// metric in a variable): a plain name, a name with two tags given as a map
// (the map made once, outside the loop), and the same as an encoded name.
// It is the figure issue #19.6 asks for ("lookup ns") beside
// BenchmarkMemoryPerMetric's bytes per metric.
func BenchmarkRegistryLookup(b *testing.B) {
	r := metrics.NewRegistry(metrics.WithSeriesLimit(0)) // 10,000 series of one name
	for i := range 10_000 {
		must(r.Counter(fmt.Sprintf("counter.%05d", i)))
		must(r.CounterWith("requests", map[string]string{"host": fmt.Sprintf("host-%05d", i), "zone": "eu-1"}))
	}
	tags := map[string]string{"host": "host-04242", "zone": "eu-1"}
	for _, c := range []struct {
		name string
		get  func()
	}{
		{"plain", func() { r.Counter("counter.04242") }},
		{"map2", func() { r.CounterWith("requests", tags) }},
		{"encoded2", func() { r.Counter(`requests{"host": "host-04242", "zone": "eu-1"}`) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.get()
			}
		})
		b.Run(c.name+"Parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.get()
				}
			})
		})
	}
}

func must[T any](m T, err error) T {
	if err != nil {
		panic(err)
	}
	return m
}
