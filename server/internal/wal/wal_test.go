package wal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/leakcheck"

	"github.com/apptuit-go/apptuit/internal/dirlock"
)

// open opens dir and returns the log and the records replayed.
func open(t testing.TB, dir string, opts Options) (*Log, [][]byte, Report) {
	t.Helper()
	var recs [][]byte
	l, rep, err := Open(dir, opts, func(p []byte) error {
		recs = append(recs, bytes.Clone(p))
		return nil
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l, recs, rep
}

// replayed opens dir, closes it and returns the records replayed.
func replayed(t testing.TB, dir string) ([][]byte, Report) {
	t.Helper()
	l, recs, rep := open(t, dir, Options{})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return recs, rep
}

func records(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		out = append(out, bytes.Repeat([]byte{byte('a' + i%26)}, 10+i*7))
	}
	return out
}

func appendAll(t testing.TB, l *Log, recs [][]byte) {
	t.Helper()
	for _, r := range recs {
		// In two parts, as the store writes its batches.
		if err := l.Append(r[:len(r)/2], r[len(r)/2:]); err != nil {
			t.Fatal(err)
		}
	}
}

func segments(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Name() != dirlock.Name {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l, recs, rep := open(t, dir, Options{})
	if len(recs) != 0 || rep.Segments != 0 || !reflect.DeepEqual(segments(t, dir), []string{"0000000000000001.wal"}) {
		t.Fatalf("a new log: %d records, %+v, files %q", len(recs), rep, segments(t, dir))
	}
	want := records(5)
	appendAll(t, l, want)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, got, rep := open(t, dir, Options{})
	defer l.Close()
	if !reflect.DeepEqual(got, want) || rep.Records != 5 || rep.Segments != 1 || len(rep.Drops) != 0 {
		t.Fatalf("replayed %d records (%+v), want 5", len(got), rep)
	}
	if wantSize := int64(headerSize + 5*8 + 10*5 + 7*10); rep.Bytes != wantSize || l.Size() != wantSize {
		t.Errorf("size %d/%d, want %d", rep.Bytes, l.Size(), wantSize)
	}
	// Appending after a reopen continues the same segment.
	appendAll(t, l, records(1))
	l.Close()
	got, _ = replayed(t, dir)
	if len(got) != 6 {
		t.Errorf("%d records after a reopen and an append, want 6", len(got))
	}
}

func TestRewrite(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	appendAll(t, l, records(4))
	err := l.Rewrite(func(add func(...[]byte) error) error {
		return add([]byte("snap"), []byte("shot"))
	})
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, l, records(1))
	if got := segments(t, dir); !reflect.DeepEqual(got, []string{"0000000000000002.wal"}) {
		t.Errorf("files %q after a rewrite", got)
	}
	if l.Size() != headerSize+8+8+8+10 {
		t.Errorf("size %d", l.Size())
	}
	l.Close()
	got, _ := replayed(t, dir)
	if want := [][]byte{[]byte("snapshot"), records(1)[0]}; !reflect.DeepEqual(got, want) {
		t.Errorf("replayed %q, want %q", got, want)
	}

	// A failing rewrite leaves the log as it was.
	l, _, _ = open(t, dir, Options{})
	boom := errors.New("boom")
	if err := l.Rewrite(func(add func(...[]byte) error) error { add([]byte("x")); return boom }); err != boom {
		t.Errorf("Rewrite: %v", err)
	}
	l.Close()
	got2, _ := replayed(t, dir)
	if !reflect.DeepEqual(got2, got) || !reflect.DeepEqual(segments(t, dir), []string{"0000000000000002.wal"}) {
		t.Errorf("after a failed rewrite: %q, files %q", got2, segments(t, dir))
	}
}

// TestInterruptedRewrite leaves what a crash during Rewrite can leave: a
// temporary file (crash before the rename), or the old segments beside
// the new base (crash after the rename, before the deletes).
func TestInterruptedRewrite(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	appendAll(t, l, records(3))
	l.Close()
	os.WriteFile(filepath.Join(dir, "0000000000000002.wal.tmp"), []byte("half a snapshot"), 0o644)
	got, rep := replayed(t, dir)
	if len(got) != 3 || rep.Removed != 1 || !reflect.DeepEqual(segments(t, dir), []string{"0000000000000001.wal"}) {
		t.Fatalf("%d records, %+v, files %q", len(got), rep, segments(t, dir))
	}

	// The new base is in place, the old segment still there.
	base := append(header(true), recordBytes([]byte("snapshot"))...)
	os.WriteFile(filepath.Join(dir, "0000000000000002.wal"), base, 0o644)
	got, rep = replayed(t, dir)
	if !reflect.DeepEqual(got, [][]byte{[]byte("snapshot")}) || rep.Removed != 1 || !reflect.DeepEqual(segments(t, dir), []string{"0000000000000002.wal"}) {
		t.Fatalf("replayed %q, %+v, files %q", got, rep, segments(t, dir))
	}
}

func recordBytes(p []byte) []byte {
	h, _, _ := recordHeader([][]byte{p})
	return append(h, p...)
}

// TestTornTail cuts the log at every length inside its last record: the
// records before it come back, the cut is reported once and repaired.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	want := records(3)
	appendAll(t, l, want)
	l.Close()
	path := filepath.Join(dir, "0000000000000001.wal")
	full, _ := os.ReadFile(path)
	lastStart := len(full) - 8 - len(want[2])
	for cut := lastStart + 1; cut < len(full); cut++ {
		os.WriteFile(path, full[:cut], 0o644)
		l, got, rep := open(t, dir, Options{})
		if !reflect.DeepEqual(got, want[:2]) {
			t.Fatalf("cut at %d: %d records, want 2", cut, len(got))
		}
		reason := "torn record header"
		if cut-lastStart >= 8 {
			reason = fmt.Sprintf("torn record: %d bytes announced, %d left", len(want[2]), cut-lastStart-8)
		}
		if want := []Drop{{Segment: "0000000000000001.wal", Offset: int64(lastStart), Bytes: int64(cut - lastStart), Reason: reason}}; !reflect.DeepEqual(rep.Drops, want) {
			t.Fatalf("cut at %d: drops %+v, want %+v", cut, rep.Drops, want)
		}
		// Repaired: appends go after the good records, and a second open is clean.
		appendAll(t, l, want[2:])
		l.Close()
		l, got, rep = open(t, dir, Options{})
		l.Close()
		if !reflect.DeepEqual(got, want) || len(rep.Drops) != 0 {
			t.Fatalf("cut at %d, then appended: %d records, drops %+v", cut, len(got), rep.Drops)
		}
	}
}

func TestCorruption(t *testing.T) {
	want := records(4)
	write := func(t *testing.T) (string, string, []byte) {
		dir := t.TempDir()
		l, _, _ := open(t, dir, Options{})
		appendAll(t, l, want)
		l.Close()
		path := filepath.Join(dir, "0000000000000001.wal")
		b, _ := os.ReadFile(path)
		return dir, path, b
	}
	second := headerSize + 8 + len(want[0])
	tests := []struct {
		name   string
		damage func([]byte) []byte
		kept   int
		drop   Drop
	}{
		{"payload byte", func(b []byte) []byte { b[second+8+3] ^= 1; return b }, 1,
			Drop{"0000000000000001.wal", int64(second), 0, "checksum mismatch"}},
		{"crc byte", func(b []byte) []byte { b[second+5] ^= 0x80; return b }, 1,
			Drop{"0000000000000001.wal", int64(second), 0, "checksum mismatch"}},
		{"huge length", func(b []byte) []byte { b[second+3] = 0xff; return b }, 1,
			Drop{"0000000000000001.wal", int64(second), 0, fmt.Sprintf("record length %d over the limit", 0xff000000|len(want[1]))}},
		{"bad header", func(b []byte) []byte { b[2] = 'x'; return b }, 0,
			Drop{"0000000000000001.wal", 0, 0, "bad segment header"}},
		{"zeros", func(b []byte) []byte { return append(b, make([]byte, 100)...) }, 4,
			Drop{"0000000000000001.wal", 0, 100, "checksum mismatch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, path, b := write(t)
			b = tt.damage(b)
			os.WriteFile(path, b, 0o644)
			l, got, rep := open(t, dir, Options{})
			l.Close()
			if len(got) != tt.kept || (tt.kept > 0 && !reflect.DeepEqual(got, want[:tt.kept])) {
				t.Errorf("kept %d records, want %d", len(got), tt.kept)
			}
			d := tt.drop
			if d.Bytes == 0 {
				d.Bytes = int64(len(b)) - d.Offset
			}
			if d.Reason == "checksum mismatch" && tt.name == "zeros" {
				d.Offset = int64(len(b)) - 100
			}
			if len(rep.Drops) != 1 || rep.Drops[0] != d {
				t.Errorf("drops %+v, want %+v", rep.Drops, d)
			}
		})
	}
}

func TestReplayRejects(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	appendAll(t, l, records(3))
	l.Close()
	n := 0
	l, rep, err := Open(dir, Options{}, func(p []byte) error {
		if n++; n == 2 {
			return errors.New("not a batch")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if rep.Records != 1 || len(rep.Drops) != 1 || rep.Drops[0].Reason != "record rejected: not a batch" {
		t.Errorf("%+v", rep)
	}
}

func TestAppendErrors(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	if err := l.Append(make([]byte, MaxRecord+1)); err != ErrTooLarge {
		t.Errorf("Append of MaxRecord+1 bytes: %v", err)
	}
	l.Close()
	if err := l.Append([]byte("x")); err == nil || err.Error() != "wal: log closed" {
		t.Errorf("Append after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := Open(dir, Options{SyncInterval: -1}, nil); err == nil {
		t.Error("no error for a negative interval")
	}
}

func TestSyncLoop(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{SyncInterval: 10 * time.Millisecond})
	appendAll(t, l, records(2))
	time.Sleep(30 * time.Millisecond)
	l.mu.Lock()
	dirty := l.dirty
	l.mu.Unlock()
	if dirty {
		t.Error("not synced after three intervals")
	}
	l.Close()
	leakcheck.Wait(t, before)
}

// TestLocked: a second Open of a directory in use fails with ErrLocked
// naming this process; after Close it succeeds.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	_, _, err := Open(dir, Options{}, func([]byte) error { return nil })
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	want := "wal: directory is in use by another process: " + filepath.Join(dir, dirlock.Name) + " is locked (pid " + strconv.Itoa(os.Getpid()) + ")"
	if err.Error() != want {
		t.Errorf("second Open: %q, want %q", err, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, _, _ := open(t, dir, Options{})
	l2.Close()
}
