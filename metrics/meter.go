package metrics

import (
	"sync"
	"sync/atomic"
	"time"
)

// MeterSnapshot is a point-in-time view of a Meter. Rates are in events per
// second.
type MeterSnapshot struct {
	Count    int64   // events marked since creation
	MeanRate float64 // Count divided by the seconds since creation
	Rate1    float64 // 1-minute exponentially weighted moving average rate
	Rate5    float64 // 5-minute exponentially weighted moving average rate
	Rate15   float64 // 15-minute exponentially weighted moving average rate
}

// Meter counts events and reports their mean rate and the 1-, 5- and
// 15-minute exponentially weighted moving average rates of Coda Hale's
// metrics.
//
// Marking is a single atomic add. There is no ticker: the moving averages
// are brought up to date when a snapshot is taken. The d events marked since
// the previous snapshot are spread evenly over the time between the two
// snapshots, and each 5-second tick that elapsed in between is applied with
// its share, so a meter that sees a constant rate between snapshots reports
// exactly the rates of a Coda Hale meter ticking every 5 seconds. A reporter
// that takes a snapshot every interval keeps that approximation fine-grained.
//
// Create one with NewMeter or Registry.Meter; the zero value is not usable.
// It is safe for concurrent use.
type Meter struct {
	_     [56]byte // keep the hot counter on a cache line of its own,
	count atomic.Int64
	l     link
	_     [40]byte // whatever the alignment of the Meter
	rates rates
}

// rates holds the moving averages of a count kept elsewhere (a Meter's or a
// Timer's), brought up to date at each snapshot.
type rates struct {
	start time.Time

	mu          sync.Mutex    // guards the fields below
	lastTick    time.Duration // since start; a multiple of tickInterval
	lastRead    time.Duration // since start, of the last snapshot
	lastCount   int64         // count at lastRead
	carried     float64       // events between lastTick and lastRead, not yet ticked
	m1, m5, m15 ewma          // ticked once lastTick > 0
}

// NewMeter returns a new Meter that reads time.Now.
func NewMeter() *Meter {
	m := new(Meter)
	m.rates.init(time.Now())
	return m
}

func (m *rates) init(start time.Time) { m.start = start }

// Mark records n events. It is one atomic add and a load, and does not
// allocate.
func (m *Meter) Mark(n int64) {
	m.count.Add(n)
	if atomic.LoadUint32(&m.l.state) != stateLive {
		m.l.touch()
	}
}

// Count returns the number of events marked since creation. It is one
// atomic load.
func (m *Meter) Count() int64 { return m.count.Load() }

// Snapshot brings the moving averages up to date and returns the count and
// rates. It reads the clock once, takes the meter's mutex and does not
// allocate.
func (m *Meter) Snapshot() MeterSnapshot { return m.rates.snapshot(&m.count, m.l.now()) }

// snapshot brings the moving averages of count up to date at t and returns
// them.
func (m *rates) snapshot(count *atomic.Int64, t time.Time) MeterSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := t.Sub(m.start)
	c := count.Load()
	m.advance(now, c)
	s := MeterSnapshot{Count: c, Rate1: float64(m.m1), Rate5: float64(m.m5), Rate15: float64(m.m15)}
	if c != 0 && now > 0 {
		s.MeanRate = float64(c) / now.Seconds()
	}
	return s
}

// advance applies the ticks due by now, given the count c at now. m.mu must
// be held.
func (m *rates) advance(now time.Duration, c int64) {
	if now < m.lastRead { // a clock that went backwards: treat as no time passed
		now = m.lastRead
	}
	d := float64(c - m.lastCount)
	span := now - m.lastRead
	m.lastRead, m.lastCount = now, c
	k := int64((now - m.lastTick) / tickInterval)
	if k == 0 {
		m.carried += d
		return
	}
	// k > 0 implies span > 0: lastRead < lastTick+tickInterval <= now.
	perNs := d / float64(span)
	next := m.lastTick + tickInterval
	first := (m.carried + perNs*float64(next-(now-span))) / tickInterval.Seconds()
	rate := perNs * 1e9
	for _, e := range [...]struct {
		avg    *ewma
		window time.Duration
	}{{&m.m1, time.Minute}, {&m.m5, 5 * time.Minute}, {&m.m15, 15 * time.Minute}} {
		e.avg.tick(e.window, m.lastTick > 0, first, 1)
		e.avg.tick(e.window, true, rate, k-1)
	}
	m.lastTick += time.Duration(k) * tickInterval
	m.carried = perNs * float64(now-m.lastTick)
}
