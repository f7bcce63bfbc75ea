package metrics

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// procStatus returns a field of /proc/self/status in bytes (a "kB" value),
// and false where there is no such file.
func procStatus(t *testing.T, field string) (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return kb << 10, true
		}
	}
	return 0, false
}

// rssPeakGrowth runs f and returns how far the process's resident set rose
// above what it was before f, at its peak: on Linux, VmHWM after f (reset
// before f through /proc/self/clear_refs) less VmRSS before; elsewhere the
// growth of the memory the Go runtime obtained from the system
// (runtime.MemStats.Sys), which is never less than the resident heap.
func rssPeakGrowth(t *testing.T, f func()) int64 {
	runtime.GC()
	if rss, ok := procStatus(t, "VmRSS"); ok && os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil {
		f()
		hwm, _ := procStatus(t, "VmHWM")
		return hwm - rss
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.Sys) - int64(before.Sys)
}

// TestTagExplosionMemoryBounded feeds a vector 10,000,000 distinct tag
// values (200,000 under the race detector), as a request ID put in a tag
// would, and checks that the registry keeps the default limit of series
// plus the overflow series, that the overflow series counts every update
// past the limit, and that the process's peak RSS grows by less than
// 64 MiB (it would take gigabytes to keep 10M series).
func TestTagExplosionMemoryBounded(t *testing.T) {
	n := 10_000_000
	if raceEnabled {
		n = 200_000
	}
	r := NewRegistry()
	v, err := r.CounterVec("http.requests", "request_id")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	growth := rssPeakGrowth(t, func() {
		var buf []byte
		for i := range n {
			buf = strconv.AppendInt(buf[:0], int64(i), 10)
			v.With(string(buf)).Inc()
		}
	})
	elapsed := time.Since(start)
	overflow, _ := r.CounterWith("http.requests", map[string]string{OverflowTag: "true"})
	if got := r.Len(); got != DefaultSeriesLimit+1 {
		t.Errorf("%d series, want %d", got, DefaultSeriesLimit+1)
	}
	if got := overflow.Count(); got != int64(n-DefaultSeriesLimit) {
		t.Errorf("overflow series counts %d, want %d", got, n-DefaultSeriesLimit)
	}
	st := r.EndInterval()
	if len(st.Errors) != 1 || st.Overflowed != int64(n-DefaultSeriesLimit) {
		t.Errorf("EndInterval: %d errors, %d overflowed", len(st.Errors), st.Overflowed)
	}
	const bound = 64 << 20
	if growth > bound {
		t.Errorf("peak RSS grew by %.1f MiB for %d distinct tag values, more than %d MiB", float64(growth)/(1<<20), n, bound>>20)
	}
	t.Logf("%d distinct tag values in %v (%.0f ns each): %d series kept, peak RSS grew by %.1f MiB (bound %d MiB)",
		n, elapsed.Round(time.Millisecond), float64(elapsed)/float64(n), r.Len(), float64(growth)/(1<<20), bound>>20)
}
