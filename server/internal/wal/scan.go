package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// segFile is a segment file as its header describes it.
type segFile struct {
	n      uint64
	name   string
	size   int64
	format byte // '1', '2', or 0: no readable header
	base   bool
	hdr    segHeader // format 2
	bad    []span    // format 2: the header copies that do not verify
}

// span is an unreadable part of a segment.
type span struct {
	off, end int64
	reason   string
	records  int
	items    uint64
	exact    bool
}

// classify reads the header of segment n. A segment of a newer format is an
// error.
func classify(dir string, n uint64) (segFile, error) {
	s := segFile{n: n, name: name(n)}
	f, err := os.Open(filepath.Join(dir, s.name))
	if err != nil {
		return s, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return s, err
	}
	s.size = fi.Size()
	b := make([]byte, headerSize)
	k, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return s, err
	}
	b = b[:k]
	a, aok := parseCopy(b)
	c, cok := segHeader{}, false
	if len(b) == headerSize {
		c, cok = parseCopy(b[copySize:])
	}
	switch {
	case aok || cok:
		s.format, s.hdr = version, a
		if !aok {
			s.hdr = c
			s.bad = append(s.bad, span{off: 0, end: copySize, reason: "bad segment header (first copy)", exact: true})
		}
		if !cok {
			s.bad = append(s.bad, span{off: copySize, end: min(headerSize, s.size), reason: "bad segment header (second copy)", exact: true})
		}
		s.base = s.hdr.base
	case isFormat1(b):
		s.format, s.base = '1', binary.LittleEndian.Uint32(b[8:])&flagBase != 0
	case len(b) >= 8 && string(b[:7]) == magicPrefix && b[7] > version && b[7] <= '9':
		return s, fmt.Errorf("wal: %s is in format version %c; this program reads versions 1 and 2: use a newer one (nothing in %s was changed)",
			filepath.Join(dir, s.name), b[7], dir)
	}
	return s, nil
}

// scan is what replaying a segment found.
type scan struct {
	records int    // records replayed
	items   uint64 // their items
	size    int64  // the segment's size after repairs
	removed bool   // the whole segment was moved aside
	damage  []Damage
}

// replaySegment replays the records of segment s that verify, then moves
// its unreadable parts aside.
func replaySegment(dir string, s segFile, replay func([]byte) error) (scan, error) {
	sc := scan{size: s.size}
	path := filepath.Join(dir, s.name)
	if s.format == 0 {
		// No readable header, so no record can be verified: the whole file
		// goes aside.
		moved, err := renameAside(dir, s.name)
		if err != nil {
			return sc, err
		}
		sc.removed = true
		sc.damage = []Damage{{Segment: s.name, Offset: 0, Bytes: s.size, Reason: "no readable segment header", MovedTo: moved}}
		return sc, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return sc, err
	}
	r := &segReader{f: f, size: s.size}
	var spans []span
	if s.format == '1' {
		spans, err = scan1(r, replay, &sc)
	} else {
		spans, err = scan2(r, s.hdr, replay, &sc)
		spans = append(s.bad, spans...)
	}
	f.Close()
	if err != nil || len(spans) == 0 {
		return sc, err
	}
	moved, size, err := moveAside(dir, s, spans)
	if err != nil {
		return sc, err
	}
	sc.size = size
	for _, sp := range spans {
		sc.damage = append(sc.damage, Damage{
			Segment: s.name, Offset: sp.off, Bytes: sp.end - sp.off, Reason: sp.reason,
			Records: sp.records, Items: int64(sp.items), Exact: sp.exact, MovedTo: moved,
		})
	}
	return sc, nil
}

// scan2 replays the records of a segment of format 2 and returns its
// unreadable parts. After a record that does not verify it looks for the
// next sync marker whose header verifies, from the byte after the start of
// the bad record: a length it could not verify never makes it skip
// anything.
func scan2(r *segReader, hdr segHeader, replay func([]byte) error, sc *scan) ([]span, error) {
	salt := saltCRC(hdr.salt)
	var rec recovery
	pos := int64(headerSize)
	for pos < r.size {
		h, ok, err := r.header(pos, salt)
		if err != nil {
			return nil, err
		}
		reason := "bad record header"
		if ok {
			if reason, err = rec.check(r, pos, h, replay); err != nil {
				return nil, err
			}
		}
		if reason == "" {
			rec.replayed(pos, h)
			sc.records++
			sc.items += uint64(h.count)
			pos = h.end(pos)
			continue
		}
		rec.damaged(pos, h, ok, reason)
		if pos, err = r.nextHeader(pos+1, salt); err != nil {
			return nil, err
		}
	}
	return rec.finish(r.size), nil
}

// recovery follows the records of a format-2 segment in order: the
// unreadable parts found, the one open, and the index and items the next
// record should have.
type recovery struct {
	spans       []span
	open        *span
	next, items uint64 // the index and items the next record should have
	// For an unreadable part at the end: the records whose headers verify
	// in it, and whether they follow one another from its start.
	chainAt                int64
	chainIndex, chainItems uint64
}

// check verifies the record at pos, whose header h verifies, and replays
// it; it returns why the record is unreadable, or "".
func (rec *recovery) check(r *segReader, pos int64, h recHdr, replay func([]byte) error) (string, error) {
	if h.end(pos) > r.size {
		return "torn record", nil
	}
	payload, err := r.at(pos+recHeader, int(h.length))
	if err != nil {
		return "", err
	}
	switch {
	case crc32.Checksum(payload, castagnoli) != h.pcrc:
		return "checksum mismatch", nil
	case h.index < rec.next || h.items < rec.items:
		return "record out of sequence", nil
	}
	if err := replay(payload); err != nil {
		return "record rejected: " + err.Error(), nil
	}
	return "", nil
}

// replayed follows the record at pos, replayed: it closes the unreadable
// part open before it, or notes the records missing before it.
func (rec *recovery) replayed(pos int64, h recHdr) {
	if rec.open != nil {
		rec.open.end, rec.open.records, rec.open.items, rec.open.exact = pos, int(h.index-rec.next), h.items-rec.items, true
		rec.spans = append(rec.spans, *rec.open)
		rec.open = nil
	} else if h.index != rec.next || h.items != rec.items {
		// Records missing, though no byte is damaged (the segment was cut
		// at a record's end, and not by a crash).
		rec.spans = append(rec.spans, span{off: pos, end: pos, reason: "records missing", records: int(h.index - rec.next), items: h.items - rec.items, exact: true})
	}
	rec.next, rec.items = h.index+1, h.items+uint64(h.count)
}

// damaged adds the record at pos, unreadable for reason, to the
// unreadable part open (opening one); ok says its header h verifies.
func (rec *recovery) damaged(pos int64, h recHdr, ok bool, reason string) {
	if rec.open == nil {
		rec.open = &span{off: pos, reason: reason, exact: true}
		rec.chainAt, rec.chainIndex, rec.chainItems = pos, rec.next, rec.items
	}
	if !ok || h.index < rec.next {
		rec.open.exact = false
		return
	}
	// A record lost, at least: its header says so.
	rec.open.records++
	rec.open.items += uint64(h.count)
	if rec.open.exact && pos == rec.chainAt && h.index == rec.chainIndex && h.items == rec.chainItems {
		rec.chainAt, rec.chainIndex, rec.chainItems = h.end(pos), h.index+1, h.items+uint64(h.count)
	} else {
		rec.open.exact = false
	}
}

// finish closes the unreadable part open at the end of the segment (of
// size bytes) and returns all of them.
func (rec *recovery) finish(size int64) []span {
	if rec.open != nil {
		rec.open.end = size
		rec.open.exact = rec.open.exact && rec.chainAt >= size
		rec.spans = append(rec.spans, *rec.open)
	}
	return rec.spans
}

// segReader reads a segment through a window.
type segReader struct {
	f    io.ReaderAt
	size int64
	buf  []byte
	off  int64 // the file offset of buf[0]
}

const window = 1 << 20

// at returns the n bytes at pos, which must be in the file; they are valid
// until the next call.
func (r *segReader) at(pos int64, n int) ([]byte, error) {
	if pos >= r.off && pos+int64(n) <= r.off+int64(len(r.buf)) {
		return r.buf[pos-r.off : pos-r.off+int64(n)], nil
	}
	m := min(int64(max(n, window)), r.size-pos)
	if int64(cap(r.buf)) < m {
		r.buf = make([]byte, m)
	}
	r.buf = r.buf[:m]
	k, err := r.f.ReadAt(r.buf, pos)
	if int64(k) < m {
		r.buf = r.buf[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	r.off = pos
	return r.buf[:n], nil
}

// from returns the bytes from pos on that the window holds: at least 4 KiB
// (up to the end of the file), refilling it if needed.
func (r *segReader) from(pos int64) ([]byte, error) {
	if _, err := r.at(pos, int(min(4096, r.size-pos))); err != nil {
		return nil, err
	}
	return r.buf[pos-r.off:], nil
}

// header reads the record header at pos, if one that verifies is there.
func (r *segReader) header(pos int64, salt uint32) (recHdr, bool, error) {
	if pos+recHeader > r.size {
		return recHdr{}, false, nil
	}
	b, err := r.at(pos, recHeader)
	if err != nil {
		return recHdr{}, false, err
	}
	h, ok := parseRecHeader(b, salt)
	return h, ok && h.length <= MaxRecord, nil
}

// nextHeader returns the offset of the first record header at or after
// pos that verifies, or the file's size.
func (r *segReader) nextHeader(pos int64, salt uint32) (int64, error) {
	for pos+recHeader <= r.size {
		b, err := r.from(pos)
		if err != nil {
			return 0, err
		}
		i := bytes.Index(b, syncMark[:])
		if i < 0 {
			pos += int64(max(1, len(b)-len(syncMark)+1))
			continue
		}
		if _, ok, err := r.header(pos+int64(i), salt); err != nil || ok {
			return pos + int64(i), err
		}
		pos += int64(i) + 1
	}
	return r.size, nil
}
