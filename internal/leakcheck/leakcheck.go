// Package leakcheck lets tests assert that the goroutines they started have
// ended. It is for this module's tests only.
package leakcheck

import (
	"runtime"
	"testing"
	"time"
)

// Timeout is how long Wait gives goroutines to end.
const Timeout = 5 * time.Second

// Wait fails t, with every goroutine's stack, unless the number of
// goroutines drops to at most before within Timeout.
func Wait(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutine leak: %d before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// AtCleanup records the number of goroutines now and checks, when the test
// and its other cleanups are done, that no more are running.
func AtCleanup(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() { Wait(t, before) })
}
