//go:build !linux

package reporter

// processMetrics returns nothing outside Linux: the process.* metrics are
// read from getrusage(2) and /proc there.
func processMetrics() []namedValue { return nil }
