// Package wal is an append-only log of checksummed records, kept in
// numbered segment files in one directory, that no single fault destroys:
// a record torn by a crash in the middle of its write, or damaged later, is
// found on the next Open, and costs only itself: the records after it that
// verify are replayed.
//
// Nothing is cut off in place: Open moves the unreadable parts of a
// segment aside, into a file named after it (0000000000000001.wal.corrupt)
// that it leaves for the user, before it removes them from the segment —
// by cutting a damaged end off, or by replacing the segment with a fresh
// copy of the records that verified. Each damaged part is reported
// (Report.Damage) with the records and items (what the writer counted in
// each record: the store's points) it cost, exactly where a record after it
// verifies.
//
// The format is versioned (format.go). Open reads segments of version 1
// (the format before this one, which a damaged record ended) without
// changing them, save for moving a damaged end aside, and appends to a new
// segment; a Rewrite converts the log. A segment of a newer version fails
// Open, which then leaves the directory as it was.
//
// A base segment starts the log afresh: Open replays the newest base
// segment and the segments after it, and deletes older ones. Rewrite writes
// a base segment (for compaction) into a temporary file, syncs it and
// renames it into place, so that a crash leaves either the old log or the
// new one, never a mix.
//
// Durability: Append writes the record before it returns, so a crash of the
// process loses nothing appended; what the operating system has not yet
// written to the disk is flushed with fsync by Sync, every
// Options.SyncInterval, or by every Append when the interval is 0. An
// operating-system crash or power loss may lose the records appended since
// the last sync. One Log per directory at a time (a lock file).
//
// It uses the standard library only.
package wal

import (
	"bufio"
	"errors"
	"fmt"
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
	suffix        = ".wal"
	tmpSuffix     = ".wal.tmp"
	corruptSuffix = ".corrupt"
)

// ErrTooLarge is returned by Append for a payload over MaxRecord.
var ErrTooLarge = errors.New("wal: record larger than MaxRecord")

// ErrLocked is matched (errors.Is) by Open's error when another Log holds
// the directory.
var ErrLocked = dirlock.ErrLocked

// Options configure a Log.
type Options struct {
	// SyncInterval is how often, at most, appended records are flushed to
	// stable storage with fsync; 0 syncs in every Append.
	SyncInterval time.Duration
}

// Damage describes an unreadable part of a segment that Open moved aside.
type Damage struct {
	Segment string // the segment's file name
	Offset  int64  // where the part started in it
	Bytes   int64  // its length
	Reason  string // what was found at Offset, e.g. "checksum mismatch", "torn record"
	// Records and Items are what the part cost: exact when Exact, else at
	// least that many (the end of a segment whose last record has an
	// unreadable header, or a segment without a readable header).
	Records int
	Items   int64
	Exact   bool
	MovedTo string // the file, beside the segments, that now holds its bytes
}

// Report says what Open found.
type Report struct {
	Segments int   // segments replayed
	Records  int   // records replayed
	Items    int64 // the items those records hold (format 2: as counted by Append)
	Bytes    int64 // bytes of the log after repairs
	Damage   []Damage
	Removed  int // superseded or empty segments and temporary files deleted
	Format1  int // segments of format version 1 replayed (a Rewrite converts them)
}

// Log is an open log. Its methods are safe for concurrent use.
type Log struct {
	dir   string
	opts  Options
	mu    sync.Mutex
	f     *os.File
	seg   uint64 // number of the segment appended to
	salt  uint32 // its salt's checksum state
	index uint64 // the next record's index in it
	items uint64 // the items of its records
	size  int64  // its size
	total int64  // bytes in all segments
	dirty bool   // appended since the last sync
	err   error  // a failed write that could not be undone: the log is read-only
	hbuf  []byte
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	lock  *dirlock.Lock // nil after Close
}

// Open opens the log in dir (creating dir and an empty log if needed),
// calls replay with the payload of each record that verifies, in order
// (replay must not keep payload: its buffer is reused), moves the
// unreadable parts aside (a record replay rejects with an error counts as
// unreadable) and returns the log, ready to append to. A failure to read
// the files or to move a part aside is an error, and so is a segment of a
// newer format version; damaged content is not, it is reported. The log
// locks dir until Close: a second Open of it, by this process or another,
// fails with an error matching ErrLocked that names the holder's pid.
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

// openLocked is Open once dir exists and is locked.
func openLocked(dir string, opts Options, replay func(payload []byte) error) (*Log, Report, error) {
	var rep Report
	nums, tmps, err := list(dir)
	if err != nil {
		return nil, rep, err
	}
	// Read every header first: a newer format leaves the directory as it is.
	segs := make([]segFile, len(nums))
	for i, n := range nums {
		if segs[i], err = classify(dir, n); err != nil {
			return nil, rep, err
		}
	}
	// Replay from the newest base segment: the temporary files and the
	// segments before it go.
	start := 0
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].base {
			start = i
			break
		}
	}
	stale := tmps
	for _, s := range segs[:start] {
		stale = append(stale, s.name)
	}
	if err := removeFiles(dir, stale, &rep); err != nil {
		return nil, rep, err
	}
	l := &Log{dir: dir, opts: opts}
	if err := l.replay(segs[start:], replay, &rep); err != nil {
		return nil, rep, err
	}
	if l.seg == 0 {
		// No segment of this format to append to: a new one, a base one
		// if the log is empty.
		last := uint64(0)
		if len(nums) > 0 {
			last = nums[len(nums)-1]
		}
		if err := l.newSegment(last+1, rep.Segments == 0); err != nil {
			return nil, rep, err
		}
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

// removeFiles deletes the files names of dir, counting them in rep.
func removeFiles(dir string, names []string, rep *Report) error {
	for _, n := range names {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			return err
		}
		rep.Removed++
	}
	return nil
}

// replay replays segs, in order, into replay, reporting in rep, and makes
// the last one of the current format the segment l appends to (none when
// the last one is of format 1). A segment never written is deleted.
func (l *Log) replay(segs []segFile, replay func(payload []byte) error, rep *Report) error {
	for _, s := range segs {
		if s.size == 0 { // created and never written: nothing to keep
			if err := removeFiles(l.dir, []string{s.name}, rep); err != nil {
				return err
			}
			continue
		}
		sc, err := replaySegment(l.dir, s, replay)
		if err != nil {
			return err
		}
		rep.Damage = append(rep.Damage, sc.damage...)
		if sc.removed {
			continue
		}
		rep.Segments++
		rep.Records += sc.records
		rep.Items += int64(sc.items)
		l.total += sc.size
		if s.format == '1' {
			rep.Format1++
			l.seg = 0 // appends never go to a segment of format 1
			continue
		}
		l.seg, l.size, l.salt, l.index, l.items = s.n, sc.size, saltCRC(s.hdr.salt), uint64(sc.records), sc.items
	}
	return nil
}

// newSegment creates segment n, holding only its header, through a
// temporary file (replaceFile), and makes it the one l appends to.
func (l *Log) newSegment(n uint64, base bool) error {
	h := segHeader{base: base, salt: newSalt()}
	if err := replaceFile(filepath.Join(l.dir, name(n)), func(f *os.File) error {
		_, err := f.Write(h.bytes())
		return err
	}); err != nil {
		return err
	}
	l.seg, l.size, l.salt = n, headerSize, saltCRC(h.salt)
	l.total += headerSize
	return nil
}

func name(n uint64) string { return fmt.Sprintf("%016d%s", n, suffix) }

// list returns the segment numbers in dir, ascending, and the temporary
// files left by an interrupted Rewrite or repair.
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

// Append writes one record whose payload is the concatenation of parts
// and which holds items items (what a reader is told a damaged record
// cost). On a write error it cuts the partial record off again; if that
// fails too, the log refuses further appends.
func (l *Log) Append(items int, parts ...[]byte) error {
	n, err := checkRecord(items, parts)
	if err != nil {
		return err
	}
	pcrc := payloadCRC(parts)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if l.f == nil {
		return errors.New("wal: log closed")
	}
	l.hbuf = appendRecHeader(l.hbuf[:0], l.salt, recHdr{length: uint32(n), index: l.index, items: l.items, count: uint32(items), pcrc: pcrc})
	werr := writeAll(l.f, l.hbuf, parts)
	if werr == nil && l.opts.SyncInterval == 0 {
		werr = l.f.Sync()
	}
	if werr != nil {
		if terr := l.f.Truncate(l.size); terr != nil {
			l.err = fmt.Errorf("wal: a failed write (%v) could not be undone (%v): the log takes no more records", werr, terr)
		}
		return fmt.Errorf("wal: %w", werr)
	}
	size := int64(recHeader + n)
	l.size += size
	l.total += size
	l.index++
	l.items += uint64(items)
	l.dirty = l.opts.SyncInterval > 0
	return nil
}

// checkRecord checks a record of items items whose payload is parts and
// returns the payload's length.
func checkRecord(items int, parts [][]byte) (int, error) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxRecord {
		return 0, ErrTooLarge
	}
	if items < 0 || uint64(items) > maxCount {
		return 0, fmt.Errorf("wal: a record of %d items: want 0 to %d", items, uint64(maxCount))
	}
	return n, nil
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

// Rewrite replaces the whole log by the records write adds (each with
// the items it holds): they go to a new base segment, written to a
// temporary file, synced, renamed into place; then the older segments are
// deleted. If it fails before the rename, the log is as before.
func (l *Log) Rewrite(write func(add func(items int, parts ...[]byte) error) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("wal: log closed")
	}
	n := l.seg + 1
	seg, err := writeBase(filepath.Join(l.dir, name(n)), write)
	if err != nil {
		return err
	}
	// From here the new segment is the log.
	nf, err := os.OpenFile(filepath.Join(l.dir, name(n)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		l.err = fmt.Errorf("wal: reopening the new segment: %w", err)
		return l.err
	}
	old := l.f
	l.f, l.seg, l.salt, l.index, l.items, l.size, l.total, l.dirty, l.err = nf, n, seg.salt, seg.index, seg.items, seg.size, seg.size, false, nil
	old.Close()
	return removeBefore(l.dir, n)
}

// written is what writeBase wrote: the segment's salt (its checksum
// state), its records and their items, its size.
type written struct {
	salt         uint32
	index, items uint64
	size         int64
}

// writeBase writes the base segment path, holding the records write adds,
// through a temporary file (replaceFile).
func writeBase(path string, write func(add func(items int, parts ...[]byte) error) error) (written, error) {
	var seg written
	err := replaceFile(path, func(f *os.File) (err error) {
		seg, err = writeRecords(f, write)
		return err
	})
	if err != nil {
		return written{}, err
	}
	return seg, nil
}

// writeRecords writes to f a base segment's header and the records write
// adds.
func writeRecords(f io.Writer, write func(add func(items int, parts ...[]byte) error) error) (written, error) {
	w := bufio.NewWriterSize(f, 1<<16)
	hdr := segHeader{base: true, salt: newSalt()}
	seg := written{salt: saltCRC(hdr.salt), size: headerSize}
	if _, err := w.Write(hdr.bytes()); err != nil {
		return seg, err
	}
	var hb []byte
	err := write(func(count int, parts ...[]byte) error {
		rn, err := checkRecord(count, parts)
		if err != nil {
			return err
		}
		hb = appendRecHeader(hb[:0], seg.salt, recHdr{length: uint32(rn), index: seg.index, items: seg.items, count: uint32(count), pcrc: payloadCRC(parts)})
		seg.index++
		seg.items += uint64(count)
		seg.size += int64(recHeader + rn)
		return writeAll(w, hb, parts)
	})
	if err != nil {
		return seg, err
	}
	return seg, w.Flush()
}

// removeBefore deletes the segments of dir numbered below n.
func removeBefore(dir string, n uint64) error {
	segs, _, err := list(dir)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s < n {
			if err := os.Remove(filepath.Join(dir, name(s))); err != nil {
				return err
			}
		}
	}
	return syncDir(dir)
}

// replaceFile writes path through a temporary file beside it: write
// fills it, then it is synced, renamed into place and the directory
// synced. If it fails before the rename, path is as it was and the
// temporary file is gone.
func replaceFile(path string, write func(f *os.File) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
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
