//go:build !race

package reporter

// raceEnabled reports whether the tests run under the race detector, which
// makes allocation-heavy tests an order of magnitude slower.
const raceEnabled = false
