package metrics

import (
	"testing"
	"time"
)

// TestHotPathsDoNotAllocate checks the 0 allocs/op outside the
// benchmarks, together with the snapshots and the lookup of an existing
// plain name.
func TestHotPathsDoNotAllocate(t *testing.T) {
	r := NewRegistry()
	c, _ := r.Counter("c")
	g, _ := r.Gauge("g")
	m, _ := r.Meter("m")
	h, _ := r.Histogram("h")
	tm, _ := r.Timer("t")
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Counter.Inc", c.Inc},
		{"Gauge.Set", func() { g.Set(1.5) }},
		{"Meter.Mark", func() { m.Mark(1) }},
		{"Histogram.Update", func() { h.Update(0.042) }},
		{"Timer.Update", func() { tm.Update(42 * time.Millisecond) }},
		{"Timer.Start/Stop", func() { tm.Start().Stop() }},
		{"Meter.Snapshot", func() { m.Snapshot() }},
		{"Histogram.SnapshotAndReset", func() { h.SnapshotAndReset() }},
		{"Timer.SnapshotAndReset", func() { tm.SnapshotAndReset() }},
		{"Registry.Counter existing", func() { r.Counter("c") }},
	} {
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tc.name, n)
		}
	}
}
