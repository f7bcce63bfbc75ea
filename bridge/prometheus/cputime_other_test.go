//go:build !unix

package prombridge_test

import "time"

// cpuTime is not measured here: the paired test reports wall time only.
func cpuTime() time.Duration { return 0 }
