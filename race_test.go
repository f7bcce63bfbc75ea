//go:build race

package apptuit

const raceEnabled = true
