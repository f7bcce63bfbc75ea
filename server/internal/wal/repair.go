package wal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// moveAside copies the unreadable parts of segment s (sorted by offset),
// one after the other, into a new file beside it (asideName), syncs that,
// then removes them from the segment: a damaged end by cutting it off,
// damage elsewhere by replacing the segment with a fresh copy of its
// header and its records that verified, renumbered from 0, written to a
// temporary file, synced and renamed into place. A crash at any point
// leaves the segment as it was or repaired, and at worst a second copy of
// the parts aside. It returns the new file's name and the segment's size.
func moveAside(dir string, s segFile, spans []span) (string, int64, error) {
	path := filepath.Join(dir, s.name)
	src, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer src.Close()
	moved, err := copyAside(dir, s.name, src, spans)
	if err != nil {
		return "", 0, fmt.Errorf("wal: moving the unreadable parts of %s aside: %w", path, err)
	}
	if last := spans[len(spans)-1]; len(spans) == 1 && last.end == s.size && last.off >= headerSize || s.format == '1' {
		// Only the end is damaged: cut it off.
		if err := truncateSync(path, last.off); err != nil {
			return "", 0, err
		}
		return moved, last.off, nil
	}
	size, err := rewriteSegment(dir, s, src, spans)
	if err != nil {
		return "", 0, fmt.Errorf("wal: rewriting %s without its unreadable parts: %w", path, err)
	}
	return moved, size, nil
}

// copyAside copies the bytes of spans into a new file beside segment seg,
// and returns its name; "" if they hold no byte.
func copyAside(dir, seg string, src io.ReaderAt, spans []span) (string, error) {
	n := int64(0)
	for _, sp := range spans {
		n += sp.end - sp.off
	}
	if n == 0 {
		return "", nil
	}
	out, moved, err := createAside(dir, seg)
	if err != nil {
		return "", err
	}
	for _, sp := range spans {
		if _, err = io.Copy(out, io.NewSectionReader(src, sp.off, sp.end-sp.off)); err != nil {
			break
		}
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	return moved, err
}

// createAside creates the file for the unreadable parts of segment seg:
// seg.corrupt, or seg.2.corrupt, seg.3.corrupt, … if that exists.
func createAside(dir, seg string) (*os.File, string, error) {
	for i := 1; ; i++ {
		n := asideName(seg, i)
		f, err := os.OpenFile(filepath.Join(dir, n), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, n, err
	}
}

func asideName(seg string, i int) string {
	if i == 1 {
		return seg + corruptSuffix
	}
	return fmt.Sprintf("%s.%d%s", seg, i, corruptSuffix)
}

// renameAside moves the whole segment seg aside, to the first free name
// that createAside would use.
func renameAside(dir, seg string) (string, error) {
	for i := 1; ; i++ {
		n := asideName(seg, i)
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if err := os.Rename(filepath.Join(dir, seg), filepath.Join(dir, n)); err != nil {
			return "", err
		}
		return n, syncDir(dir)
	}
}

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rewriteSegment writes the header of s and its records outside spans,
// renumbered, over s through a temporary file (replaceFile). It returns
// the new size.
func rewriteSegment(dir string, s segFile, src *os.File, spans []span) (int64, error) {
	var size int64
	err := replaceFile(filepath.Join(dir, s.name), func(f *os.File) (err error) {
		size, err = copyRecords(f, s, src, spans)
		return err
	})
	if err != nil {
		return 0, err
	}
	return size, nil
}

// copyRecords writes the header of s and its records outside spans to w.
func copyRecords(w io.Writer, s segFile, src io.ReaderAt, spans []span) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	salt := saltCRC(s.hdr.salt)
	r := &segReader{f: src, size: s.size}
	size := int64(headerSize)
	bw.Write(s.hdr.bytes())
	var index, items uint64
	var hb []byte
	from := int64(headerSize)
	for i := 0; i <= len(spans); i++ {
		to := s.size
		if i < len(spans) {
			if spans[i].off < headerSize {
				continue // a header copy
			}
			to = spans[i].off
		}
		for pos := from; pos < to; {
			h, ok, err := r.header(pos, salt)
			if err != nil {
				return 0, err
			}
			if !ok || h.end(pos) > to {
				return 0, fmt.Errorf("a record at %d no longer verifies", pos)
			}
			payload, err := r.at(pos+recHeader, int(h.length))
			if err != nil {
				return 0, err
			}
			hb = appendRecHeader(hb[:0], salt, recHdr{length: h.length, index: index, items: items, count: h.count, pcrc: h.pcrc})
			bw.Write(hb)
			bw.Write(payload)
			index++
			items += uint64(h.count)
			size += int64(len(hb)) + int64(h.length)
			pos = h.end(pos)
		}
		if i < len(spans) {
			from = spans[i].end
		}
	}
	return size, bw.Flush()
}
