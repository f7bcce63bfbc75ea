package metrics

import (
	"testing"
	"time"
)

// Each hot path, single goroutine and with b.RunParallel (all goroutines on
// one metric, the worst case for contention).

func BenchmarkCounterInc(b *testing.B) {
	c := NewCounter()
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
	}
}

func BenchmarkCounterIncParallel(b *testing.B) {
	c := NewCounter()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkGaugeSet(b *testing.B) {
	g := NewGauge()
	b.ReportAllocs()
	v := 0.0
	for b.Loop() {
		v++
		g.Set(v)
	}
}

func BenchmarkGaugeSetParallel(b *testing.B) {
	g := NewGauge()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := 0.0
		for pb.Next() {
			v++
			g.Set(v)
		}
	})
}

func BenchmarkMeterMark(b *testing.B) {
	m := NewMeter()
	b.ReportAllocs()
	for b.Loop() {
		m.Mark(1)
	}
}

func BenchmarkMeterMarkParallel(b *testing.B) {
	m := NewMeter()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Mark(1)
		}
	})
}

func BenchmarkHistogramUpdate(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for b.Loop() {
		h.Update(0.042)
	}
}

func BenchmarkHistogramUpdateParallel(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Update(0.042)
		}
	})
}

func BenchmarkTimerUpdate(b *testing.B) {
	t := NewTimer()
	d := 42 * time.Millisecond
	b.ReportAllocs()
	for b.Loop() {
		t.Update(d)
	}
}

func BenchmarkTimerUpdateParallel(b *testing.B) {
	t := NewTimer()
	d := 42 * time.Millisecond
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t.Update(d)
		}
	})
}

// Not hot paths, for reference.

func BenchmarkRegistryCounterExisting(b *testing.B) {
	r := NewRegistry()
	r.Counter("requests")
	b.ReportAllocs()
	for b.Loop() {
		r.Counter("requests")
	}
}

func BenchmarkHistogramSnapshotAndReset(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for b.Loop() {
		for i := range 100 {
			h.Update(float64(i))
		}
		h.SnapshotAndReset()
	}
}

func BenchmarkMeterSnapshot(b *testing.B) {
	m := NewMeter()
	b.ReportAllocs()
	for b.Loop() {
		m.Mark(1)
		m.Snapshot()
	}
}
