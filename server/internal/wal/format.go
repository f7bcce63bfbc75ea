package wal

import (
	"crypto/rand"
	"encoding/binary"
	"hash/crc32"
)

// The format (version 2) of a segment file:
//
//	segment header: two identical copies of
//	                "APTTWAL2" | flags uint32 (1: base) | salt uint64 | CRC-32C of the 20 bytes before, uint32
//	record:         sync "\xa7\x5e\xc0\x12" | length uint32 | index uint64 | items uint64 | count uint32 |
//	                CRC-32C of the payload, uint32 | CRC-32C of the salt and the 32 header bytes before, uint32 |
//	                payload (length bytes)
//
// Integers are little-endian. index numbers the records of a segment from
// 0; items is the sum of the counts of the records before it in the
// segment; count is what the writer said the record holds (the store: its
// points). The salt is random per segment, so that no payload, whatever a
// client put in it, can hold a record header that verifies: after damage,
// a reader looks for the next sync marker whose header checksum verifies
// (never trusting a length it has not verified), and the index and items
// of the next record that verifies tell exactly what the damage cost.
const (
	magicPrefix = "APTTWAL"
	version     = '2'
	copySize    = 24           // one copy of the segment header
	headerSize  = 2 * copySize // the segment header
	recHeader   = 36           // a record's header
	flagBase    = 1            // a base segment starts the log afresh
	maxCount    = 1<<32 - 1    // the most items a record may say it holds
	magic       = magicPrefix + string(rune(version))
)

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	syncMark   = [4]byte{0xa7, 0x5e, 0xc0, 0x12}
)

// segHeader is what a segment header holds.
type segHeader struct {
	base bool
	salt uint64
}

func newSalt() uint64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return binary.LittleEndian.Uint64(b[:])
}

func (h segHeader) bytes() []byte {
	c := make([]byte, copySize)
	copy(c, magic)
	if h.base {
		binary.LittleEndian.PutUint32(c[8:], flagBase)
	}
	binary.LittleEndian.PutUint64(c[12:], h.salt)
	binary.LittleEndian.PutUint32(c[20:], crc32.Checksum(c[:20], castagnoli))
	return append(c, c...)
}

// parseCopy reads one copy of a segment header.
func parseCopy(c []byte) (segHeader, bool) {
	if len(c) < copySize || string(c[:8]) != magic || binary.LittleEndian.Uint32(c[20:]) != crc32.Checksum(c[:20], castagnoli) {
		return segHeader{}, false
	}
	return segHeader{base: binary.LittleEndian.Uint32(c[8:])&flagBase != 0, salt: binary.LittleEndian.Uint64(c[12:])}, true
}

// recHdr is what a record header holds.
type recHdr struct {
	length uint32
	index  uint64
	items  uint64
	count  uint32
	pcrc   uint32
}

// end returns the offset after the record that starts at pos.
func (r recHdr) end(pos int64) int64 { return pos + recHeader + int64(r.length) }

// saltCRC is the CRC-32C state after the salt, which every record header
// checksum of the segment starts from.
func saltCRC(salt uint64) uint32 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], salt)
	return crc32.Checksum(b[:], castagnoli)
}

// appendRecHeader appends the header of a record to b.
func appendRecHeader(b []byte, salt uint32, r recHdr) []byte {
	start := len(b)
	b = append(b, syncMark[:]...)
	b = binary.LittleEndian.AppendUint32(b, r.length)
	b = binary.LittleEndian.AppendUint64(b, r.index)
	b = binary.LittleEndian.AppendUint64(b, r.items)
	b = binary.LittleEndian.AppendUint32(b, r.count)
	b = binary.LittleEndian.AppendUint32(b, r.pcrc)
	return binary.LittleEndian.AppendUint32(b, crc32.Update(salt, castagnoli, b[start:]))
}

// parseRecHeader reads the record header at the start of b (at least
// recHeader bytes).
func parseRecHeader(b []byte, salt uint32) (recHdr, bool) {
	if [4]byte(b[:4]) != syncMark || binary.LittleEndian.Uint32(b[32:]) != crc32.Update(salt, castagnoli, b[:32]) {
		return recHdr{}, false
	}
	return recHdr{
		length: binary.LittleEndian.Uint32(b[4:]),
		index:  binary.LittleEndian.Uint64(b[8:]),
		items:  binary.LittleEndian.Uint64(b[16:]),
		count:  binary.LittleEndian.Uint32(b[24:]),
		pcrc:   binary.LittleEndian.Uint32(b[28:]),
	}, true
}

func payloadCRC(parts [][]byte) uint32 {
	var crc uint32
	for _, p := range parts {
		crc = crc32.Update(crc, castagnoli, p)
	}
	return crc
}
