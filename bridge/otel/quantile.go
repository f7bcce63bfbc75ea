package otelbridge

import (
	"math"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// expHistogram is what a quantile estimate needs of an exponential
// histogram data point, whatever its number type.
type expHistogram struct {
	count          uint64
	scale          int32
	zeroCount      uint64
	zeroThreshold  float64
	pos, neg       metricdata.ExponentialBucket
	min, max       float64
	hasMin, hasMax bool
}

// quantile estimates the q-quantile (0 ≤ q ≤ 1) of h as Prometheus'
// histogram_quantile does for a native histogram: it finds the bucket
// holding the observation of rank q·count, counting from the most negative
// bucket up, and interpolates within it exponentially (within a bucket
// (b^i, b^(i+1)] the estimate is b^(i+f) for the fraction f of the bucket's
// count below the rank; the zero bucket is interpolated linearly). The
// estimate is then clamped to the recorded minimum and maximum when the
// histogram has them. It returns NaN when h is empty.
func (h *expHistogram) quantile(q float64) float64 {
	if h.count == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	v, found := h.atRank(q * float64(h.count))
	if !found { // rank beyond the buckets (counts that do not add up): the top
		switch {
		case h.hasMax:
			return h.max
		case len(h.pos.Counts) > 0:
			return h.pow(float64(h.pos.Offset) + float64(len(h.pos.Counts)))
		}
		return h.zeroThreshold
	}
	if h.hasMin && v < h.min {
		v = h.min
	}
	if h.hasMax && v > h.max {
		v = h.max
	}
	return v
}

// atRank returns the interpolated value of the observation of the given
// rank, counting from the most negative bucket up, or false when the
// buckets hold fewer observations.
func (h *expHistogram) atRank(rank float64) (float64, bool) {
	var below float64 // observations in the buckets already passed
	// Negative buckets: index i holds (-b^(i+1), -b^i]; the most negative
	// has the highest index.
	for i := len(h.neg.Counts) - 1; i >= 0; i-- {
		c := float64(h.neg.Counts[i])
		if c > 0 && below+c >= rank {
			return -h.pow(float64(h.neg.Offset) + float64(i) + 1 - (rank-below)/c), true
		}
		below += c
	}
	if c := float64(h.zeroCount); c > 0 {
		if below+c >= rank {
			lo := 0.0
			if len(h.neg.Counts) > 0 {
				lo = -h.zeroThreshold
			}
			return lo + (h.zeroThreshold-lo)*(rank-below)/c, true
		}
		below += c
	}
	for i, n := range h.pos.Counts {
		c := float64(n)
		if c > 0 && below+c >= rank {
			return h.pow(float64(h.pos.Offset) + float64(i) + (rank-below)/c), true
		}
		below += c
	}
	return 0, false
}

// pow returns b^x for the histogram's base b = 2^(2^-scale).
func (h *expHistogram) pow(x float64) float64 {
	return math.Exp2(math.Ldexp(x, -int(h.scale)))
}
