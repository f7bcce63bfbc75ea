package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

const (
	cursorFile  = "cursor"
	cursorMagic = "apcursr1"
	cursorLen   = len(cursorMagic) + 8 + 8 + 4
)

var errCursorCorrupt = errors.New("spool: cursor file is corrupt")

// readCursor returns the position in the cursor file: the zero position
// when there is none, errCursorCorrupt when it is unreadable.
func readCursor(dir string) (position, error) {
	b, err := os.ReadFile(filepath.Join(dir, cursorFile))
	if errors.Is(err, os.ErrNotExist) {
		return position{}, nil
	}
	if err != nil {
		return position{}, fmt.Errorf("spool: %w", err)
	}
	return parseCursor(b)
}

func parseCursor(b []byte) (position, error) {
	if len(b) != cursorLen || string(b[:len(cursorMagic)]) != cursorMagic ||
		binary.LittleEndian.Uint32(b[cursorLen-4:]) != crc32.Checksum(b[:cursorLen-4], castagnoli) {
		return position{}, errCursorCorrupt
	}
	p := position{
		seq: binary.LittleEndian.Uint64(b[8:]),
		off: int64(binary.LittleEndian.Uint64(b[16:])),
	}
	if p.off < 0 {
		return position{}, errCursorCorrupt
	}
	return p, nil
}

func encodeCursor(p position) []byte {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorMagic...)
	b = binary.LittleEndian.AppendUint64(b, p.seq)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.off))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// writeCursor replaces the cursor file atomically: a crash leaves the old
// cursor or the new one, never a mix. With sync, the new one is on disk
// when it returns.
func writeCursor(dir string, p position, sync bool) error {
	tmp := filepath.Join(dir, cursorFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool: cursor: %w", err)
	}
	_, err = f.Write(encodeCursor(p))
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, cursorFile))
	}
	if err == nil && sync {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("spool: cursor: %w", err)
	}
	return nil
}
