package metrics

import (
	"math"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock for tests, advanced by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newMeter returns a registered Meter that reads now.
func newMeter(now func() time.Time) *Meter {
	m, err := NewRegistry(WithClock(now)).Meter("m")
	if err != nil {
		panic(err)
	}
	return m
}

// newTimer returns a registered Timer that reads now.
func newTimer(now func() time.Time) *Timer {
	t, err := NewRegistry(WithClock(now)).Timer("t")
	if err != nil {
		panic(err)
	}
	return t
}

// refMeter is a straightforward Coda Hale meter: its EWMAs tick every
// 5 seconds, each tick consuming the events marked since the previous one.
type refMeter struct {
	uncounted   float64
	next        time.Duration // time of the next tick
	m1, m5, m15 refEWMA
}

type refEWMA struct {
	alpha, rate float64
	init        bool
}

func (e *refEWMA) tick(uncounted float64) {
	instant := uncounted / 5
	if e.init {
		e.rate += e.alpha * (instant - e.rate)
	} else {
		e.rate, e.init = instant, true
	}
}

func newRefMeter() *refMeter {
	a := func(minutes float64) refEWMA { return refEWMA{alpha: 1 - math.Exp(-5.0/60/minutes)} }
	return &refMeter{next: 5 * time.Second, m1: a(1), m5: a(5), m15: a(15)}
}

// advance ticks for every tick time up to and including now.
func (r *refMeter) advance(now time.Duration) {
	for r.next <= now {
		for _, e := range []*refEWMA{&r.m1, &r.m5, &r.m15} {
			e.tick(r.uncounted)
		}
		r.uncounted = 0
		r.next += 5 * time.Second
	}
}

func closeTo(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Abs(want)+1e-12
}

// TestMeterMatchesCodaHale drives a meter and the reference with the same
// events on a fake clock. Events arrive every second (at half past), at a
// rate that changes every minute; the meter is read every `every`, which
// divides a minute, so the rate is constant between reads and the lazily
// ticked rates must equal the reference's.
func TestMeterMatchesCodaHale(t *testing.T) {
	rates := []int64{10, 10, 100, 0, 0, 3, 1000, 1000, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 7} // events/second, per minute
	for _, every := range []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 20 * time.Second, time.Minute} {
		t.Run(every.String(), func(t *testing.T) {
			clk := newFakeClock()
			m := newMeter(clk.Now)
			ref := newRefMeter()
			var now time.Duration
			step := func(d time.Duration) { clk.Add(d); now += d; ref.advance(now) }
			reads := 0
			for sec := range int64(len(rates) * 60) {
				step(time.Second / 2)
				r := rates[sec/60]
				m.Mark(r)
				ref.uncounted += float64(r)
				step(time.Second / 2)
				if now%every != 0 {
					continue
				}
				s := m.Snapshot()
				reads++
				if !closeTo(s.Rate1, ref.m1.rate) || !closeTo(s.Rate5, ref.m5.rate) || !closeTo(s.Rate15, ref.m15.rate) {
					t.Fatalf("at %v: rates %v, %v, %v; reference %v, %v, %v",
						now, s.Rate1, s.Rate5, s.Rate15, ref.m1.rate, ref.m5.rate, ref.m15.rate)
				}
			}
			if reads == 0 {
				t.Fatal("no reads")
			}
		})
	}
}

// TestMeterConstantRate checks that with a constant rate the moving rates
// equal that rate, however rarely the meter is read.
func TestMeterConstantRate(t *testing.T) {
	for _, every := range []time.Duration{time.Second, 7 * time.Second, 13 * time.Second, 10 * time.Minute} {
		clk := newFakeClock()
		m := newMeter(clk.Now)
		var now time.Duration
		for now < 30*time.Minute {
			for range every / time.Second {
				clk.Add(time.Second / 2)
				m.Mark(42)
				clk.Add(time.Second / 2)
				now += time.Second
			}
			s := m.Snapshot()
			if now < 5*time.Second {
				continue
			}
			for _, r := range []float64{s.Rate1, s.Rate5, s.Rate15, s.MeanRate} {
				if !closeTo(r, 42) {
					t.Fatalf("read every %v, at %v: %+v; want every rate 42", every, now, s)
				}
			}
		}
	}
}

func TestMeterSnapshot(t *testing.T) {
	clk := newFakeClock()
	m := newMeter(clk.Now)
	if s := m.Snapshot(); s != (MeterSnapshot{}) {
		t.Errorf("new meter: %+v, want zeros", s)
	}
	m.Mark(3)
	clk.Add(2 * time.Second)
	if s, want := m.Snapshot(), (MeterSnapshot{Count: 3, MeanRate: 1.5}); s != want {
		t.Errorf("before the first tick: %+v, want %+v", s, want)
	}
	m.Mark(7)
	clk.Add(3 * time.Second)
	// First tick at 5s: 10 events in 5 seconds is 2 per second.
	if s, want := m.Snapshot(), (MeterSnapshot{Count: 10, MeanRate: 2, Rate1: 2, Rate5: 2, Rate15: 2}); s != want {
		t.Errorf("at the first tick: %+v, want %+v", s, want)
	}
	clk.Add(5 * time.Second)
	s := m.Snapshot()
	want1 := 2 * math.Exp(-5.0/60) // one tick with no events
	if s.Count != 10 || s.MeanRate != 1 || !closeTo(s.Rate1, want1) {
		t.Errorf("after an idle tick: %+v, want Count 10, MeanRate 1, Rate1 %v", s, want1)
	}
	if m.Count() != 10 {
		t.Errorf("Count() = %d, want 10", m.Count())
	}
}

// TestMeterClockBackwards checks that a clock going backwards does not
// produce negative or NaN rates.
func TestMeterClockBackwards(t *testing.T) {
	clk := newFakeClock()
	m := newMeter(clk.Now)
	m.Mark(10)
	clk.Add(6 * time.Second)
	m.Snapshot()
	clk.Add(-3 * time.Second)
	m.Mark(5)
	s := m.Snapshot()
	// The 10 events were spread over the 6 seconds before the first read,
	// so the 5-second tick got 10·5/6 of them.
	if !closeTo(s.Rate1, 10.0/6) || s.Count != 15 || math.IsNaN(s.MeanRate) {
		t.Errorf("%+v", s)
	}
	clk.Add(10 * time.Second)
	if s := m.Snapshot(); math.IsNaN(s.Rate1) || s.Rate1 < 0 {
		t.Errorf("%+v", s)
	}
}
