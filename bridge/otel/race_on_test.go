//go:build race

package otelbridge

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts of code using pools (the SDK) vary between runs.
const raceEnabled = true
