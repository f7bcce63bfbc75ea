package metrics

import (
	"math"
	"sync/atomic"
)

// Gauge holds the last float64 value set. Its zero value is a usable gauge
// at 0; it must not be copied after first use. Like Counter it occupies a
// cache line of its own. It is safe for concurrent use.
type Gauge struct {
	bits uint64 // accessed atomically (a plain uint64 keeps Set inlinable); first, so 64-bit aligned
	l    link
	_    [40]byte
}

// NewGauge returns a new Gauge at 0.
func NewGauge() *Gauge { return new(Gauge) }

// Set sets the gauge to v. It is one atomic store and a load, and does not
// allocate.
func (g *Gauge) Set(v float64) {
	atomic.StoreUint64(&g.bits, math.Float64bits(v))
	if atomic.LoadUint32(&g.l.state) != stateLive {
		g.l.touch()
	}
}

// Value returns the last value set. It is one atomic load.
func (g *Gauge) Value() float64 { return math.Float64frombits(atomic.LoadUint64(&g.bits)) }

// GaugeFunc is a gauge whose value is computed by a function each time it
// is read, typically once per report. It is safe for concurrent use if its
// function is.
type GaugeFunc struct {
	fn func() float64
}

// NewGaugeFunc returns a GaugeFunc reading fn, which must not be nil.
func NewGaugeFunc(fn func() float64) *GaugeFunc {
	if fn == nil {
		panic("metrics: NewGaugeFunc with nil function")
	}
	return &GaugeFunc{fn: fn}
}

// Value calls the function and returns its result. It costs whatever the
// function costs.
func (g *GaugeFunc) Value() float64 { return g.fn() }
