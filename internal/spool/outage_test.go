package spool

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// fillFor appends incompressible records of recBytes to s until it has
// written total bytes or d has passed, checking after every append that
// the segment files stay within limit. It returns the bytes appended, the
// peak size and the peak live heap (sampled).
func fillFor(t *testing.T, s *Spool, limit int64, recBytes int, total int64, d time.Duration) (appended, peak int64, peakHeap uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	rec := make([]byte, recBytes)
	for i := range rec {
		rec[i] = byte(rng.Uint32())
	}
	deadline := time.Now().Add(d)
	var ms runtime.MemStats
	var dropped int64
	for i := 0; appended < total && time.Now().Before(deadline); i++ {
		// Change the record so that no two are alike.
		rec[i%len(rec)] ^= byte(i)
		drop, err := s.Append(rec, 100)
		if err != nil {
			t.Fatal(err)
		}
		dropped += drop
		appended += int64(len(rec))
		st := s.Stats()
		if st.Bytes > limit {
			t.Fatalf("after %d bytes appended: %d bytes on disk, over the limit %d", appended, st.Bytes, limit)
		}
		peak = max(peak, st.Bytes)
		if i%64 == 0 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapAlloc)
		}
	}
	st := s.Stats()
	if st.DroppedPoints != dropped || st.Points+dropped != appended/int64(recBytes)*100 {
		t.Fatalf("points: %d left + %d dropped (%d returned by Append) != %d appended", st.Points, st.DroppedPoints, dropped, appended/int64(recBytes)*100)
	}
	return appended, peak, peakHeap
}

// TestLongOutage: a 4 MiB spool fed 40 MiB (ten times its size; 12 MiB
// under the race detector) holds at its limit, with bounded memory, and
// keeps the newest data.
func TestLongOutage(t *testing.T) {
	const limit = 4 << 20
	s := open(t, t.TempDir(), Options{MaxBytes: limit, Sync: SyncNever})
	total := int64(10 * limit)
	if raceEnabled {
		total = 3 * limit // compression is slow under the race detector
	}
	appended, peak, heap := fillFor(t, s, limit, 32<<10, total, time.Minute)
	if appended < total {
		t.Fatalf("appended only %d bytes in a minute", appended)
	}
	st := s.Stats()
	if st.Bytes < limit-s.opt.SegmentBytes-(32<<10) {
		t.Errorf("holds %d bytes, want at least %d", st.Bytes, limit-s.opt.SegmentBytes-(32<<10))
	}
	if heap > 32<<20 {
		t.Errorf("peak heap %d bytes", heap)
	}
	t.Logf("limit %d: appended %d, peak %d, now %d in %d segments, dropped %d segments; peak heap %d", limit, appended, peak, st.Bytes, st.Segments, st.DroppedSegments, heap)
}

// TestOneGiBOutage: a spool with a 1 GiB limit, fed incompressible records
// until it has taken 1.25 GiB (or for at most 3 minutes: the machine may be
// slow), never holds more than 1 GiB, and once past the limit holds at
// least 1 GiB less a segment. Peak heap stays far below the data size.
func TestOneGiBOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes over a GiB")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector; .ci/run runs it without")
	}
	const limit = 1 << 30
	s := open(t, t.TempDir(), Options{MaxBytes: limit, Sync: SyncNever})
	start := time.Now()
	appended, peak, heap := fillFor(t, s, limit, 1<<20, limit+limit/4, 3*time.Minute)
	st := s.Stats()
	t.Logf("limit %d: appended %d in %v, peak %d, now %d in %d segments, dropped %d segments (%d points); peak heap %d",
		int64(limit), appended, time.Since(start).Round(time.Millisecond), peak, st.Bytes, st.Segments, st.DroppedSegments, st.DroppedPoints, heap)
	if appended > limit {
		if st.DroppedSegments == 0 || st.Bytes < limit-s.opt.SegmentBytes-(1<<20) {
			t.Errorf("past the limit: %d bytes held, %d segments dropped", st.Bytes, st.DroppedSegments)
		}
	} else {
		t.Logf("the limit was not reached in the time allowed: only the bound was checked")
	}
	if heap > 64<<20 {
		t.Errorf("peak heap %d bytes", heap)
	}
	s.Close()
}
