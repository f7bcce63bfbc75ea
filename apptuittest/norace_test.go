//go:build !race

package apptuittest

const raceEnabled = false
