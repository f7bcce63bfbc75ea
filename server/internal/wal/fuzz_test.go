package wal

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fuzzSalt is the salt of the segments FuzzOpen writes, so that its corpus
// can hold records that verify.
const fuzzSalt = 0x5eed5a17

// fuzzRecords encodes records as a segment of salt fuzzSalt holds them
// from its start.
func fuzzRecords(recs ...string) []byte {
	var b []byte
	var items uint64
	for i, r := range recs {
		b = appendRecHeader(b, saltCRC(fuzzSalt), recHdr{length: uint32(len(r)), index: uint64(i), items: items, count: uint32(len(r)), pcrc: crc32.Checksum([]byte(r), castagnoli)})
		b = append(b, r...)
		items += uint64(len(r))
	}
	return b
}

// conserved checks that Open moved bytes aside, not away: the damaged
// parts it reports are in the files aside, and the segment's bytes before
// are those after plus those aside (less a fresh header copy for each
// damaged one).
func conserved(t *testing.T, dir string, before int64, rep Report) {
	t.Helper()
	var damaged, copies int64
	aside := map[string]bool{}
	for _, d := range rep.Damage {
		damaged += d.Bytes
		if d.MovedTo != "" {
			aside[d.MovedTo] = true
		}
		if strings.HasPrefix(d.Reason, "bad segment header (") {
			copies++
		}
	}
	var asideBytes int64
	for n := range aside {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		asideBytes += fi.Size()
	}
	var after int64
	if fi, err := os.Stat(filepath.Join(dir, name(1))); err == nil {
		after = fi.Size()
	}
	if asideBytes != damaged || before+copies*copySize != after+damaged {
		t.Fatalf("%d bytes before, %d after, %d reported damaged (%d header copies), %d aside", before, after, damaged, copies, asideBytes)
	}
}

// FuzzOpen writes arbitrary bytes after a valid segment header (or in place
// of it: a file of format 1, another version, garbage) and checks that
// Open never panics nor fails on damaged content, that it moves bytes
// aside and destroys none, that the repair is complete (a second Open
// replays the same records and finds no damage) and that appending after
// it works.
func FuzzOpen(f *testing.F) {
	valid := fuzzRecords("first", "second record")
	f.Add(valid, true)
	f.Add(valid[:len(valid)-3], true)
	f.Add(append(valid, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), true)
	f.Add([]byte{}, true)
	f.Add(append(segHeader{salt: fuzzSalt}.bytes()[:30], valid...), false)
	f.Add(format1([]byte("first"), []byte("second")), false)
	f.Add([]byte("APTTWAL1\x01\x00\x00\x00"), false)
	f.Fuzz(func(t *testing.T, body []byte, withHeader bool) {
		dir := t.TempDir()
		b := body
		if withHeader {
			b = append(segHeader{base: true, salt: fuzzSalt}.bytes(), body...)
		}
		if err := os.WriteFile(filepath.Join(dir, name(1)), b, 0o644); err != nil {
			t.Fatal(err)
		}
		var first [][]byte
		l, rep, err := Open(dir, Options{}, func(p []byte) error {
			first = append(first, bytes.Clone(p))
			return nil
		})
		if err != nil {
			if len(b) >= 8 && string(b[:7]) == magicPrefix && b[7] > version && b[7] <= '9' {
				return // a newer version
			}
			t.Fatal(err)
		}
		conserved(t, dir, int64(len(b)), rep)
		if err := l.Append(1, []byte("after")); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l, again, rep := open(t, dir, Options{})
		l.Close()
		want := append(first, []byte("after"))
		if len(rep.Damage) != 0 || !reflect.DeepEqual(again, want) {
			t.Fatalf("second open: %d records (want %d), damage %+v", len(again), len(want), rep.Damage)
		}
	})
}

// FuzzDamage writes records of the given sizes, changes bytes of the
// segment (edits: pairs of a position, two bytes, and a byte to XOR) and
// cuts it at cut, then checks that exactly the records untouched are
// replayed, that what the damage cost is reported exactly (or as a lower
// bound where it says so), and that nothing is destroyed.
func FuzzDamage(f *testing.F) {
	f.Add([]byte{5, 13, 0, 200}, []byte{100, 0, 1}, uint16(0))
	f.Add([]byte{5, 13, 0, 200}, []byte{3, 0, 1, 40, 0, 0x80}, uint16(300))
	f.Add([]byte{40, 40, 40}, []byte{}, uint16(150))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{10, 0, 0xff, 30, 0, 0xff, 0, 1, 1}, uint16(0))
	f.Fuzz(func(t *testing.T, sizes, edits []byte, cut uint16) {
		if len(sizes) > 64 || len(edits) > 12 {
			return
		}
		var recs [][]byte
		for i, n := range sizes {
			recs = append(recs, bytes.Repeat([]byte{byte(i)}, int(n)))
		}
		dir, path, b := logOf(t, recs)
		offs, size := offsets(recs)
		touched := make([]bool, len(recs))
		var header [2]bool
		mark := func(pos int64) {
			switch {
			case pos < headerSize:
				header[pos/copySize] = true
			default:
				r := len(offs) - 1
				for offs[r] > pos {
					r--
				}
				touched[r] = true
			}
		}
		orig := bytes.Clone(b)
		for i := 0; i+3 <= len(edits); i += 3 {
			b[int64(binary.LittleEndian.Uint16(edits[i:]))%size] ^= edits[i+2]
		}
		for pos := range b {
			if b[pos] != orig[pos] {
				mark(int64(pos))
			}
		}
		if header[0] && header[1] {
			return // two faults in the header: the segment is lost
		}
		// A cut inside a record loses it; the records after the cut are
		// gone without a trace (as if never written).
		gone := len(recs)
		if c := int64(cut); c > 0 && c < size {
			b = b[:c]
			for gone > 0 && offs[gone-1] >= c {
				gone--
			}
			if c < headerSize {
				return // two faults in the header
			}
			mark(c)
		}
		os.WriteFile(path, b, 0o644)
		l, got, rep := open(t, dir, Options{})
		l.Close()
		var want [][]byte
		lost := 0
		for i, r := range recs[:gone] {
			if touched[i] {
				lost++
			} else {
				want = append(want, r)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("replayed %d records, want the %d untouched", len(got), len(want))
		}
		reported, exact := 0, true
		for _, d := range rep.Damage {
			reported += d.Records
			exact = exact && d.Exact
		}
		if reported > lost || exact && reported != lost {
			t.Fatalf("%d records lost, %d reported (exact: %v): %+v", lost, reported, exact, rep.Damage)
		}
		conserved(t, dir, int64(len(b)), rep)
		again, rep := replayed(t, dir)
		if !reflect.DeepEqual(again, want) || len(rep.Damage) != 0 {
			t.Fatalf("second open: %d records, damage %+v", len(again), rep.Damage)
		}
	})
}
