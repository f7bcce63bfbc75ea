package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit"
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

// segments returns the log's segment files in dir.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// asideFiles returns the names of the .corrupt files in dir and their
// sizes.
func asideFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.corrupt"))
	out := map[string]int64{}
	for _, f := range m {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = fi.Size()
	}
	return out
}

// reopen opens a store of at most maxBytes (0: no bound) on dir, returns
// it with what it loaded and logged, and closes it at the end of the test.
func reopen(t *testing.T, dir string, maxBytes int64) (*Store, LoadReport, string) {
	t.Helper()
	var lines []string
	st := New(0, maxBytes, func() time.Time { return time.Unix(1700000000, 0) })
	lr, err := st.OpenLog(dir, time.Hour, func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, lr, strings.Join(lines, "\n")
}

// seconds returns the timestamps (seconds) of metric's points, per
// series: a cheap digest of what a store holds (Points allocates per point).
func seconds(st *Store, metric string) map[string][]int64 {
	out := map[string][]int64{}
	series, _ := st.Fetch(metric, 0, 1<<40, math.MaxInt)
	for _, s := range series {
		for _, p := range s.Points {
			out[s.Tags["h"]] = append(out[s.Tags["h"]], p.T)
		}
	}
	return out
}

func count(pts map[string][]int64) int {
	n := 0
	for _, p := range pts {
		n += len(p)
	}
	return n
}

// TestLogDamage flips a byte of a 100,000-point log (1,000 batches of
// 100) at 1 %, 50 % and 99 % of its length, and cuts it in the middle of
// its last record: only the batch touched is lost, it is counted, its
// bytes are moved aside, and two restarts load the same points with no
// new loss.
func TestLogDamage(t *testing.T) {
	dir := t.TempDir()
	st, _, _ := reopen(t, dir, 0)
	for i := 0; i < 1000; i++ {
		if _, err := st.Commit(batchOf("m", i*100, 100)); err != nil {
			t.Fatal(err)
		}
	}
	all := seconds(st, "m")
	st.Close()
	seg := segments(t, dir)[0]
	orig, _ := os.ReadFile(seg)
	size := len(orig)
	for _, tt := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"flip at 1%", func(b []byte) []byte { b[size/100] ^= 0x20; return b }},
		{"flip at 50%", func(b []byte) []byte { b[size/2] ^= 0x20; return b }},
		{"flip at 99%", func(b []byte) []byte { b[size*99/100] ^= 0x20; return b }},
		{"cut in the last record", func(b []byte) []byte { return b[:size-300] }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			b := tt.damage(bytes.Clone(orig))
			os.WriteFile(filepath.Join(d, filepath.Base(seg)), b, 0o644)
			st, lr, log := reopen(t, d, 0)
			got := seconds(st, "m")
			lostBatch := missingBatch(t, all, got)
			if n := count(got); n != 99900 || lr.Points != 99900 || lr.LostRecords != 1 || lr.LostPoints != 100 || lr.Unknown {
				t.Errorf("loaded %d points (report %+v), want all but one batch's 100", n, lr)
			}
			aside := asideFiles(t, d)
			if len(aside) != 1 || aside[filepath.Base(seg)+".corrupt"] != lr.Aside || lr.Aside < 100 || lr.Aside > 2000 {
				t.Errorf("moved aside: %v, report %+v", aside, lr)
			}
			if !strings.Contains(log, "unreadable bytes at offset") || !strings.Contains(log, "lost 1 record of 100 points; moved aside to "+filepath.Join(d, filepath.Base(seg)+".corrupt")) ||
				!strings.Contains(log, "loaded 99900 points of 3 series from 999 records") || !strings.Contains(log, "damaged: lost 1 record of 100 points, ") {
				t.Errorf("log:\n%s", log)
			}
			t.Logf("%s: batch %d lost; %d of 100,000 points loaded; %d bytes moved aside\n%s", tt.name, lostBatch, count(got), lr.Aside, log)
			st.Close()
			// Two restarts: the same points, nothing lost, nothing more aside.
			for i := 0; i < 2; i++ {
				st, lr, log := reopen(t, d, 0)
				if again := seconds(st, "m"); !reflect.DeepEqual(again, got) || lr.LostRecords != 0 || lr.Aside != 0 || len(asideFiles(t, d)) != 1 {
					t.Errorf("restart %d: %d points, %+v\n%s", i+1, count(again), lr, log)
				}
				st.Close()
			}
		})
	}
}

// missingBatch returns the batch of the points of all missing from got,
// and checks that they are one whole batch (batchOf's: 100 seconds from
// 1500000000 + 100×batch, over the series h=0, 1, 2).
func missingBatch(t *testing.T, all, got map[string][]int64) int {
	t.Helper()
	batch, n := -1, 0
	for h, secs := range all {
		have := map[int64]bool{}
		for _, s := range got[h] {
			have[s] = true
		}
		for _, s := range secs {
			if !have[s] {
				b := int(s-1500000000) / 100
				if batch >= 0 && b != batch {
					t.Errorf("points of batches %d and %d missing", batch, b)
				}
				batch = b
				n++
			}
		}
	}
	if n != 100 {
		t.Errorf("%d points missing, want one batch's 100", n)
	}
	return batch
}

// TestLogSnapshotDamage: a flipped byte in a compacted log's snapshot
// records costs the record it is in (one series' points), counted
// exactly; the records after it, snapshot and batches, load; a flipped
// byte in the segment header costs nothing.
func TestLogSnapshotDamage(t *testing.T) {
	dir := t.TempDir()
	st, _, _ := reopen(t, dir, 4<<10) // about 2,000 points
	st.log.slack = 1000
	for i := 0; i < 100; i++ { // 10,000 points, 3 series: compactions
		if _, err := st.Commit(batchOf("m", i*100, 100)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ { // batch records after the snapshot
		if _, err := st.Commit(batchOf("n", 20000+i*10, 10)); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	// Reopened without the bound, the log's points: the snapshot's and the
	// batches' after it.
	base, _, _ := reopen(t, dir, 0)
	all := base.Points()
	base.Close()
	perSeries := map[string]int{}
	for _, p := range all {
		perSeries[p.Metric+p.Tags["h"]]++
	}
	seg := segments(t, dir)[0]
	orig, _ := os.ReadFile(seg)
	if orig[48+36] != 'S' {
		t.Fatalf("the log does not start with a snapshot record: %q", orig[48+36])
	}
	for _, tt := range []struct {
		name string
		pos  int
		lost int
	}{
		{"first snapshot record", 48 + 36 + 20, -1},
		{"segment header", 10, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			b := bytes.Clone(orig)
			b[tt.pos] ^= 1
			os.WriteFile(filepath.Join(d, filepath.Base(seg)), b, 0o644)
			st, lr, log := reopen(t, d, 0)
			got := st.Points()
			lost := len(all) - len(got)
			if tt.lost >= 0 && lost != tt.lost {
				t.Errorf("%d points lost, want %d", lost, tt.lost)
			}
			if tt.lost < 0 {
				// One series' snapshot record: as many points as that series had
				// in the snapshot, all of one series.
				lostSeries := map[string]int{}
				have := map[string]int{}
				for _, p := range got {
					have[p.Metric+p.Tags["h"]]++
				}
				for k, n := range perSeries {
					if have[k] != n {
						lostSeries[k] = n - have[k]
					}
				}
				if len(lostSeries) != 1 || lost == 0 || int64(lost) != lr.LostPoints || lr.LostRecords != 1 {
					t.Errorf("lost %v (%d points), report %+v", lostSeries, lost, lr)
				}
			} else if lr.LostRecords != 0 || lr.LostPoints != 0 || lr.Aside != 24 {
				t.Errorf("report %+v", lr)
			}
			t.Logf("%s: %d of %d points loaded\n%s", tt.name, len(got), len(all), log)
			st.Close()
			st, lr, _ = reopen(t, d, 0)
			if again := st.Points(); !reflect.DeepEqual(again, got) || lr.LostRecords != 0 || lr.Aside != 0 {
				t.Errorf("restart: %d points, %+v", len(again), lr)
			}
		})
	}
}

// TestLogFormat1 loads testdata/v1, a directory the previous format's code
// wrote (d9af11b), and finds the points it held there; the log is then
// converted, and loads the same again.
func TestLogFormat1(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("testdata", "v1", "data")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "v1", "points.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, lr, log := reopen(t, dir, 0)
	got, _ := json.Marshal(byKeyAndTime(st.Points()))
	if !bytes.Equal(got, want) || lr.Points != 585 || lr.LostRecords != 0 {
		t.Errorf("loaded %+v, points differ: %v", lr, !bytes.Equal(got, want))
	}
	if !strings.Contains(log, "loaded 585 points of 6 series from 13 records") || !strings.Contains(log, "converted the log from format 1 to format 2") {
		t.Errorf("log:\n%s", log)
	}
	st.Close()
	if segs := segments(t, dir); len(segs) != 1 || filepath.Base(segs[0]) != "0000000000000004.wal" {
		t.Errorf("segments after the conversion: %q", segs)
	}
	st, lr, log = reopen(t, dir, 0)
	got, _ = json.Marshal(byKeyAndTime(st.Points()))
	if !bytes.Equal(got, want) || strings.Contains(log, "format 1") {
		t.Errorf("after the conversion: %+v, points differ: %v\n%s", lr, !bytes.Equal(got, want), log)
	}
}

// byKeyAndTime sorts points by metric and tags (as JSON), then time,
// keeping the order of points at one time: the order of testdata/v1's
// points.json.
func byKeyAndTime(pts []apptuit.DataPoint) []apptuit.DataPoint {
	key := func(p apptuit.DataPoint) string { b, _ := json.Marshal(p.Tags); return p.Metric + string(b) }
	slices.SortStableFunc(pts, func(a, b apptuit.DataPoint) int {
		return cmp.Or(strings.Compare(key(a), key(b)), a.Timestamp.Compare(b.Timestamp))
	})
	return pts
}
