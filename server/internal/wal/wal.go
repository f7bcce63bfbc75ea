// Package wal is an append-only log of checksummed records, kept in
// numbered segment files in one directory, that survives crashes: a record
// torn by a crash in the middle of its write, or damaged later, is found on
// the next Open, reported and cut off; the records before it are kept.
//
// A segment file is a 16-byte header followed by records:
//
//	header:  "APTTWAL1" | flags uint32 LE (1: base) | CRC-32C of the first 12 bytes, uint32 LE
//	record:  length uint32 LE | CRC-32C of the length's 4 bytes and the payload, uint32 LE | payload
//
// A base segment starts the log afresh: Open replays the newest base
// segment and the segments after it, and deletes older ones. Rewrite writes
// a base segment (for compaction) into a temporary file, syncs it and
// renames it into place, so that a crash leaves either the old log or the
// new one, never a mix.
//
// Durability: Append writes the record (two write calls) before it returns,
// so a crash of the process loses nothing appended; what the operating
// system has not yet written to the disk is flushed with fsync by Sync,
// every Options.SyncInterval, or by every Append when the interval is 0.
// An operating-system crash or power loss may lose the records appended
// since the last sync. One Log per directory at a time: nothing stops a
// second process.
//
// It uses the standard library only.
package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apptuit-go/apptuit/internal/dirlock"
)

// MaxRecord is the largest payload a record may have.
const MaxRecord = 256 << 20

const (
	magic      = "APTTWAL1"
	headerSize = 16
	recHeader  = 8
	flagBase   = 1
	suffix     = ".wal"
	tmpSuffix  = ".wal.tmp"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrTooLarge is returned by Append for a payload over MaxRecord.
var ErrTooLarge = errors.New("wal: record larger than MaxRecord")

// Options configure a Log.
type Options struct {
	// SyncInterval is how often, at most, appended records are flushed to
	// stable storage with fsync; 0 syncs in every Append.
	SyncInterval time.Duration
}

// Drop describes a torn or corrupt part of a segment that Open cut off.
type Drop struct {
	Segment string // file name
	Offset  int64  // where the bad part starts
	Bytes   int64  // bytes dropped
	Reason  string // e.g. "torn record header", "checksum mismatch"
}

// Report says what Open found.
type Report struct {
	Segments int   // segments replayed
	Records  int   // records replayed
	Bytes    int64 // bytes of the log after repairs
	Drops    []Drop
	Removed  int // superseded segments and temporary files deleted
}

// Log is an open log. Its methods are safe for concurrent use.
type Log struct {
	dir   string
	opts  Options
	mu    sync.Mutex
	f     *os.File
	seg   uint64 // number of the segment appended to
	size  int64  // its size
	total int64  // bytes in all segments
	dirty bool   // appended since the last sync
	err   error  // a failed write that could not be undone: the log is read-only
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	lock  *dirlock.Lock // nil after Close
}

// Open opens the log in dir (creating dir and an empty log if needed),
// calls replay with the payload of each record in order (replay must not
// keep payload: its buffer is reused), cuts off torn or corrupt parts (a
// record replay rejects with an error counts as corrupt) and returns the
// log, ready to append to. A failure to read or repair the
// files is an error; damaged content is not, it is reported. The log locks
// dir until Close: a second Open of it, by this process or another, fails
// with an error matching ErrLocked that names the holder's pid.
func Open(dir string, opts Options, replay func(payload []byte) error) (*Log, Report, error) {
	if opts.SyncInterval < 0 {
		return nil, Report{}, fmt.Errorf("wal: negative sync interval %v", opts.SyncInterval)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, Report{}, err
	}
	lk, err := dirlock.Acquire(dir)
	if err != nil {
		return nil, Report{}, fmt.Errorf("wal: %w", err)
	}
	l, rep, err := openLocked(dir, opts, replay)
	if err != nil {
		lk.Unlock()
		return nil, rep, err
	}
	l.lock = lk
	return l, rep, nil
}

// ErrLocked is matched (errors.Is) by Open's error when another Log holds
// the directory.
var ErrLocked = dirlock.ErrLocked

// openLocked is Open once dir exists and is locked.
func openLocked(dir string, opts Options, replay func(payload []byte) error) (*Log, Report, error) {
	var rep Report
	segs, tmps, err := list(dir)
	if err != nil {
		return nil, rep, err
	}
	for _, t := range tmps {
		if err := os.Remove(filepath.Join(dir, t)); err != nil {
			return nil, rep, err
		}
		rep.Removed++
	}
	// Replay from the newest base segment.
	start := 0
	for i := len(segs) - 1; i >= 0; i-- {
		if base, ok := readHeader(filepath.Join(dir, name(segs[i]))); ok && base {
			start = i
			break
		}
	}
	for _, n := range segs[:start] {
		if err := os.Remove(filepath.Join(dir, name(n))); err != nil {
			return nil, rep, err
		}
		rep.Removed++
	}
	segs = segs[start:]
	l := &Log{dir: dir, opts: opts}
	for _, n := range segs {
		size, drop, err := replaySegment(filepath.Join(dir, name(n)), replay, &rep)
		if err != nil {
			return nil, rep, err
		}
		if drop != nil {
			rep.Drops = append(rep.Drops, *drop)
		}
		if size < headerSize { // nothing usable, not even a header
			if err := os.Remove(filepath.Join(dir, name(n))); err != nil {
				return nil, rep, err
			}
			rep.Removed++
			continue
		}
		rep.Segments++
		l.total += size
		l.seg, l.size = n, size // appends go to the last segment kept
	}
	if l.seg == 0 {
		// An empty log: a first, base, segment.
		n := uint64(1)
		if len(segs) > 0 {
			n = segs[len(segs)-1] + 1
		}
		if err := writeSegment(dir, n); err != nil {
			return nil, rep, err
		}
		l.seg, l.size, l.total = n, headerSize, headerSize
	}
	l.f, err = os.OpenFile(filepath.Join(dir, name(l.seg)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, rep, err
	}
	if err := syncDir(dir); err != nil {
		l.f.Close()
		return nil, rep, err
	}
	rep.Bytes = l.total
	if opts.SyncInterval > 0 {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.syncLoop()
	}
	return l, rep, nil
}

func name(n uint64) string { return fmt.Sprintf("%016d%s", n, suffix) }

// list returns the segment numbers in dir, ascending, and the temporary
// files left by an interrupted Rewrite.
func list(dir string) ([]uint64, []string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var segs []uint64
	var tmps []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		switch n := e.Name(); {
		case strings.HasSuffix(n, tmpSuffix):
			tmps = append(tmps, n)
		case strings.HasSuffix(n, suffix) && len(n) == 16+len(suffix):
			if v, err := strconv.ParseUint(strings.TrimSuffix(n, suffix), 10, 64); err == nil && v > 0 {
				segs = append(segs, v)
			}
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i] < segs[j] })
	return segs, tmps, nil
}

func header(base bool) []byte {
	h := make([]byte, headerSize)
	copy(h, magic)
	if base {
		binary.LittleEndian.PutUint32(h[8:], flagBase)
	}
	binary.LittleEndian.PutUint32(h[12:], crc32.Checksum(h[:12], castagnoli))
	return h
}

// parseHeader reports whether h is a valid header, and a base one.
func parseHeader(h []byte) (base, ok bool) {
	if len(h) < headerSize || string(h[:8]) != magic || binary.LittleEndian.Uint32(h[12:]) != crc32.Checksum(h[:12], castagnoli) {
		return false, false
	}
	return binary.LittleEndian.Uint32(h[8:])&flagBase != 0, true
}

func readHeader(path string) (base, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return false, false
	}
	defer f.Close()
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(f, h); err != nil {
		return false, false
	}
	return parseHeader(h)
}

// replaySegment replays the records of one segment and cuts off a bad
// tail. It returns the segment's size after the cut.
func replaySegment(path string, replay func([]byte) error, rep *Report) (int64, *Drop, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, err
	}
	size := fi.Size()
	r := bufio.NewReaderSize(f, 1<<16)
	good := int64(0)
	reason := ""
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(r, h); err != nil {
		reason = "torn segment header"
	} else if _, ok := parseHeader(h); !ok {
		reason = "bad segment header"
	} else {
		good = headerSize
		var rh [recHeader]byte
		var payload []byte
		for {
			if _, err := io.ReadFull(r, rh[:]); err == io.EOF {
				break
			} else if err != nil {
				reason = "torn record header"
				break
			}
			n := int64(binary.LittleEndian.Uint32(rh[:4]))
			if n > MaxRecord {
				reason = fmt.Sprintf("record length %d over the limit", n)
				break
			}
			if n > size-good-recHeader {
				reason = fmt.Sprintf("torn record: %d bytes announced, %d left", n, size-good-recHeader)
				break
			}
			if int64(cap(payload)) < n {
				payload = make([]byte, n)
			}
			payload = payload[:n]
			if _, err := io.ReadFull(r, payload); err != nil {
				reason = "torn record"
				break
			}
			crc := crc32.Update(crc32.Checksum(rh[:4], castagnoli), castagnoli, payload)
			if crc != binary.LittleEndian.Uint32(rh[4:]) {
				reason = "checksum mismatch"
				break
			}
			if err := replay(payload); err != nil {
				reason = "record rejected: " + err.Error()
				break
			}
			rep.Records++
			good += recHeader + n
		}
	}
	if reason == "" {
		return size, nil, nil
	}
	drop := &Drop{Segment: filepath.Base(path), Offset: good, Bytes: size - good, Reason: reason}
	if err := f.Truncate(good); err != nil {
		return 0, nil, err
	}
	if err := f.Sync(); err != nil {
		return 0, nil, err
	}
	return good, drop, nil
}

func recordHeader(parts [][]byte) ([]byte, int64, error) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxRecord {
		return nil, 0, ErrTooLarge
	}
	h := make([]byte, recHeader)
	binary.LittleEndian.PutUint32(h, uint32(n))
	crc := crc32.Checksum(h[:4], castagnoli)
	for _, p := range parts {
		crc = crc32.Update(crc, castagnoli, p)
	}
	binary.LittleEndian.PutUint32(h[4:], crc)
	return h, recHeader + int64(n), nil
}

// Append writes one record whose payload is the concatenation of parts.
// On a write error it cuts the partial record off again; if that fails
// too, the log refuses further appends.
func (l *Log) Append(parts ...[]byte) error {
	h, n, err := recordHeader(parts)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if l.f == nil {
		return errors.New("wal: log closed")
	}
	werr := writeAll(l.f, h, parts)
	if werr == nil && l.opts.SyncInterval == 0 {
		werr = l.f.Sync()
	}
	if werr != nil {
		if terr := l.f.Truncate(l.size); terr != nil {
			l.err = fmt.Errorf("wal: a failed write (%v) could not be undone (%v): the log takes no more records", werr, terr)
		}
		return fmt.Errorf("wal: %w", werr)
	}
	l.size += n
	l.total += n
	l.dirty = l.opts.SyncInterval > 0
	return nil
}

func writeAll(w io.Writer, h []byte, parts [][]byte) error {
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// Rewrite replaces the whole log by the records write adds: they go to a
// new base segment, written to a temporary file, synced, renamed into
// place; then the older segments are deleted. If it fails before the
// rename, the log is as before.
func (l *Log) Rewrite(write func(add func(parts ...[]byte) error) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("wal: log closed")
	}
	n := l.seg + 1
	tmp := filepath.Join(l.dir, fmt.Sprintf("%016d%s", n, tmpSuffix))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	size := int64(headerSize)
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := w.Write(header(true)); err != nil {
		return fail(err)
	}
	err = write(func(parts ...[]byte) error {
		h, rn, err := recordHeader(parts)
		if err != nil {
			return err
		}
		size += rn
		return writeAll(w, h, parts)
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(l.dir, name(n))); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	// From here the new segment is the log.
	nf, err := os.OpenFile(filepath.Join(l.dir, name(n)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		l.err = fmt.Errorf("wal: reopening the new segment: %w", err)
		return l.err
	}
	old := l.f
	l.f, l.seg, l.size, l.total, l.dirty, l.err = nf, n, size, size, false, nil
	old.Close()
	segs, _, err := list(l.dir)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s < n {
			if err := os.Remove(filepath.Join(l.dir, name(s))); err != nil {
				return err
			}
		}
	}
	return syncDir(l.dir)
}

// writeSegment creates segment n, an empty base one, through a temporary
// file.
func writeSegment(dir string, n uint64) error {
	tmp := filepath.Join(dir, fmt.Sprintf("%016d%s", n, tmpSuffix))
	if err := writeFileSync(tmp, header(true)); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name(n))); err != nil {
		return err
	}
	return syncDir(dir)
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// Size returns the bytes in the log's segments.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Sync flushes what was appended to stable storage.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncLocked()
}

func (l *Log) syncLocked() error {
	if l.f == nil || !l.dirty {
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	l.dirty = false
	return nil
}

func (l *Log) syncLoop() {
	defer close(l.done)
	t := time.NewTicker(l.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.Sync()
		}
	}
}

// Close syncs and closes the log. It is safe to call more than once.
func (l *Log) Close() error {
	if l.stop != nil {
		l.once.Do(func() { close(l.stop) })
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.syncLocked()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if l.lock != nil {
		if uerr := l.lock.Unlock(); err == nil {
			err = uerr
		}
		l.lock = nil
	}
	return err
}
