package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func open(t testing.TB, dir string, opt Options) *Spool {
	t.Helper()
	if opt.MaxBytes == 0 {
		opt.MaxBytes = 1 << 20
	}
	s, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func payload(i int) []byte { return []byte(fmt.Sprintf("record %d: %s", i, strings.Repeat("x", i%97))) }

func appendN(t testing.TB, s *Spool, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := s.Append(payload(i), i+1); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// readAll reads every record left, acknowledging none.
func readAll(t testing.TB, s *Spool) []Record {
	t.Helper()
	var out []Record
	for {
		r, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
		if len(out) > 1e6 {
			t.Fatal("Next does not end")
		}
	}
}

// wantRecords checks that recs are records from..to-1 as appendN made them.
func wantRecords(t testing.TB, recs []Record, from, to int) {
	t.Helper()
	if len(recs) != to-from {
		t.Fatalf("got %d records, want %d (%d..%d)", len(recs), to-from, from, to-1)
	}
	for k, r := range recs {
		i := from + k
		if !bytes.Equal(r.Data, payload(i)) || r.Points != i+1 {
			t.Fatalf("record %d: got %q (%d points), want %q (%d)", k, r.Data, r.Points, payload(i), i+1)
		}
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func dirBytes(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	for _, p := range segFiles(t, dir) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

func TestRoundTripAndAck(t *testing.T) {
	for _, sync := range []SyncPolicy{SyncEveryAppend, SyncNever} {
		t.Run(sync.String(), func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{Sync: sync})
			appendN(t, s, 0, 10)
			if st := s.Stats(); st.Records != 10 || st.Points != 55 || st.Segments != 1 {
				t.Fatalf("stats %+v", st)
			}
			recs := readAll(t, s)
			wantRecords(t, recs, 0, 10)

			// Rewind: nothing acknowledged, everything again.
			s.Rewind()
			recs = readAll(t, s)
			wantRecords(t, recs, 0, 10)
			if err := s.Ack(recs[3]); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.Records != 6 || st.Points != 55-10 {
				t.Fatalf("after acking 4: %+v", st)
			}
			// Acknowledged records are not read again in this process.
			s.Rewind()
			wantRecords(t, readAll(t, s), 4, 10)

			// Nor by the next one.
			s.Close()
			s = open(t, dir, Options{Sync: sync})
			if st := s.Stats(); st.Records != 6 || st.Points != 45 {
				t.Fatalf("reopened: %+v", st)
			}
			recs = readAll(t, s)
			wantRecords(t, recs, 4, 10)
			if err := s.Ack(recs[len(recs)-1]); err != nil {
				t.Fatal(err)
			}
			if f := segFiles(t, dir); len(f) != 0 {
				t.Fatalf("segments left after acknowledging everything: %v", f)
			}
			// Appending after that starts a new segment.
			appendN(t, s, 10, 12)
			s.Close()
			s = open(t, dir, Options{Sync: sync})
			wantRecords(t, readAll(t, s), 10, 12)
		})
	}
}

func TestAckErrors(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	appendN(t, s, 0, 3)
	r, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(Record{}); !errors.Is(err, ErrNotRead) {
		t.Fatalf("Ack of a zero record: %v", err)
	}
	s.Rewind()
	if err := s.Ack(r); !errors.Is(err, ErrNotRead) {
		t.Fatalf("Ack after Rewind: %v", err)
	}
	s.Close()
	if _, err := s.Append(nil, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := s.Next(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{MaxBytes: MinBytes - 1}, "MaxBytes 65535 is below the minimum 65536"},
		{Options{MaxBytes: 1 << 20, SegmentBytes: 100}, "SegmentBytes 100 is not within [4096, MaxBytes/2 = 524288]"},
		{Options{MaxBytes: 1 << 20, SegmentBytes: 1<<19 + 1}, "SegmentBytes 524289 is not within"},
		{Options{MaxBytes: 1 << 20, Sync: 7}, "unknown sync policy 7"},
	} {
		_, err := Open(dir, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v) = %v, want %q", tc.opt, err, tc.want)
		}
	}
	if _, err := Open("", Options{MaxBytes: 1 << 20}); err == nil {
		t.Error("empty dir accepted")
	}
	s := open(t, dir, Options{MaxBytes: 1 << 30})
	if s.opt.SegmentBytes != MaxSegmentBytes {
		t.Errorf("default segment for 1 GiB: %d", s.opt.SegmentBytes)
	}
	s.Close()
	s = open(t, dir, Options{MaxBytes: MinBytes})
	if s.opt.SegmentBytes != 8<<10 {
		t.Errorf("default segment for 64 KiB: %d", s.opt.SegmentBytes)
	}
}

func TestTooLarge(t *testing.T) {
	s := open(t, t.TempDir(), Options{MaxBytes: MinBytes})
	big := make([]byte, 2*MinBytes)
	for i := range big {
		big[i] = byte(rand.Uint32())
	}
	if _, err := s.Append(big, 1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("incompressible record twice the limit: %v", err)
	}
	if _, err := s.Append(make([]byte, MaxRecordBytes+1), 1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("record over MaxRecordBytes: %v", err)
	}
	// A compressible one of the same size fits.
	if _, err := s.Append(make([]byte, 2*MinBytes), 1); err != nil {
		t.Fatal(err)
	}
}

// TestSizeLimit appends incompressible records to a small spool for a long
// outage: the segment files never exceed the limit, the oldest records are
// dropped whole and counted, and what is left is the newest records, in
// order.
func TestSizeLimit(t *testing.T) {
	dir := t.TempDir()
	const limit = 256 << 10
	s := open(t, dir, Options{MaxBytes: limit, SegmentBytes: 16 << 10, Sync: SyncNever})
	rng := rand.New(rand.NewPCG(1, 2))
	src := rand.NewChaCha8([32]byte{1})
	const n = 1500 // ~1.6 MiB: six times the limit
	var dropped, maxBytes int64
	sizes := make([]int, n)
	for i := 0; i < n; i++ {
		p := make([]byte, 200+rng.IntN(1800))
		src.Read(p)
		copy(p, fmt.Sprintf("%08d", i))
		sizes[i] = len(p)
		d, err := s.Append(p, 10)
		if err != nil {
			t.Fatal(err)
		}
		dropped += d
		st := s.Stats()
		if st.Bytes > limit {
			t.Fatalf("append %d: %d bytes, over the limit %d", i, st.Bytes, limit)
		}
		maxBytes = max(maxBytes, st.Bytes)
		if i%500 == 0 {
			if got := dirBytes(t, dir); got != st.Bytes {
				t.Fatalf("append %d: Stats.Bytes %d, files %d", i, st.Bytes, got)
			}
		}
	}
	st := s.Stats()
	if st.Bytes < limit-16<<10-2100 {
		t.Errorf("full spool holds %d bytes, want at least the limit less one segment and one record", st.Bytes)
	}
	if dropped != st.DroppedPoints || st.Points+dropped != 10*n {
		t.Errorf("dropped %d (stats %d), left %d: want them to add up to %d", dropped, st.DroppedPoints, st.Points, 10*n)
	}
	recs := readAll(t, s)
	if int64(len(recs)) != st.Records || len(recs) == 0 {
		t.Fatalf("read %d records, stats say %d", len(recs), st.Records)
	}
	first := n - len(recs)
	for k, r := range recs {
		if got, want := string(r.Data[:8]), fmt.Sprintf("%08d", first+k); got != want || len(r.Data) != sizes[first+k] {
			t.Fatalf("record %d is %s, want %s: the newest records, in order", k, got, want)
		}
	}
	t.Logf("limit %d: peak %d bytes, %d left in %d segments, %d points dropped in %d segments",
		limit, maxBytes, st.Bytes, st.Segments, st.DroppedPoints, st.DroppedSegments)
}

// TestDropWhileReading: the size limit drops a segment holding records
// that Next returned and that are not acknowledged yet.
func TestDropWhileReading(t *testing.T) {
	s := open(t, t.TempDir(), Options{MaxBytes: MinBytes, SegmentBytes: MinSegmentBytes, Sync: SyncNever})
	big := func(i int) []byte {
		p := make([]byte, 3000)
		r := rand.New(rand.NewPCG(uint64(i), 0))
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		return p
	}
	for i := 0; i < 5; i++ {
		if _, err := s.Append(big(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	r0, err := s.Next()
	if err != nil {
		t.Fatal(err)
	}
	var dropped int64
	for i := 5; i < 40; i++ {
		d, err := s.Append(big(i), 1)
		if err != nil {
			t.Fatal(err)
		}
		dropped += d
	}
	if dropped == 0 {
		t.Fatal("nothing dropped")
	}
	if err := s.Ack(r0); err != nil {
		t.Fatalf("Ack of a record whose segment was dropped: %v", err)
	}
	recs := readAll(t, s)
	if st := s.Stats(); int64(len(recs)) != st.Records || st.Points+dropped != 40 {
		t.Fatalf("read %d, stats %+v, dropped %d", len(recs), st, dropped)
	}
	if !bytes.Equal(recs[len(recs)-1].Data, big(39)) {
		t.Fatal("newest record lost")
	}
}

func TestCursorCorrupt(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	appendN(t, s, 0, 4)
	recs := readAll(t, s)
	if err := s.Ack(recs[1]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, cursorFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{})
	if !s.Stats().CursorReset {
		t.Error("CursorReset not set")
	}
	// At-least-once: the acknowledged records come again rather than
	// anything being lost.
	wantRecords(t, readAll(t, s), 0, 4)
}

func TestForeignFilesLeftAlone(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"README", "1.seg", "000000000000000g.seg", "notes.seg.bak"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := open(t, dir, Options{})
	appendN(t, s, 0, 2)
	wantRecords(t, readAll(t, s), 0, 2)
	for _, name := range []string{"README", "1.seg", "000000000000000g.seg", "notes.seg.bak"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
