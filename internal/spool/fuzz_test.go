package spool

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// validSegment returns a segment file of n records (payload(i), i+1 points).
func validSegment(n int) []byte {
	b := []byte(segmentMagic)
	fw, _ := flate.NewWriter(nil, flate.BestSpeed)
	for i := 0; i < n; i++ {
		b, _ = appendRecord(b, fw, payload(i), uint32(i+1))
	}
	return b
}

// FuzzSegment opens a spool whose only segment holds the fuzzed bytes and
// reads it to the end. No input may panic, loop or allocate without bound;
// the records read and the bytes skipped never add up to more than the
// file; acknowledging the last record read leaves nothing to read.
func FuzzSegment(f *testing.F) {
	f.Add(validSegment(3))
	f.Add(validSegment(3)[:40])
	f.Add(append(validSegment(2), 0x53, 0x50, 0x4f, 0x4c, 1, 2, 3))
	f.Add([]byte(segmentMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, Options{MaxBytes: 1 << 20, Sync: SyncNever})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var read int64
		var last Record
		n := 0
		for ; ; n++ {
			r, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n > len(data)/recordOverhead {
				t.Fatalf("%d records from %d bytes", n, len(data))
			}
			read += r.end - r.pos.off
			last = r
		}
		st := s.Stats()
		if read+st.CorruptBytes > int64(len(data)) {
			t.Fatalf("%d bytes read and %d skipped from %d", read, st.CorruptBytes, len(data))
		}
		if st.Records < 0 || st.Points < 0 || st.CorruptPoints < 0 {
			t.Fatalf("negative stats %+v", st)
		}
		if n > 0 {
			if err := s.Ack(last); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.Records != 0 || st.Points != 0 {
				t.Fatalf("after acknowledging all: %+v", st)
			}
		}
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzSegment when
// SPOOL_WRITE_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SPOOL_WRITE_SEEDS") == "" {
		t.Skip("set SPOOL_WRITE_SEEDS=1 to regenerate the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzSegment")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	v := validSegment(4)
	flipped := append([]byte(nil), v...)
	flipped[len(segmentMagic)+recordHeader+2] ^= 1
	for name, b := range map[string][]byte{
		"valid":        v,
		"torn-header":  v[:len(v)-len(validSegment(1))+len(segmentMagic)+5],
		"torn-payload": v[:len(v)-3],
		"payload-flip": flipped,
		"zero-tail":    append(append([]byte(nil), v...), make([]byte, 512)...),
		"bad-magic":    append([]byte("apspoolX"), v[8:]...),
		"only-magic":   []byte(segmentMagic),
		"short":        []byte("aps"),
		"huge-lengths": append([]byte(segmentMagic), 0x53, 0x50, 0x4f, 0x4c, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0),
	} {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzCursor: parseCursor accepts only what encodeCursor writes, and
// never panics.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(position{seq: 7, off: 1234}))
	f.Add([]byte("apcursr1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseCursor(b)
		if err != nil {
			return
		}
		if p.off < 0 || string(encodeCursor(p)) != string(b) {
			t.Fatalf("accepted %q as %+v", b, p)
		}
	})
}
