package metrics

import (
	"math"
	"time"
)

// tickInterval is the period of the exponentially weighted moving averages,
// as in Coda Hale's metrics.
const tickInterval = 5 * time.Second

// ewma is an exponentially weighted moving average of a rate, ticked every
// tickInterval as in Coda Hale's metrics (com.codahale.metrics.EWMA): the
// first tick sets the rate to the instant rate, each later tick moves it by
// alpha towards the instant rate. It is not safe for concurrent use; Meter
// guards it.
type ewma struct {
	alpha float64 // 1 - exp(-tickInterval / window)
	rate  float64 // events per second
	init  bool
}

func newEWMA(window time.Duration) ewma {
	return ewma{alpha: 1 - math.Exp(-tickInterval.Seconds()/window.Seconds())}
}

// tick applies n ticks during each of which the instant rate was r events
// per second. It costs one math.Pow, whatever n.
func (e *ewma) tick(r float64, n int64) {
	if n <= 0 {
		return
	}
	if !e.init {
		e.rate, e.init = r, true
		n--
	}
	switch n {
	case 0:
		return
	case 1:
		e.rate += e.alpha * (r - e.rate)
		return
	}
	// n steps of rate += alpha*(r-rate) leave rate-r multiplied by (1-alpha)^n.
	e.rate = r + math.Pow(1-e.alpha, float64(n))*(e.rate-r)
}
