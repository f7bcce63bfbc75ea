package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Format version 1, which Open reads and never writes:
//
//	segment header: "APTTWAL1" | flags uint32 (1: base) | CRC-32C of the 12 bytes before, uint32
//	record:         length uint32 | CRC-32C of the length's 4 bytes and the payload, uint32 | payload
//
// A record has no sync marker, so nothing after a damaged one can be found
// safely: the rest of the segment is unreadable.
const (
	magic1      = magicPrefix + "1"
	header1Size = 16
	recHeader1  = 8
)

func isFormat1(b []byte) bool {
	return len(b) >= header1Size && string(b[:8]) == magic1 &&
		binary.LittleEndian.Uint32(b[12:]) == crc32.Checksum(b[:12], castagnoli)
}

// scan1 replays the records of a segment of format 1 up to the first that
// does not verify, and returns the rest as an unreadable part.
func scan1(r *segReader, replay func([]byte) error, sc *scan) ([]span, error) {
	pos := int64(header1Size)
	reason := ""
	for pos < r.size && reason == "" {
		if pos+recHeader1 > r.size {
			reason = "torn record header"
			break
		}
		h, err := r.at(pos, recHeader1)
		if err != nil {
			return nil, err
		}
		n := int64(binary.LittleEndian.Uint32(h))
		want := binary.LittleEndian.Uint32(h[4:])
		crc := crc32.Checksum(h[:4], castagnoli)
		if n > r.size-pos-recHeader1 {
			reason = fmt.Sprintf("torn record: %d bytes announced, %d left", n, r.size-pos-recHeader1)
			break
		}
		payload, err := r.at(pos+recHeader1, int(n))
		if err != nil {
			return nil, err
		}
		switch {
		case crc32.Update(crc, castagnoli, payload) != want:
			reason = "checksum mismatch"
		default:
			if err := replay(payload); err != nil {
				reason = "record rejected: " + err.Error()
				break
			}
			sc.records++
			pos += recHeader1 + n
		}
	}
	if reason == "" {
		return nil, nil
	}
	return []span{{off: pos, end: r.size, reason: reason + " (format 1: what follows cannot be read)"}}, nil
}
