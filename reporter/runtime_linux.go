package reporter

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// processMetrics reads CPU time from getrusage(2), the resident set size
// from /proc/self/statm and the open descriptors from /proc/self/fd. A value
// that cannot be read is left out.
func processMetrics() []namedValue {
	out := make([]namedValue, 0, 4)
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		out = append(out,
			namedValue{ProcessCPUUserSeconds, float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6},
			namedValue{ProcessCPUSystemSecs, float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6})
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := bytes.Fields(b); len(f) > 1 {
			if pages, err := strconv.ParseUint(string(f[1]), 10, 64); err == nil {
				out = append(out, namedValue{ProcessResidentBytes, float64(pages) * float64(os.Getpagesize())})
			}
		}
	}
	if d, err := os.Open("/proc/self/fd"); err == nil {
		names, err := d.Readdirnames(-1)
		d.Close()
		if err == nil && len(names) > 0 {
			// The descriptor reading the directory is listed too.
			out = append(out, namedValue{ProcessOpenFDs, float64(len(names) - 1)})
		}
	}
	return out
}
