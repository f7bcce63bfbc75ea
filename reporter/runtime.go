package reporter

import (
	"context"
	"math"
	"runtime/metrics"
)

// Names of the runtime and process metrics of RuntimeMetrics.
const (
	GoGoroutines          = "go.goroutines"                 // goroutines that exist now
	GoGCCycles            = "go.gc.cycles"                  // completed GC cycles since the process started
	GoGCPauseTotalSeconds = "go.gc.pause.total_seconds"     // time the world was stopped for GC since start (estimated)
	GoHeapBytes           = "go.heap.bytes"                 // bytes of live and not yet swept heap objects
	GoHeapObjects         = "go.heap.objects"               // live and not yet swept heap objects
	ProcessCPUUserSeconds = "process.cpu.user_seconds"      // user CPU time since start (Linux)
	ProcessCPUSystemSecs  = "process.cpu.system_seconds"    // system CPU time since start (Linux)
	ProcessResidentBytes  = "process.resident_memory.bytes" // resident set size (Linux)
	ProcessOpenFDs        = "process.open_fds"              // open file descriptors (Linux)
)

// runtimeSamples are the runtime/metrics read for the go.* metrics, in the
// order of runtimeNames.
var runtimeSamples = []string{
	"/sched/goroutines:goroutines",
	"/gc/cycles/total:gc-cycles",
	"/sched/pauses/total/gc:seconds",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/objects:objects",
}

var runtimeNames = []string{GoGoroutines, GoGCCycles, GoGCPauseTotalSeconds, GoHeapBytes, GoHeapObjects}

// runtimeCollector reads the Go runtime's and the operating system's view
// of the process.
type runtimeCollector struct {
	samples []metrics.Sample
}

// RuntimeMetrics returns a Source of the Go runtime and process metrics:
// gauges named GoGoroutines to ProcessOpenFDs (above), without tags of
// their own. They are read from runtime/metrics, which does not stop the
// world, and from the operating system (the process.* ones on Linux only).
// Give it to one reporter with WithSource: it is not safe for concurrent
// use.
func RuntimeMetrics() Source {
	rc := &runtimeCollector{samples: make([]metrics.Sample, len(runtimeSamples))}
	for i, n := range runtimeSamples {
		rc.samples[i].Name = n
	}
	return rc
}

func (rc *runtimeCollector) String() string { return "runtime metrics" }

// Collect emits the runtime and process metrics, without tags.
func (rc *runtimeCollector) Collect(_ context.Context, emit Emit) error {
	metrics.Read(rc.samples)
	for i := range rc.samples {
		if v, ok := sampleValue(&rc.samples[i]); ok {
			emit(runtimeNames[i], nil, v)
		}
	}
	for _, p := range processMetrics() {
		emit(p.name, nil, p.value)
	}
	return nil
}

func sampleValue(s *metrics.Sample) (float64, bool) {
	switch s.Value.Kind() {
	case metrics.KindUint64:
		return float64(s.Value.Uint64()), true
	case metrics.KindFloat64:
		return s.Value.Float64(), true
	case metrics.KindFloat64Histogram:
		return histogramTotal(s.Value.Float64Histogram()), true
	}
	return 0, false // not supported by this Go version
}

// histogramTotal estimates the sum of the values counted by h: each bucket's
// count times its midpoint (its finite edge for an unbounded bucket).
func histogramTotal(h *metrics.Float64Histogram) float64 {
	total := 0.0
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		var mid float64
		switch {
		case math.IsInf(lo, -1):
			mid = hi
		case math.IsInf(hi, 1):
			mid = lo
		default:
			mid = (lo + hi) / 2
		}
		total += float64(n) * mid
	}
	return total
}

type namedValue struct {
	name  string
	value float64
}
