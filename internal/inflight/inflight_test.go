package inflight

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/leakcheck"
)

// Jobs that end in any order are handed to Done in the order they were
// added, and no more than Limit run at once.
func TestWindowOrderAndLimit(t *testing.T) {
	leakcheck.AtCleanup(t)
	for _, limit := range []int{0, 1, 2, 5} {
		var running, peak atomic.Int32
		var got []int
		w := Window[int]{Limit: limit, Done: func(k int) { got = append(got, k) }}
		for k := range 20 {
			w.Add(func() int {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(time.Duration(20-k) * 100 * time.Microsecond) // later jobs end sooner
				running.Add(-1)
				return k
			})
		}
		w.Wait()
		if want := max(limit, 1); int(peak.Load()) != want {
			t.Errorf("limit %d: %d jobs ran at once, want %d", limit, peak.Load(), want)
		}
		if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}) {
			t.Errorf("limit %d: Done got %v", limit, got)
		}
	}
}

// With a limit of 1, jobs run on the caller's goroutine, one after the
// other, and each is handed back before Add returns.
func TestWindowLimitOneRunsInline(t *testing.T) {
	var done []int
	w := Window[int]{Limit: 1, Done: func(k int) { done = append(done, k) }}
	for k := range 3 {
		inline := false
		w.Add(func() int { inline = true; return k })
		if !inline || len(done) != k+1 {
			t.Fatalf("job %d: inline %v, done %v", k, inline, done)
		}
	}
	w.Wait()
}

// Stop is asked as soon as a job ends, even when an older one is still
// running: no job starts after it said true, and every job started is
// still handed to Done, in order.
func TestWindowStop(t *testing.T) {
	leakcheck.AtCleanup(t)
	release := make(chan struct{})
	var got []int
	w := Window[int]{Limit: 2, Done: func(k int) { got = append(got, k) }, Stop: func(k int) bool { return k == 1 }}
	w.Add(func() int { <-release; return 0 }) // slow
	w.Add(func() int { return 1 })            // fails at once
	started := w.Add(func() int { return 2 })
	close(release)
	w.Wait()
	if started || !w.Stopped() {
		t.Errorf("a job started after Stop said true (stopped %v)", w.Stopped())
	}
	if !slices.Equal(got, []int{0, 1}) {
		t.Errorf("Done got %v, want [0 1]", got)
	}
	if w.Add(func() int { t.Error("ran after stop"); return 3 }) {
		t.Error("Add after stop returned true")
	}
}

// Done may change the limit: the reporter starts a report after a failed
// one with a window of 1 and widens it after the first success.
func TestWindowDoneChangesLimit(t *testing.T) {
	leakcheck.AtCleanup(t)
	var running, peak atomic.Int32
	var w Window[int]
	w.Limit = 1
	w.Done = func(int) { w.Limit = 3 }
	for k := range 12 {
		w.Add(func() int {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			return k
		})
	}
	w.Wait()
	if peak.Load() != 3 {
		t.Errorf("%d jobs ran at once, want 3 once the first was done", peak.Load())
	}
}

// A slow job holds back the start of jobs Limit places behind it, even
// when the jobs between have ended: sends go out nearly in order.
func TestWindowStartsAtMostLimitAhead(t *testing.T) {
	leakcheck.AtCleanup(t)
	release := make(chan struct{})
	var started atomic.Int32
	w := Window[int]{Limit: 2, Done: func(int) {}}
	w.Add(func() int { started.Add(1); <-release; return 0 })
	w.Add(func() int { started.Add(1); return 1 })
	go func() {
		time.Sleep(50 * time.Millisecond)
		if n := started.Load(); n != 2 {
			t.Errorf("%d jobs started while the first is still running, want 2", n)
		}
		close(release)
	}()
	w.Add(func() int { started.Add(1); return 2 })
	w.Wait()
}

// Room returns once a job added next would start at once, having handed
// back what ended meanwhile, and false once Stop said true: the reporter
// asks it before deciding whether a kept batch can still be sent in time.
func TestWindowRoom(t *testing.T) {
	leakcheck.AtCleanup(t)
	release := make(chan struct{})
	var got []int
	w := Window[int]{Limit: 2, Done: func(k int) { got = append(got, k) }, Stop: func(k int) bool { return k == 9 }}
	if !w.Room() {
		t.Fatal("no room in an empty window")
	}
	w.Add(func() int { <-release; return 0 })
	w.Add(func() int { return 1 })
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(release)
	}()
	start := time.Now()
	if !w.Room() {
		t.Fatal("Room returned false before any stop")
	}
	if waited := time.Since(start); waited < 15*time.Millisecond {
		t.Errorf("Room returned after %v with two jobs running and a limit of 2", waited)
	}
	if !slices.Equal(got, []int{0, 1}) {
		t.Errorf("Done got %v by the time Room returned, want [0 1]", got)
	}
	w.Add(func() int { return 9 })
	w.Wait()
	if w.Room() {
		t.Error("Room returned true after Stop said true")
	}
}
