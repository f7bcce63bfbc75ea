package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// logLines collects what a Server logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// dataServer opens a started server on dir.
func dataServer(t *testing.T, dir string, opts ...Option) (*testServer, *logLines) {
	t.Helper()
	ll := &logLines{}
	s, err := startServer(t, append([]Option{WithDataDir(dir), WithLogger(ll.logf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, ll
}

func putN(t *testing.T, srv *testServer, metric string, from, n int) {
	t.Helper()
	var pts []string
	for i := from; i < from+n; i++ {
		pts = append(pts, fmt.Sprintf(`{"metric":%q,"timestamp":%d,"value":%d.5,"tags":{"h":"h%d"}}`, metric, 1500000000+i, i, i%3))
	}
	if code, resp := post(t, srv, "", "["+strings.Join(pts, ",")+"]"); code != 204 {
		t.Fatalf("put: %d %s", code, resp)
	}
}

func TestDataDirRestart(t *testing.T) {
	dir := t.TempDir()
	srv, _ := dataServer(t, dir)
	putN(t, srv, "a", 0, 10)
	putN(t, srv, "b", 0, 5)
	putN(t, srv, "a", 5, 3) // out of order, duplicates of a's timestamps
	before, series := srv.Points(), srv.Series()
	_, qa := query(t, srv, q(0, 2000000000, "fetch('a').downsample('1h', 'sum')"))
	srv.Close()

	srv, ll := dataServer(t, dir)
	if got := srv.Points(); !reflect.DeepEqual(got, before) {
		t.Errorf("after a restart: %d points, want %d in the same order", len(got), len(before))
	}
	if !reflect.DeepEqual(srv.Series(), series) {
		t.Errorf("series differ after a restart")
	}
	if _, q2 := query(t, srv, q(0, 2000000000, "fetch('a').downsample('1h', 'sum')")); q2 != qa {
		t.Errorf("query after a restart:\n%s\nwant\n%s", q2, qa)
	}
	if st := srv.Stats(); st.Loaded != 18 || st.LostRecords != 0 || st.MovedAside != 0 {
		t.Errorf("Stats %+v", st)
	}
	if !strings.Contains(ll.String(), "loaded 18 points of 6 series from 3 records") {
		t.Errorf("log: %s", ll)
	}
	// New puts go on after the old ones.
	putN(t, srv, "c", 0, 1)
	srv.Close()
	srv, _ = dataServer(t, dir)
	if n := len(srv.Points()); n != 19 || srv.Points()[18].Metric != "c" {
		t.Errorf("%d points after a second restart", n)
	}
}

func segmentFile(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	if len(m) != 1 {
		t.Fatalf("segments %q", m)
	}
	return m[0]
}

func TestDataDirTornTail(t *testing.T) {
	dir := t.TempDir()
	srv, _ := dataServer(t, dir)
	putN(t, srv, "a", 0, 10)
	putN(t, srv, "b", 0, 10)
	srv.Close()
	seg := segmentFile(t, dir)
	b, _ := os.ReadFile(seg)
	os.WriteFile(seg, b[:len(b)-7], 0o644) // a crash in the middle of the second write

	srv, ll := dataServer(t, dir)
	pts := srv.Points()
	if len(pts) != 10 || pts[9].Metric != "a" {
		t.Fatalf("%d points after a torn tail, want the first put's 10", len(pts))
	}
	st := srv.Stats()
	if st.LostRecords != 1 || st.LostPoints != 10 || st.MovedAside != int64(len(b)-7)-recordStart(t, b, 1) || st.Loaded != 10 {
		t.Errorf("Stats %+v", st)
	}
	if aside, _ := os.ReadFile(seg + ".corrupt"); !bytes.Equal(aside, b[recordStart(t, b, 1):len(b)-7]) {
		t.Errorf("%d bytes aside, want the torn record's %d", len(aside), len(b)-7-int(recordStart(t, b, 1)))
	}
	if !strings.Contains(ll.String(), "(torn record): lost 1 record of 10 points; moved aside to "+seg+".corrupt") {
		t.Errorf("log: %s", ll)
	}
	putN(t, srv, "c", 0, 2)
	srv.Close()
	srv, _ = dataServer(t, dir)
	if n, st := len(srv.Points()), srv.Stats(); n != 12 || st.LostRecords != 0 || st.MovedAside != 0 {
		t.Errorf("after the repair: %d points, %+v", n, st)
	}
}

// recordStart returns the offset of the i-th record (from 0) of a segment
// whose records are the same size but for their keys' tags (putN's).
func recordStart(t *testing.T, seg []byte, i int) int64 {
	t.Helper()
	// Records start with the sync marker; payloads (puts of putN) hold none.
	pos, n := int64(0), -1
	for n < i {
		j := bytes.Index(seg[pos:], []byte{0xa7, 0x5e, 0xc0, 0x12})
		if j < 0 {
			t.Fatalf("no record %d", i)
		}
		pos += int64(j)
		if n++; n < i {
			pos++
		}
	}
	return pos
}

func TestDataDirCorrupt(t *testing.T) {
	dir := t.TempDir()
	srv, _ := dataServer(t, dir)
	putN(t, srv, "a", 0, 10)
	putN(t, srv, "b", 0, 10)
	putN(t, srv, "c", 0, 10)
	srv.Close()
	seg := segmentFile(t, dir)
	b, _ := os.ReadFile(seg)
	second, third := recordStart(t, b, 1), recordStart(t, b, 2)
	b[(second+third)/2] ^= 0x10 // inside the second put's record
	os.WriteFile(seg, b, 0o644)

	srv, ll := dataServer(t, dir)
	if pts := srv.Points(); len(pts) != 20 || pts[9].Metric != "a" || pts[10].Metric != "c" {
		t.Errorf("%d points, want the first and the third put's 20", len(pts))
	}
	if st := srv.Stats(); st.LostRecords != 1 || st.LostPoints != 10 || st.MovedAside != third-second {
		t.Errorf("Stats %+v", st)
	}
	want := fmt.Sprintf("0000000000000001.wal: %d unreadable bytes at offset %d (checksum mismatch): lost 1 record of 10 points; moved aside to %s.corrupt", third-second, second, seg)
	if !strings.Contains(ll.String(), want) || !strings.Contains(ll.String(), "damaged: lost 1 record of 10 points, ") {
		t.Errorf("log: %s\nwant %s", ll, want)
	}

	// Garbage instead of the log: an empty store, not a panic; the garbage
	// moved aside.
	srv.Close()
	os.WriteFile(seg, []byte("not a log at all"), 0o644)
	srv, ll = dataServer(t, dir)
	if n, st := len(srv.Points()), srv.Stats(); n != 0 || st.LostRecords != 0 || st.MovedAside != 16 {
		t.Errorf("garbage: %d points, %+v", n, st)
	}
	if want := "16 unreadable bytes at offset 0 (no readable segment header): lost an unknown number of records"; !strings.Contains(ll.String(), want) {
		t.Errorf("log: %s\nwant %s", ll, want)
	}
}

// TestDataDirFlip flips one byte of a 100,000-point data directory (1,000
// puts of 100 points) at 1 %, 50 % and 99 % of its log: the put whose
// record holds it is lost, counted in Stats and in the start-up message,
// and the 99,900 other points load; two restarts after it load the same
// and report no loss.
func TestDataDirFlip(t *testing.T) {
	dir := t.TempDir()
	srv, _ := dataServer(t, dir)
	for i := 0; i < 1000; i++ {
		putN(t, srv, "m", i*100, 100)
	}
	srv.Close()
	seg := segmentFile(t, dir)
	orig, _ := os.ReadFile(seg)
	for _, pct := range []int{1, 50, 99} {
		t.Run(fmt.Sprintf("%d%%", pct), func(t *testing.T) {
			d := t.TempDir()
			b := bytes.Clone(orig)
			b[len(b)*pct/100] ^= 0x01
			os.WriteFile(filepath.Join(d, filepath.Base(seg)), b, 0o644)
			srv, ll := dataServer(t, d)
			series := srv.Series() // cheaper than Points, for the restarts' comparison
			st := srv.Stats()
			if st.Points != 99900 || st.Loaded != 99900 || st.LostRecords != 1 || st.LostPoints != 100 || st.MovedAside == 0 {
				t.Errorf("Stats %+v", st)
			}
			if !strings.Contains(ll.String(), "lost 1 record of 100 points; moved aside to "+filepath.Join(d, filepath.Base(seg))+".corrupt") {
				t.Errorf("log: %s", ll)
			}
			t.Logf("flip at %d%%: %d of 100,000 points loaded\n%s", pct, st.Points, ll)
			srv.Close()
			for i := 0; i < 2; i++ {
				srv, ll := dataServer(t, d)
				if again, st := srv.Series(), srv.Stats(); !reflect.DeepEqual(again, series) || st.Points != 99900 || st.LostRecords != 0 || st.MovedAside != 0 {
					t.Errorf("restart %d: %+v\n%s", i+1, st, ll)
				}
				srv.Close()
			}
		})
	}
}

func TestDataDirRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1500000100, 0)
	clock := func() time.Time { return now }
	srv, _ := dataServer(t, dir, WithClock(clock))
	putN(t, srv, "m", 0, 100) // 1500000000 … 1500000099
	srv.Close()
	// Restarted with a retention: the points past it are evicted on load.
	srv, _ = dataServer(t, dir, WithClock(clock), WithRetention(50*time.Second))
	st := srv.Stats()
	if st.Points != 50 || st.EvictedByAge != 50 || st.Loaded != 50 {
		t.Errorf("Stats %+v", st)
	}
}

func TestDataDirErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	_, err := New(WithDataDir(filepath.Join(file, "sub")))
	if err == nil || !strings.HasPrefix(err.Error(), "opening the data directory "+filepath.Join(file, "sub")+": ") {
		t.Errorf("Open on a file: %v", err)
	}
	// A log written by a later release: refused, and left as it is.
	dir := t.TempDir()
	seg := filepath.Join(dir, "0000000000000001.wal")
	os.WriteFile(seg, []byte("APTTWAL3 and what a later release writes"), 0o644)
	_, err = New(WithDataDir(dir))
	want := "opening the data directory " + dir + ": wal: " + seg + " is in format version 3; this program reads versions 1 and 2: use a newer one (nothing in " + dir + " was changed)"
	if err == nil || err.Error() != want {
		t.Errorf("New on a later format: %v\nwant %s", err, want)
	}
	if b, _ := os.ReadFile(seg); string(b) != "APTTWAL3 and what a later release writes" {
		t.Errorf("the segment changed: %q", b)
	}
}

func TestDataDirNoLeak(t *testing.T) {
	checkNoLeak(t, func() {
		srv := mustLaunch(t, WithDataDir(t.TempDir()), WithSyncInterval(time.Millisecond))
		post(t, srv, "", good1)
		time.Sleep(5 * time.Millisecond)
		srv.Close()
	})
}

// TestDataDirLocked: a second Server on a data directory in use fails at
// Open with ErrDataDirLocked naming this process; once the first is
// closed, the directory opens again with its points.
func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	srv, _ := dataServer(t, dir)
	putN(t, srv, "a", 0, 2)
	_, err := New(WithDataDir(dir))
	if !errors.Is(err, ErrDataDirLocked) {
		t.Fatalf("second Open: %v, want ErrDataDirLocked", err)
	}
	want := "opening the data directory " + dir + ": wal: directory is in use by another process: " +
		filepath.Join(dir, "lock") + " is locked (pid " + strconv.Itoa(os.Getpid()) + ")"
	if err.Error() != want {
		t.Errorf("second Open:\n%s\nwant\n%s", err, want)
	}
	srv.Close()
	srv2, _ := dataServer(t, dir)
	if n := len(srv2.Points()); n != 2 {
		t.Errorf("%d points after the first server closed, want 2", n)
	}
}
