package metrics

import "sync/atomic"

// Counter is a cumulative int64 count that can go up and down, like Coda
// Hale's Counter. Its zero value is a usable counter at zero; it must not be
// copied after first use. It occupies a 64-byte cache line of its own so
// that counters updated by different goroutines do not slow each other down.
// It is safe for concurrent use.
type Counter struct {
	v atomic.Int64
	l link
	_ [40]byte
}

// NewCounter returns a new Counter at zero.
func NewCounter() *Counter { return new(Counter) }

// Inc adds one. It is one atomic add and a load, and does not allocate.
func (c *Counter) Inc() {
	c.v.Add(1)
	if atomic.LoadUint32(&c.l.state) != stateLive {
		c.l.touch()
	}
}

// Dec subtracts one. It is one atomic add and a load, and does not
// allocate.
func (c *Counter) Dec() {
	c.v.Add(-1)
	if atomic.LoadUint32(&c.l.state) != stateLive {
		c.l.touch()
	}
}

// Add adds n, which may be negative. It is one atomic add and a load (of
// the state that expiry keeps, see WithExpiry), and does not allocate.
func (c *Counter) Add(n int64) {
	c.v.Add(n)
	if atomic.LoadUint32(&c.l.state) != stateLive {
		c.l.touch()
	}
}

// Count returns the current count. It is one atomic load.
func (c *Counter) Count() int64 { return c.v.Load() }
