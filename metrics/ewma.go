package metrics

import (
	"math"
	"time"
)

// tickInterval is the period of the exponentially weighted moving averages,
// as in Coda Hale's metrics.
const tickInterval = 5 * time.Second

// ewma is an exponentially weighted moving average of a rate in events per
// second, ticked every tickInterval as in Coda Hale's metrics
// (com.codahale.metrics.EWMA): the first tick sets the rate to the instant
// rate, each later tick moves it by alpha = 1 - exp(-tickInterval/window)
// towards the instant rate. Whether the first tick happened is kept by the
// owner (rates.ticked), for all its averages at once, and alpha is computed
// at each tick from the window, so that an ewma is one float64. It is not
// safe for concurrent use; rates guards it.
type ewma float64

// tick applies n ticks during each of which the instant rate was r events
// per second, to the average over window; started reports whether the
// average has been ticked before. It costs one math.Exp and one math.Pow,
// whatever n.
func (e *ewma) tick(window time.Duration, started bool, r float64, n int64) {
	if n <= 0 {
		return
	}
	if !started {
		*e = ewma(r)
		n--
	}
	if n == 0 {
		return
	}
	alpha := 1 - math.Exp(-tickInterval.Seconds()/window.Seconds())
	if n == 1 {
		*e += ewma(alpha * (r - float64(*e)))
		return
	}
	// n steps of rate += alpha*(r-rate) leave rate-r multiplied by (1-alpha)^n.
	*e = ewma(r + math.Pow(1-alpha, float64(n))*(float64(*e)-r))
}
