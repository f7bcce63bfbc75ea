package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apptuit-go/apptuit/internal/dirlock"
	"github.com/apptuit-go/apptuit/internal/leakcheck"
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

// items is what the tests say a record holds: its length.
func items(r []byte) int { return len(r) }

func appendAll(t testing.TB, l *Log, recs [][]byte) {
	t.Helper()
	for _, r := range recs {
		// In two parts, as the store writes its batches.
		if err := l.Append(items(r), r[:len(r)/2], r[len(r)/2:]); err != nil {
			t.Fatal(err)
		}
	}
}

// offsets returns where each record of recs starts in a segment that
// holds them from its start, and the segment's size.
func offsets(recs [][]byte) ([]int64, int64) {
	var out []int64
	pos := int64(headerSize)
	for _, r := range recs {
		out = append(out, pos)
		pos += recHeader + int64(len(r))
	}
	return out, pos
}

// files returns the names of the files in dir but the lock.
func files(t testing.TB, dir string) []string {
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

// logOf writes recs into a new log in a new directory and returns it and
// the path and bytes of its one segment.
func logOf(t testing.TB, recs [][]byte) (string, string, []byte) {
	t.Helper()
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	appendAll(t, l, recs)
	l.Close()
	path := filepath.Join(dir, name(1))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return dir, path, b
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l, recs, rep := open(t, dir, Options{})
	if len(recs) != 0 || rep.Segments != 0 || !reflect.DeepEqual(files(t, dir), []string{"0000000000000001.wal"}) {
		t.Fatalf("a new log: %d records, %+v, files %q", len(recs), rep, files(t, dir))
	}
	want := records(5)
	appendAll(t, l, want)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, got, rep := open(t, dir, Options{})
	defer l.Close()
	_, wantSize := offsets(want)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(rep, Report{Segments: 1, Records: 5, Items: 10 + 17 + 24 + 31 + 38, Bytes: wantSize}) {
		t.Fatalf("replayed %d records (%+v), want 5", len(got), rep)
	}
	if l.Size() != wantSize || wantSize != headerSize+5*recHeader+10*5+7*10 {
		t.Errorf("size %d/%d, want %d", rep.Bytes, l.Size(), wantSize)
	}
	// Appending after a reopen continues the same segment, and its numbering.
	appendAll(t, l, records(1))
	l.Close()
	got, _ = replayed(t, dir)
	if len(got) != 6 || !reflect.DeepEqual(files(t, dir), []string{"0000000000000001.wal"}) {
		t.Errorf("%d records after a reopen and an append, want 6", len(got))
	}
	b := readFile(t, filepath.Join(dir, name(1)))
	h, ok := parseRecHeader(b[wantSize:], saltCRC(binary.LittleEndian.Uint64(b[12:])))
	if !ok || h.index != 5 || h.items != 120 || h.count != 10 {
		t.Errorf("the sixth record's header: %+v, %v", h, ok)
	}
}

func TestRewrite(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	appendAll(t, l, records(4))
	err := l.Rewrite(func(add func(int, ...[]byte) error) error {
		return add(8, []byte("snap"), []byte("shot"))
	})
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, l, records(1))
	if got := files(t, dir); !reflect.DeepEqual(got, []string{"0000000000000002.wal"}) {
		t.Errorf("files %q after a rewrite", got)
	}
	if l.Size() != headerSize+recHeader+8+recHeader+10 {
		t.Errorf("size %d", l.Size())
	}
	l.Close()
	got, rep := replayed(t, dir)
	if want := [][]byte{[]byte("snapshot"), records(1)[0]}; !reflect.DeepEqual(got, want) || rep.Items != 18 {
		t.Errorf("replayed %q (%+v), want %q", got, rep, want)
	}

	// A failing rewrite leaves the log as it was.
	l, _, _ = open(t, dir, Options{})
	boom := errors.New("boom")
	if err := l.Rewrite(func(add func(int, ...[]byte) error) error { add(1, []byte("x")); return boom }); err != boom {
		t.Errorf("Rewrite: %v", err)
	}
	if err := l.Rewrite(func(add func(int, ...[]byte) error) error { return add(-1, []byte("x")) }); err == nil {
		t.Error("Rewrite: no error for -1 items")
	}
	l.Close()
	got2, _ := replayed(t, dir)
	if !reflect.DeepEqual(got2, got) || !reflect.DeepEqual(files(t, dir), []string{"0000000000000002.wal"}) {
		t.Errorf("after a failed rewrite: %q, files %q", got2, files(t, dir))
	}
}

// segmentBytes encodes a segment of format 2 holding recs.
func segmentBytes(base bool, recs ...[]byte) []byte {
	h := segHeader{base: base, salt: newSalt()}
	b := h.bytes()
	var items uint64
	for i, r := range recs {
		b = appendRecHeader(b, saltCRC(h.salt), recHdr{length: uint32(len(r)), index: uint64(i), items: items, count: uint32(len(r)), pcrc: crc32.Checksum(r, castagnoli)})
		b = append(b, r...)
		items += uint64(len(r))
	}
	return b
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
	if len(got) != 3 || rep.Removed != 1 || !reflect.DeepEqual(files(t, dir), []string{"0000000000000001.wal"}) {
		t.Fatalf("%d records, %+v, files %q", len(got), rep, files(t, dir))
	}

	// The new base is in place, the old segment still there.
	os.WriteFile(filepath.Join(dir, "0000000000000002.wal"), segmentBytes(true, []byte("snapshot")), 0o644)
	got, rep = replayed(t, dir)
	if !reflect.DeepEqual(got, [][]byte{[]byte("snapshot")}) || rep.Removed != 1 || !reflect.DeepEqual(files(t, dir), []string{"0000000000000002.wal"}) {
		t.Fatalf("replayed %q, %+v, files %q", got, rep, files(t, dir))
	}
}

// TestTornTail cuts the log at every length inside its last record: the
// records before it come back, the cut part is moved aside and reported
// once, and the log goes on after the good records.
func TestTornTail(t *testing.T) {
	want := records(3)
	_, _, full := logOf(t, want)
	offs, _ := offsets(want)
	last := offs[2]
	for cut := last + 1; cut < int64(len(full)); cut++ {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, name(1)), full[:cut], 0o644)
		l, got, rep := open(t, dir, Options{})
		if !reflect.DeepEqual(got, want[:2]) {
			t.Fatalf("cut at %d: %d records, want 2", cut, len(got))
		}
		d := Damage{Segment: name(1), Offset: last, Bytes: cut - last, Reason: "bad record header", MovedTo: name(1) + ".corrupt"}
		if cut-last >= recHeader {
			d.Reason, d.Records, d.Items, d.Exact = "torn record", 1, int64(len(want[2])), true
		}
		if !reflect.DeepEqual(rep.Damage, []Damage{d}) {
			t.Fatalf("cut at %d: damage %+v, want %+v", cut, rep.Damage, d)
		}
		if aside := readFile(t, filepath.Join(dir, d.MovedTo)); !bytes.Equal(aside, full[last:cut]) {
			t.Fatalf("cut at %d: %d bytes aside, want the %d cut", cut, len(aside), cut-last)
		}
		// Appends go after the good records, and a second open is clean.
		appendAll(t, l, want[2:])
		l.Close()
		if b := readFile(t, filepath.Join(dir, name(1))); !bytes.Equal(b[:last], full[:last]) || len(b) != len(full) {
			t.Fatalf("cut at %d, then appended: the segment differs", cut)
		}
		l, got, rep = open(t, dir, Options{})
		l.Close()
		if !reflect.DeepEqual(got, want) || len(rep.Damage) != 0 {
			t.Fatalf("cut at %d, then appended: %d records, damage %+v", cut, len(got), rep.Damage)
		}
	}
}

// damaged writes b as the one segment of a new log directory, opens it and
// checks that it replays the records of want at keep, reports damage d
// (MovedTo filled in) and moved exactly the bytes of d aside; then that a
// second open replays the same and reports nothing, and that appends work.
func damaged(t *testing.T, b []byte, want [][]byte, keep []int, d []Damage) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, name(1)), b, 0o644)
	l, got, rep := open(t, dir, Options{})
	var kept [][]byte
	for _, i := range keep {
		kept = append(kept, want[i])
	}
	if !reflect.DeepEqual(got, kept) {
		t.Errorf("replayed %d records, want %d (%v)", len(got), len(keep), keep)
	}
	var aside []byte
	for i := range d {
		aside = append(aside, b[d[i].Offset:d[i].Offset+d[i].Bytes]...)
	}
	for i := range d {
		d[i].Segment = name(1)
		if len(aside) > 0 {
			d[i].MovedTo = name(1) + ".corrupt"
		}
	}
	if !reflect.DeepEqual(rep.Damage, d) {
		t.Errorf("damage\n%+v\nwant\n%+v", rep.Damage, d)
	}
	if len(aside) > 0 && !bytes.Equal(readFile(t, filepath.Join(dir, d[0].MovedTo)), aside) {
		t.Errorf("the bytes aside differ from the damaged ones")
	}
	appendAll(t, l, records(1))
	l.Close()
	again, rep := replayed(t, dir)
	if !reflect.DeepEqual(again, append(kept, records(1)...)) || len(rep.Damage) != 0 {
		t.Errorf("second open: %d records, want %d; damage %+v", len(again), len(kept)+1, rep.Damage)
	}
}

func TestCorruption(t *testing.T) {
	want := records(4)
	_, _, orig := logOf(t, want)
	offs, size := offsets(want)
	rec := func(i int) int64 { return recHeader + int64(len(want[i])) }
	lost := func(off, n int64, reason string, recs ...int) Damage {
		d := Damage{Offset: off, Bytes: n, Reason: reason, Records: len(recs), Exact: true}
		for _, i := range recs {
			d.Items += int64(len(want[i]))
		}
		return d
	}
	tests := []struct {
		name   string
		damage func([]byte) []byte
		keep   []int
		d      []Damage
	}{
		{"payload byte", func(b []byte) []byte { b[offs[1]+recHeader+3] ^= 1; return b }, []int{0, 2, 3},
			[]Damage{lost(offs[1], rec(1), "checksum mismatch", 1)}},
		{"payload checksum", func(b []byte) []byte { b[offs[1]+28] ^= 0x80; return b }, []int{0, 2, 3},
			[]Damage{lost(offs[1], rec(1), "bad record header", 1)}},
		{"huge length", func(b []byte) []byte { b[offs[1]+7] = 0xff; return b }, []int{0, 2, 3},
			[]Damage{lost(offs[1], rec(1), "bad record header", 1)}},
		{"short length", func(b []byte) []byte { b[offs[1]+4] = 1; return b }, []int{0, 2, 3},
			[]Damage{lost(offs[1], rec(1), "bad record header", 1)}},
		{"sync marker", func(b []byte) []byte { b[offs[2]] = 0; return b }, []int{0, 1, 3},
			[]Damage{lost(offs[2], rec(2), "bad record header", 2)}},
		{"first record", func(b []byte) []byte { b[offs[0]+recHeader] ^= 0xff; return b }, []int{1, 2, 3},
			[]Damage{lost(offs[0], rec(0), "checksum mismatch", 0)}},
		{"two records", func(b []byte) []byte { b[offs[0]+9] ^= 4; b[offs[2]+40] ^= 4; return b }, []int{1, 3},
			[]Damage{lost(offs[0], rec(0), "bad record header", 0), lost(offs[2], rec(2), "checksum mismatch", 2)}},
		{"two records in a row", func(b []byte) []byte { b[offs[1]+9] ^= 4; b[offs[2]+40] ^= 4; return b }, []int{0, 3},
			[]Damage{lost(offs[1], rec(1)+rec(2), "bad record header", 1, 2)}},
		{"last record's payload", func(b []byte) []byte { b[size-1] ^= 1; return b }, []int{0, 1, 2},
			[]Damage{lost(offs[3], rec(3), "checksum mismatch", 3)}},
		{"last record's header: its cost is unknown", func(b []byte) []byte { b[offs[3]+17] ^= 1; return b }, []int{0, 1, 2},
			[]Damage{{Offset: offs[3], Bytes: rec(3), Reason: "bad record header"}}},
		{"first header copy", func(b []byte) []byte { b[3] = 'x'; return b }, []int{0, 1, 2, 3},
			[]Damage{lost(0, copySize, "bad segment header (first copy)")}},
		{"second header copy", func(b []byte) []byte { b[copySize+13] ^= 1; return b }, []int{0, 1, 2, 3},
			[]Damage{lost(copySize, copySize, "bad segment header (second copy)")}},
		{"zeros at the end", func(b []byte) []byte { return append(b, make([]byte, 100)...) }, []int{0, 1, 2, 3},
			[]Damage{{Offset: size, Bytes: 100, Reason: "bad record header"}}},
		{"garbage between records", func(b []byte) []byte {
			return append(append(b[:offs[2]:offs[2]], "some garbage"...), orig[offs[2]:]...)
		}, []int{0, 1, 2, 3}, []Damage{lost(offs[2], 12, "bad record header")}},
		{"a record cut out", func(b []byte) []byte { return append(b[:offs[1]:offs[1]], orig[offs[2]:]...) }, []int{0, 2, 3},
			[]Damage{lost(offs[1], 0, "records missing", 1)}},
		{"a record twice", func(b []byte) []byte { return append(b, b[offs[1]:offs[2]]...) }, []int{0, 1, 2, 3},
			[]Damage{{Offset: size, Bytes: rec(1), Reason: "record out of sequence"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			damaged(t, tt.damage(bytes.Clone(orig)), want, tt.keep, tt.d)
		})
	}
}

// TestEveryByte flips each byte of a log in turn: only the record that
// holds it is lost, its cost is reported exactly (but for the last
// record's header), and what remains is whole on a second open.
func TestEveryByte(t *testing.T) {
	want := records(4)
	_, _, orig := logOf(t, want)
	offs, size := offsets(want)
	for pos := int64(0); pos < size; pos++ {
		b := bytes.Clone(orig)
		b[pos] ^= 0x5a
		var keep []int
		var d []Damage
		switch {
		case pos < copySize:
			keep, d = []int{0, 1, 2, 3}, []Damage{{Offset: 0, Bytes: copySize, Reason: "bad segment header (first copy)", Exact: true}}
		case pos < headerSize:
			keep, d = []int{0, 1, 2, 3}, []Damage{{Offset: copySize, Bytes: copySize, Reason: "bad segment header (second copy)", Exact: true}}
		default:
			r := len(offs) - 1
			for offs[r] > pos {
				r--
			}
			for i := range want {
				if i != r {
					keep = append(keep, i)
				}
			}
			dm := Damage{Offset: offs[r], Bytes: recHeader + int64(len(want[r])), Reason: "checksum mismatch", Records: 1, Items: int64(len(want[r])), Exact: true}
			if pos < offs[r]+recHeader {
				dm.Reason = "bad record header"
				if r == len(want)-1 {
					dm.Records, dm.Items, dm.Exact = 0, 0, false
				}
			}
			d = []Damage{dm}
		}
		t.Run(strconv.Itoa(int(pos)), func(t *testing.T) { damaged(t, b, want, keep, d) })
	}
}

// TestEmbeddedRecord: a payload that holds a whole record of another
// segment (another salt) is never taken for a record, even when the
// record around it is damaged.
func TestEmbeddedRecord(t *testing.T) {
	other := segmentBytes(true, []byte("injected"))[headerSize:]
	want := [][]byte{[]byte("first"), append(append([]byte("tag="), other...), "..."...), []byte("last")}
	_, _, b := logOf(t, want)
	offs, _ := offsets(want)
	b[offs[1]+5] ^= 1 // the length of the record around it
	damaged(t, b, want, []int{0, 2}, []Damage{{Offset: offs[1], Bytes: offs[2] - offs[1], Reason: "bad record header", Records: 1, Items: int64(len(want[1])), Exact: true}})
}

func TestUnreadableSegment(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, name(1)), []byte("not a log at all"), 0o644)
	l, got, rep := open(t, dir, Options{})
	appendAll(t, l, records(1))
	l.Close()
	d := []Damage{{Segment: name(1), Bytes: 16, Reason: "no readable segment header", MovedTo: name(1) + ".corrupt"}}
	if len(got) != 0 || !reflect.DeepEqual(rep.Damage, d) {
		t.Errorf("%d records, damage %+v", len(got), rep.Damage)
	}
	if fs := files(t, dir); !reflect.DeepEqual(fs, []string{name(1) + ".corrupt", name(2)}) {
		t.Errorf("files %q", fs)
	}
	if got, rep := replayed(t, dir); len(got) != 1 || len(rep.Damage) != 0 {
		t.Errorf("second open: %d records, %+v", len(got), rep)
	}
}

// TestRepairInterrupted leaves what a crash during a repair can leave:
// the parts aside written, a temporary copy of the segment, the damaged
// segment still in place. The next Open repairs it again, into a second
// file aside, and replays the same records.
func TestRepairInterrupted(t *testing.T) {
	want := records(3)
	dir, path, b := logOf(t, want)
	offs, _ := offsets(want)
	b[offs[1]+recHeader] ^= 1
	os.WriteFile(path, b, 0o644)
	os.WriteFile(path+".corrupt", b[offs[1]:offs[2]], 0o644)
	os.WriteFile(path+".tmp", b[:offs[1]], 0o644)
	got, rep := replayed(t, dir)
	if !reflect.DeepEqual(got, [][]byte{want[0], want[2]}) || len(rep.Damage) != 1 || rep.Damage[0].MovedTo != name(1)+".2.corrupt" || rep.Removed != 1 {
		t.Errorf("%d records, %+v", len(got), rep)
	}
	if fs := files(t, dir); !reflect.DeepEqual(fs, []string{name(1), name(1) + ".2.corrupt", name(1) + ".corrupt"}) {
		t.Errorf("files %q", fs)
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
	offs, _ := offsets(records(3))
	d := []Damage{{Segment: name(1), Offset: offs[1], Bytes: offs[2] - offs[1], Reason: "record rejected: not a batch", Records: 1, Items: 17, Exact: true, MovedTo: name(1) + ".corrupt"}}
	if rep.Records != 2 || !reflect.DeepEqual(rep.Damage, d) {
		t.Errorf("%+v", rep)
	}
	if got, rep := replayed(t, dir); len(got) != 2 || len(rep.Damage) != 0 {
		t.Errorf("second open: %d records, %+v", len(got), rep)
	}
}

// format1 encodes a segment of format version 1 holding recs.
func format1(recs ...[]byte) []byte {
	b := []byte(magic1)
	b = binary.LittleEndian.AppendUint32(b, flagBase)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	for _, r := range recs {
		h := binary.LittleEndian.AppendUint32(nil, uint32(len(r)))
		b = append(b, h...)
		b = binary.LittleEndian.AppendUint32(b, crc32.Update(crc32.Checksum(h, castagnoli), castagnoli, r))
		b = append(b, r...)
	}
	return b
}

// TestFormat1: a log of format version 1 is replayed as it is; appends go
// to a new segment; a Rewrite converts it.
func TestFormat1(t *testing.T) {
	want := records(3)
	dir := t.TempDir()
	old := format1(want...)
	os.WriteFile(filepath.Join(dir, name(1)), old, 0o644)
	l, got, rep := open(t, dir, Options{})
	if !reflect.DeepEqual(got, want) || rep.Format1 != 1 || rep.Segments != 1 || len(rep.Damage) != 0 {
		t.Fatalf("%d records, %+v", len(got), rep)
	}
	appendAll(t, l, records(1))
	l.Close()
	if !bytes.Equal(readFile(t, filepath.Join(dir, name(1))), old) || !reflect.DeepEqual(files(t, dir), []string{name(1), name(2)}) {
		t.Fatalf("files %q; the old segment changed", files(t, dir))
	}
	l, got, rep = open(t, dir, Options{})
	if !reflect.DeepEqual(got, append(want, records(1)...)) || rep.Format1 != 1 || rep.Segments != 2 {
		t.Fatalf("%d records, %+v", len(got), rep)
	}
	err := l.Rewrite(func(add func(int, ...[]byte) error) error {
		for _, r := range got {
			if err := add(items(r), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	again, rep := replayed(t, dir)
	if !reflect.DeepEqual(again, got) || rep.Format1 != 0 || !reflect.DeepEqual(files(t, dir), []string{name(3)}) {
		t.Errorf("after the rewrite: %d records, %+v, files %q", len(again), rep, files(t, dir))
	}

	// A damaged record of format 1 ends what can be read of its segment:
	// the rest is moved aside.
	dir = t.TempDir()
	old[16+8+3] ^= 1
	os.WriteFile(filepath.Join(dir, name(1)), old, 0o644)
	got, rep = replayed(t, dir)
	d := []Damage{{Segment: name(1), Offset: 16, Bytes: int64(len(old) - 16), Reason: "checksum mismatch (format 1: what follows cannot be read)", MovedTo: name(1) + ".corrupt"}}
	if len(got) != 0 || !reflect.DeepEqual(rep.Damage, d) {
		t.Errorf("%d records, damage %+v", len(got), rep.Damage)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, name(1)+".corrupt")), old[16:]) {
		t.Error("the bytes aside differ")
	}
}

// TestNewerFormat: a segment of a format this code does not know fails
// Open, and nothing is changed.
func TestNewerFormat(t *testing.T) {
	dir := t.TempDir()
	b := append([]byte("APTTWAL3"), make([]byte, 100)...)
	path := filepath.Join(dir, name(1))
	os.WriteFile(path, b, 0o644)
	os.WriteFile(path+".tmp", []byte("x"), 0o644)
	_, _, err := Open(dir, Options{}, func([]byte) error { return nil })
	want := "wal: " + path + " is in format version 3; this program reads versions 1 and 2: use a newer one (nothing in " + dir + " was changed)"
	if err == nil || err.Error() != want {
		t.Errorf("Open: %v\nwant %s", err, want)
	}
	if !bytes.Equal(readFile(t, path), b) || !reflect.DeepEqual(files(t, dir), []string{name(1), name(1) + ".tmp"}) {
		t.Errorf("files %q", files(t, dir))
	}
}

func TestAppendErrors(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := open(t, dir, Options{})
	if err := l.Append(1, make([]byte, MaxRecord+1)); err != ErrTooLarge {
		t.Errorf("Append of MaxRecord+1 bytes: %v", err)
	}
	if err := l.Append(-1, []byte("x")); err == nil || !strings.Contains(err.Error(), "-1 items") {
		t.Errorf("Append of -1 items: %v", err)
	}
	l.Close()
	if err := l.Append(1, []byte("x")); err == nil || err.Error() != "wal: log closed" {
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
