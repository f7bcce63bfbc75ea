package spool

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

// recordOffsets returns the offset of every record in the segment file at
// path, read with the package's own reader.
func recordOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	r := newSegReader(f, fi.Size())
	var offs []int64
	for off := segmentHeader; off < fi.Size(); {
		h, next, bad := step(r, off)
		if bad != nil {
			t.Fatalf("segment already corrupt at %d: %v", off, bad.err)
		}
		_ = h
		offs = append(offs, off)
		off = next
	}
	return offs
}

// TestCorruption damages a segment of 6 records (payload(i), i+1 points) in
// the ways power loss and bad disks do. Next must return the intact
// records, in order, and count what it skipped; never garbage, never a
// panic.
func TestCorruption(t *testing.T) {
	const n = 6
	type damage func(t *testing.T, path string, offs []int64, size int64)
	truncate := func(at func(offs []int64, size int64) int64) damage {
		return func(t *testing.T, path string, offs []int64, size int64) {
			if err := os.Truncate(path, at(offs, size)); err != nil {
				t.Fatal(err)
			}
		}
	}
	patch := func(at func(offs []int64) int64, b []byte) damage {
		return func(t *testing.T, path string, offs []int64, size int64) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(b, at(offs)); err != nil {
				t.Fatal(err)
			}
		}
	}
	flip := func(at func(offs []int64) int64) damage {
		return func(t *testing.T, path string, offs []int64, size int64) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[at(offs)] ^= 0x40
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendBytes := func(b []byte) damage {
		return func(t *testing.T, path string, offs []int64, size int64) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	last := func(offs []int64) int64 { return offs[n-1] }
	third := func(offs []int64) int64 { return offs[2] }
	for _, tc := range []struct {
		name          string
		damage        damage
		want          []int // records read
		corrupt       int64 // CorruptRecords
		corruptPoints int64
	}{
		{"intact", func(*testing.T, string, []int64, int64) {}, []int{0, 1, 2, 3, 4, 5}, 0, 0},
		{"torn in the last header", truncate(func(o []int64, _ int64) int64 { return o[n-1] + 7 }), []int{0, 1, 2, 3, 4}, 1, 0},
		{"torn in the last payload", truncate(func(o []int64, _ int64) int64 { return o[n-1] + recordHeader + 3 }), []int{0, 1, 2, 3, 4}, 1, 6},
		{"torn in the last trailer", truncate(func(_ []int64, size int64) int64 { return size - 1 }), []int{0, 1, 2, 3, 4}, 1, 6},
		{"torn in the file header", truncate(func([]int64, int64) int64 { return 5 }), nil, 1, 0},
		{"empty file", truncate(func([]int64, int64) int64 { return 0 }), nil, 0, 0},
		{"zeros after the end", appendBytes(make([]byte, 4096)), []int{0, 1, 2, 3, 4, 5}, 1, 0},
		{"garbage after the end", appendBytes([]byte("\x53\x50\x4f\x4cthis is not a record")), []int{0, 1, 2, 3, 4, 5}, 1, 0},
		{"last record zeroed", patch(last, make([]byte, 30)), []int{0, 1, 2, 3, 4}, 1, 0},
		{"payload bit flip in the middle", flip(func(o []int64) int64 { return o[2] + recordHeader + 1 }), []int{0, 1, 3, 4, 5}, 1, 3},
		{"trailer bit flip in the middle", flip(func(o []int64) int64 { return o[3] - 1 }), []int{0, 1, 3, 4, 5}, 1, 3},
		{"length bit flip in the middle", flip(func(o []int64) int64 { return third(o) + 4 }), []int{0, 1, 3, 4, 5}, 1, 0},
		{"magic bit flip in the middle", flip(third), []int{0, 1, 3, 4, 5}, 1, 0},
		{"points bit flip in the middle", flip(func(o []int64) int64 { return o[2] + 12 }), []int{0, 1, 3, 4, 5}, 1, 0},
		{"file magic damaged", flip(func([]int64) int64 { return 0 }), []int{0, 1, 2, 3, 4, 5}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{})
			appendN(t, s, 0, n)
			s.Close()
			path := segFiles(t, dir)[0]
			offs := recordOffsets(t, path)
			fi, _ := os.Stat(path)
			tc.damage(t, path, offs, fi.Size())

			s = open(t, dir, Options{})
			recs := readAll(t, s)
			if len(recs) != len(tc.want) {
				t.Fatalf("read %d records, want %d", len(recs), len(tc.want))
			}
			for k, i := range tc.want {
				wantRecords(t, recs[k:k+1], i, i+1)
			}
			st := s.Stats()
			if st.CorruptRecords != tc.corrupt || st.CorruptPoints != tc.corruptPoints {
				t.Errorf("corrupt records %d, points %d; want %d, %d", st.CorruptRecords, st.CorruptPoints, tc.corrupt, tc.corruptPoints)
			}
			if tc.corrupt > 0 && st.CorruptBytes == 0 {
				t.Error("no corrupt bytes counted")
			}
			// Reading again counts nothing twice.
			s.Rewind()
			if again := readAll(t, s); len(again) != len(recs) || s.Stats() != st {
				t.Errorf("second read: %d records, %+v; first %+v", len(again), s.Stats(), st)
			}
			// Acknowledging everything empties the spool.
			if len(recs) > 0 {
				if err := s.Ack(recs[len(recs)-1]); err != nil {
					t.Fatal(err)
				}
				if st := s.Stats(); st.Records != 0 || st.Points != 0 {
					t.Errorf("after acknowledging all: %+v", st)
				}
			}
			// Nothing readable is left: the segment, corrupt bytes and all,
			// is gone, and the next Open counts nothing again.
			if len(recs) > 0 || tc.corrupt > 0 {
				if f := segFiles(t, dir); len(f) != 0 {
					t.Errorf("segments left: %v", f)
				}
				s.Close()
				s = open(t, dir, Options{})
				if st := s.Stats(); st.CorruptRecords != 0 || st.Records != 0 {
					t.Errorf("reopened: %+v", st)
				}
			}
		})
	}
}

// TestCrashMidWrite makes the process "die" after writing part of a
// record: the earlier records are read after reopening, the torn one is
// skipped and counted, and appending goes on in a new segment.
func TestCrashMidWrite(t *testing.T) {
	for _, part := range []int{1, recordHeader - 1, recordHeader, recordHeader + 10, -1} {
		dir := t.TempDir()
		s, err := Open(dir, Options{MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, s, 0, 3)
		s.write = func(f *os.File, b []byte) (int, error) {
			k := part
			if k < 0 {
				k = len(b) - 1
			}
			n, _ := f.Write(b[:k])
			// Die: no truncation, no Close, the lock released as the
			// kernel does for a dead process.
			s.closeFiles()
			s.lock.Unlock()
			return n, errors.New("killed")
		}
		if _, err := s.Append(payload(3), 4); err == nil {
			t.Fatal("no error")
		}
		s = open(t, dir, Options{})
		wantRecords(t, readAll(t, s), 0, 3)
		st := s.Stats()
		if st.CorruptRecords != 1 {
			t.Errorf("part %d: %+v", part, st)
		}
		if part >= recordHeader && st.CorruptPoints != 4 {
			t.Errorf("part %d: torn record with an intact header: corrupt points %d, want 4", part, st.CorruptPoints)
		}
		appendN(t, s, 3, 5)
		s.Rewind()
		recs := readAll(t, s)
		wantRecords(t, recs[:3], 0, 3)
		wantRecords(t, recs[3:], 3, 5)
	}
}

// TestWriteError: a failed write leaves nothing half-written for this
// process; the next Append goes to a new segment.
func TestWriteError(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	appendN(t, s, 0, 2)
	s.write = func(f *os.File, b []byte) (int, error) {
		n, _ := f.Write(b[:len(b)/2])
		return n, errors.New("disk full")
	}
	if _, err := s.Append(payload(2), 3); err == nil || err.Error() == "" {
		t.Fatal("no error")
	}
	s.write = (*os.File).Write
	appendN(t, s, 3, 5)
	recs := readAll(t, s)
	if len(recs) != 4 || s.Stats().CorruptRecords != 0 {
		t.Fatalf("%d records, %+v", len(recs), s.Stats())
	}
	wantRecords(t, recs[:2], 0, 2)
	wantRecords(t, recs[2:], 3, 5)
	if got := len(segFiles(t, dir)); got != 2 {
		t.Errorf("%d segments, want 2", got)
	}
}

func TestHeaderLimits(t *testing.T) {
	var b [recordHeader]byte
	binary.LittleEndian.PutUint32(b[0:], recordMagic)
	binary.LittleEndian.PutUint32(b[4:], 10)
	binary.LittleEndian.PutUint32(b[8:], MaxRecordBytes+1)
	binary.LittleEndian.PutUint32(b[16:], crcOf(b[:16]))
	if _, err := parseHeader(b[:]); !errors.Is(err, errHeader) {
		t.Fatalf("rawlen over the limit with a matching checksum: %v", err)
	}
}
