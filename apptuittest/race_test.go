//go:build race

package apptuittest

// raceEnabled scales down the tests that measure volume: the race detector
// makes parsing about ten times slower.
const raceEnabled = true
