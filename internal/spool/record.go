package spool

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// MaxRecordBytes is the largest payload (before compression) one record
// may carry.
const MaxRecordBytes = 64 << 20

const (
	segmentMagic   = "apspool1"
	segmentHeader  = int64(len(segmentMagic))
	recordMagic    = 0x4c4f5053 // "SPOL" little endian
	recordHeader   = 20         // magic, clen, rawlen, points, hcrc
	recordTrailer  = 4          // pcrc
	recordOverhead = recordHeader + recordTrailer
	// maxCompressed bounds clen: DEFLATE at worst stores blocks, adding 5
	// bytes per 64 KiB.
	maxCompressed = MaxRecordBytes + MaxRecordBytes/1024 + 1024
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is a record's header, once its checksum matched.
type header struct {
	clen, rawlen, points uint32
}

func (h header) size() int64 { return recordOverhead + int64(h.clen) }

// appendRecord appends to dst the record of payload, compressed by fw (reset
// here), carrying points points.
func appendRecord(dst []byte, fw *flate.Writer, payload []byte, points uint32) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, recordHeader)...)
	w := appendWriter{b: dst}
	fw.Reset(&w)
	if _, err := fw.Write(payload); err != nil {
		return dst[:start], err
	}
	if err := fw.Close(); err != nil {
		return dst[:start], err
	}
	dst = w.b
	clen := len(dst) - start - recordHeader
	h := dst[start : start+recordHeader]
	binary.LittleEndian.PutUint32(h[0:], recordMagic)
	binary.LittleEndian.PutUint32(h[4:], uint32(clen))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[12:], points)
	binary.LittleEndian.PutUint32(h[16:], crc32.Checksum(h[:16], castagnoli))
	pcrc := crc32.Update(crc32.Checksum(h[4:16], castagnoli), castagnoli, dst[start+recordHeader:])
	return binary.LittleEndian.AppendUint32(dst, pcrc), nil
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// Reasons a record cannot be read.
var (
	errTruncated = errors.New("record runs past the end of the segment")
	errHeader    = errors.New("record header checksum mismatch")
	errPayload   = errors.New("record payload checksum mismatch")
	errInflate   = errors.New("record payload does not inflate to its length")
)

// parseHeader checks the header in b (recordHeader bytes).
func parseHeader(b []byte) (header, error) {
	if binary.LittleEndian.Uint32(b[0:]) != recordMagic ||
		binary.LittleEndian.Uint32(b[16:]) != crc32.Checksum(b[:16], castagnoli) {
		return header{}, errHeader
	}
	h := header{
		clen:   binary.LittleEndian.Uint32(b[4:]),
		rawlen: binary.LittleEndian.Uint32(b[8:]),
		points: binary.LittleEndian.Uint32(b[12:]),
	}
	if h.rawlen > MaxRecordBytes || h.clen > maxCompressed {
		// Only a crafted header passes the checksum with such lengths.
		return header{}, errHeader
	}
	return h, nil
}

// segReader reads the records of one segment through a window of bytes, so
// that scanning the headers of small records costs one read per window
// rather than one per record.
type segReader struct {
	ra     io.ReaderAt
	size   int64
	win    []byte
	winOff int64
	fr     io.ReadCloser // reused inflater
}

const windowSize = 64 << 10

func newSegReader(ra io.ReaderAt, size int64) *segReader {
	return &segReader{ra: ra, size: size}
}

// readAt returns n bytes at off (n <= windowSize), from the window when it
// holds them.
func (r *segReader) readAt(off int64, n int) ([]byte, error) {
	if off < 0 || off+int64(n) > r.size {
		return nil, errTruncated
	}
	if off >= r.winOff && off+int64(n) <= r.winOff+int64(len(r.win)) {
		return r.win[off-r.winOff : off-r.winOff+int64(n)], nil
	}
	if cap(r.win) < windowSize {
		r.win = make([]byte, windowSize)
	}
	m := int(min(int64(windowSize), r.size-off))
	r.win = r.win[:m]
	if _, err := r.ra.ReadAt(r.win, off); err != nil && !(errors.Is(err, io.EOF) && m > 0) {
		r.win = r.win[:0]
		return nil, err
	}
	r.winOff = off
	return r.win[:n], nil
}

// checkMagic reports whether the segment starts with the segment magic.
func (r *segReader) checkMagic() error {
	b, err := r.readAt(0, int(segmentHeader))
	if err != nil {
		return err
	}
	if string(b) != segmentMagic {
		return fmt.Errorf("segment does not start with %q", segmentMagic)
	}
	return nil
}

// header reads and checks the header of the record at off.
func (r *segReader) header(off int64) (header, error) {
	b, err := r.readAt(off, recordHeader)
	if err != nil {
		return header{}, err
	}
	h, err := parseHeader(b)
	if err != nil {
		return h, err
	}
	if off+h.size() > r.size {
		return h, errTruncated
	}
	return h, nil
}

// payload reads, checks and inflates the payload of the record at off,
// whose header is h.
func (r *segReader) payload(off int64, h header) ([]byte, error) {
	body := make([]byte, int64(h.clen)+recordTrailer)
	if _, err := r.ra.ReadAt(body, off+recordHeader); err != nil && !(errors.Is(err, io.EOF)) {
		return nil, err
	}
	data := body[:h.clen]
	var lens [12]byte
	binary.LittleEndian.PutUint32(lens[0:], h.clen)
	binary.LittleEndian.PutUint32(lens[4:], h.rawlen)
	binary.LittleEndian.PutUint32(lens[8:], h.points)
	want := binary.LittleEndian.Uint32(body[h.clen:])
	if crc32.Update(crc32.Checksum(lens[:], castagnoli), castagnoli, data) != want {
		return nil, errPayload
	}
	out := make([]byte, h.rawlen)
	if r.fr == nil {
		r.fr = flate.NewReader(bytes.NewReader(data))
	} else {
		r.fr.(flate.Resetter).Reset(bytes.NewReader(data), nil)
	}
	fr := r.fr
	if _, err := io.ReadFull(fr, out); err != nil {
		return nil, errInflate
	}
	var one [1]byte
	if n, err := fr.Read(one[:]); n != 0 || !errors.Is(err, io.EOF) {
		return nil, errInflate
	}
	return out, nil
}

// resync returns the offset of the first record header after off whose
// checksum matches (the record may still run past the end), or r.size when
// there is none.
func (r *segReader) resync(off int64) int64 {
	magic := binary.LittleEndian.AppendUint32(nil, recordMagic)
	for pos := off + 1; pos+recordHeader <= r.size; {
		n := int(min(int64(windowSize), r.size-pos))
		b, err := r.readAt(pos, n)
		if err != nil {
			return r.size
		}
		i := bytes.Index(b, magic)
		if i < 0 {
			// The magic may straddle the window's end.
			pos += int64(max(1, n-len(magic)+1))
			continue
		}
		if headerOK(r, pos+int64(i)) {
			return pos + int64(i)
		}
		pos += int64(i) + 1
	}
	return r.size
}

// headerOK reports whether the header at off has a matching checksum,
// whatever the record's length.
func headerOK(r *segReader, off int64) bool {
	b, err := r.readAt(off, recordHeader)
	if err != nil {
		return false
	}
	_, err = parseHeader(b)
	return err == nil
}

// corruption describes bytes of a segment that hold no readable record.
type corruption struct {
	bytes  int64
	points int64 // points of a record whose header is intact; else 0
	err    error
}

// step examines the record at off (< r.size). It returns its header when
// the header is intact and the record lies within the segment; otherwise
// the offset to resume at and what lies in between.
func step(r *segReader, off int64) (header, int64, *corruption) {
	h, err := r.header(off)
	switch {
	case err == nil:
		return h, off + h.size(), nil
	case errors.Is(err, errTruncated) && headerOK(r, off):
		// Torn: the process or the machine died while writing the last
		// record. Nothing follows it.
		return h, r.size, &corruption{bytes: r.size - off, points: int64(h.points), err: err}
	case errors.Is(err, errTruncated):
		return h, r.size, &corruption{bytes: r.size - off, err: err}
	case errors.Is(err, errHeader):
		next := r.resync(off)
		return h, next, &corruption{bytes: next - off, err: err}
	}
	// An I/O error: the rest of the segment cannot be read.
	return h, r.size, &corruption{bytes: r.size - off, err: err}
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
