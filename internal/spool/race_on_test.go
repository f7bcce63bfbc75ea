//go:build race

package spool

// raceEnabled: the race detector makes compression tens of times slower.
const raceEnabled = true
