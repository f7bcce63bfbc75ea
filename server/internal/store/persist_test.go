package store

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// logStore opens a store of at most maxBytes on the log in dir.
func logStore(t *testing.T, dir string, maxBytes int64) (*Store, *[]string) {
	t.Helper()
	var lines []string
	st := New(0, maxBytes, time.Now)
	if _, err := st.OpenLog(dir, time.Second, func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, &lines
}

// batchOf returns n points of metric m from second from on, in 3 series.
func batchOf(m string, from, n int) *opentsdb.Batch {
	var b opentsdb.Batch
	for i := from; i < from+n; i++ {
		b.Add([]byte(opentsdb.SeriesKeyOf(m, map[string]string{"h": fmt.Sprint(i % 3)})), int64(1500000000+i)*1000, float64(i)+0.5)
	}
	return &b
}

// TestLogBounded commits 400 batches into a store keeping 4 KiB, about
// two thousand points: compactions keep the log at a few times the live
// points, and a reopened store finds exactly what was kept.
func TestLogBounded(t *testing.T) {
	dir := t.TempDir()
	st, lines := logStore(t, dir, 4<<10)
	st.log.slack = 2000
	for i := 0; i < 400; i++ {
		if _, err := st.Commit(batchOf("m", i*50, 50)); err != nil {
			t.Fatal(err)
		}
	}
	size := st.log.w.Size()
	before := st.Points()
	s := st.Stats()
	if s.Points < 1000 || s.Points > 5000 || uint64(s.Points)+s.EvictedByMemory != 20000 || s.Bytes > 4<<10 {
		t.Errorf("Stats %+v", s)
	}
	st.Close()
	// 20,000 points went in; the log holds at most 2×live + 2,000 (plus one batch).
	if size > int64(2*s.Points+2050)*12+4096 {
		t.Errorf("log of %d bytes for %d live points", size, s.Points)
	}
	compacted := 0
	for _, l := range *lines {
		if strings.Contains(l, "compacted") {
			compacted++
		}
	}
	if compacted < 1 {
		t.Errorf("no compaction: %q", *lines)
	}
	st, _ = logStore(t, dir, 4<<10)
	if got := st.Points(); !reflect.DeepEqual(got, before) {
		t.Errorf("reopened: %d points, want the %d kept", len(got), len(before))
	}
	t.Logf("log %d bytes for %d live points after 20,000 stored", size, s.Points)
}

// TestLogWriteError: a commit the log cannot take fails and stores nothing.
func TestLogWriteError(t *testing.T) {
	st, _ := logStore(t, t.TempDir(), 0)
	st.log.w.Close() // the log cannot be written any more
	_, err := st.Commit(batchOf("m", 0, 1))
	if err == nil || err.Error() != "writing the data log: wal: log closed" {
		t.Errorf("Commit: %v", err)
	}
	if n := len(st.Points()); n != 0 {
		t.Errorf("%d points stored in memory though not logged", n)
	}
}
