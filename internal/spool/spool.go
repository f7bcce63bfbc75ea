package spool

import (
	"cmp"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apptuit-go/apptuit/internal/dirlock"
)

// SyncPolicy says when the spool fsyncs what it writes (see Durability in
// the package documentation).
type SyncPolicy int

const (
	// SyncEveryAppend fsyncs the segment after every Append and the cursor
	// after every Ack. The default.
	SyncEveryAppend SyncPolicy = iota
	// SyncNever leaves write-back to the operating system: records survive
	// the death of the process but not power loss.
	SyncNever
)

func (p SyncPolicy) String() string {
	switch p {
	case SyncEveryAppend:
		return "SyncEveryAppend"
	case SyncNever:
		return "SyncNever"
	}
	return "SyncPolicy(" + strconv.Itoa(int(p)) + ")"
}

// Limits on Options.
const (
	MinBytes           = 64 << 10 // smallest MaxBytes
	MinSegmentBytes    = 4 << 10  // smallest SegmentBytes
	MaxSegmentBytes    = 64 << 20 // largest default SegmentBytes
	defaultSegmentFrac = 8        // default SegmentBytes: MaxBytes/8, within the bounds above
)

// Options configure Open.
type Options struct {
	// MaxBytes bounds the total size of the segment files (at least
	// MinBytes). Required.
	MaxBytes int64
	// SegmentBytes is the size at which a segment is closed and the next
	// one started: the unit in which the oldest data is dropped when the
	// spool is full. 0 means MaxBytes/8, at least MinSegmentBytes and at
	// most MaxSegmentBytes; otherwise it must be at least MinSegmentBytes
	// and at most MaxBytes/2.
	SegmentBytes int64
	// Sync is the fsync policy (default SyncEveryAppend).
	Sync SyncPolicy
}

// Errors returned by the spool's methods; match them with errors.Is.
var (
	ErrLocked   = dirlock.ErrLocked // "directory is in use by another process"
	ErrTooLarge = errors.New("spool: record too large")
	ErrClosed   = errors.New("spool: closed")
	ErrNotRead  = errors.New("spool: record not read since the last Ack or Rewind")
)

// Stats describe a spool; counters are since Open.
type Stats struct {
	Bytes    int64 // size of the segment files
	Segments int   // segment files
	Records  int64 // records not acknowledged (corrupt ones included until Next skips them)
	Points   int64 // points of the records not acknowledged

	DroppedSegments int64 // segments deleted by the size limit
	DroppedPoints   int64 // points not acknowledged in them

	CorruptRecords int64 // unreadable records (or runs of bytes) skipped by Next
	CorruptBytes   int64 // bytes skipped by Next
	CorruptPoints  int64 // points of skipped records whose header was intact

	CursorReset bool // the cursor file was unreadable at Open: reading started at the oldest record
}

// Record is one record read by Next.
type Record struct {
	Data   []byte // the payload given to Append; the caller may keep it
	Points int    // the points given to Append
	pos    position
	end    int64
}

type position struct {
	seq uint64
	off int64
}

func (a position) less(b position) bool {
	return a.seq < b.seq || a.seq == b.seq && a.off < b.off
}

type segment struct {
	seq     uint64
	path    string
	f       *os.File // nil until read or written
	r       *segReader
	size    int64
	records int64 // records not acknowledged
	points  int64 // their points
}

// pendingRec is a record Next returned that is not acknowledged yet.
type pendingRec struct {
	pos    position
	points int64
}

// Spool is a directory of segment files; see the package documentation.
type Spool struct {
	mu      sync.Mutex
	dir     string
	opt     Options
	lock    *dirlock.Lock
	segs    []*segment // oldest first
	active  *segment   // the segment this process appends to; nil until the first Append
	nextSeq uint64
	total   int64
	cur     position // after the last record acknowledged (durable)
	rd      position // where Next reads
	hw      position // furthest Next ever read: corruption before it is counted already
	pending []pendingRec
	fw      *flate.Writer
	buf     []byte
	stats   Stats
	closed  bool

	// write writes a record to the active segment; tests replace it to
	// simulate a process dying mid-write.
	write func(f *os.File, b []byte) (int, error)
}

// Open opens the spool in dir, creating the directory (mode 0700) if
// needed, and locks it: a second Open of dir before Close fails with
// ErrLocked. It deletes segments already acknowledged and reads the headers
// of the others (not their payloads), so it costs one read per 64 KiB of
// small records, or per record when records are larger.
func Open(dir string, opt Options) (*Spool, error) {
	if opt.MaxBytes < MinBytes {
		return nil, fmt.Errorf("spool: MaxBytes %d is below the minimum %d", opt.MaxBytes, MinBytes)
	}
	switch {
	case opt.SegmentBytes == 0:
		opt.SegmentBytes = min(max(opt.MaxBytes/defaultSegmentFrac, MinSegmentBytes), MaxSegmentBytes)
	case opt.SegmentBytes < MinSegmentBytes || opt.SegmentBytes > opt.MaxBytes/2:
		return nil, fmt.Errorf("spool: SegmentBytes %d is not within [%d, MaxBytes/2 = %d]", opt.SegmentBytes, MinSegmentBytes, opt.MaxBytes/2)
	}
	if opt.Sync != SyncEveryAppend && opt.Sync != SyncNever {
		return nil, fmt.Errorf("spool: unknown sync policy %d", int(opt.Sync))
	}
	if dir == "" {
		return nil, errors.New("spool: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lk, err := dirlock.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	fw, _ := flate.NewWriter(nil, flate.BestSpeed)
	s := &Spool{dir: dir, opt: opt, lock: lk, fw: fw, write: (*os.File).Write}
	if err := s.load(); err != nil {
		s.closeFiles()
		lk.Unlock()
		return nil, err
	}
	return s, nil
}

// load reads the cursor and the segments' headers.
func (s *Spool) load() error {
	cur, err := readCursor(s.dir)
	switch {
	case errors.Is(err, errCursorCorrupt):
		s.stats.CursorReset = true
	case err != nil:
		return err
	}
	s.cur = cur
	names, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	removed := false
	maxSeq := cur.seq
	for _, e := range names {
		seq, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		maxSeq = max(maxSeq, seq)
		path := filepath.Join(s.dir, e.Name())
		if seq < cur.seq {
			// Acknowledged; the process died before deleting it.
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			removed = true
			continue
		}
		s.segs = append(s.segs, &segment{seq: seq, path: path})
	}
	slices.SortFunc(s.segs, func(a, b *segment) int { return cmp.Compare(a.seq, b.seq) })
	s.nextSeq = maxSeq + 1
	kept := s.segs[:0]
	for _, seg := range s.segs {
		ok, err := s.scan(seg)
		if err != nil {
			return err
		}
		if !ok {
			removed = true
			continue
		}
		kept = append(kept, seg)
		s.total += seg.size
	}
	clear(s.segs[len(kept):])
	s.segs = kept
	if removed {
		if err := s.syncDir(); err != nil {
			return err
		}
	}
	s.rd, s.hw = s.cur, s.cur
	return nil
}

// scan opens seg and adds up the records and points after the cursor. It
// deletes (and returns false for) a segment shorter than its header (a
// process died as it created it) and one read to its end and acknowledged.
// A damaged header counts as corrupt; the records after it are still read.
func (s *Spool) scan(seg *segment) (bool, error) {
	f, err := os.Open(seg.path)
	if err != nil {
		return false, fmt.Errorf("spool: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return false, fmt.Errorf("spool: %w", err)
	}
	seg.f, seg.size = f, fi.Size()
	seg.r = newSegReader(f, seg.size)
	if err := seg.r.checkMagic(); err != nil && seg.size >= segmentHeader {
		// Damaged, but its records carry their own checksums: read them.
		s.stats.CorruptRecords++
		s.stats.CorruptBytes += segmentHeader
	} else if err != nil {
		// Shorter than its header: the process died as it created it.
		if seg.size > 0 {
			s.stats.CorruptRecords++
			s.stats.CorruptBytes += seg.size
		}
		f.Close()
		seg.f = nil
		if err := os.Remove(seg.path); err != nil {
			return false, fmt.Errorf("spool: %w", err)
		}
		return false, nil
	}
	off := segmentHeader
	if seg.seq == s.cur.seq {
		if s.cur.off >= seg.size {
			// Read to its end and acknowledged: the process died before
			// deleting it.
			f.Close()
			seg.f = nil
			if err := os.Remove(seg.path); err != nil {
				return false, fmt.Errorf("spool: %w", err)
			}
			return false, nil
		}
		off = max(off, s.cur.off)
	}
	for off < seg.size {
		h, next, bad := step(seg.r, off)
		if bad == nil {
			seg.records++
			seg.points += int64(h.points)
		} else if bad.points > 0 {
			seg.records++
			seg.points += bad.points
		}
		off = next
	}
	return true, nil
}

const segmentSuffix = ".seg"

func segmentName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, segmentSuffix) }

func parseSegmentName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(hex, 16, 64)
	return seq, err == nil
}

// Append adds a record holding payload (at most MaxRecordBytes), which
// carries points points, after every record appended before. When the
// spool would exceed its size limit, the oldest segments are deleted first;
// Append returns the points they held that were not acknowledged. With
// SyncEveryAppend it returns once the record is on disk. On a write error
// nothing of the record is kept (the segment is truncated back) and the
// next Append starts a new segment.
func (s *Spool) Append(payload []byte, points int) (dropped int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if len(payload) > MaxRecordBytes {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), MaxRecordBytes)
	}
	if points < 0 || int64(points) > 1<<32-1 {
		return 0, fmt.Errorf("spool: points %d out of range", points)
	}
	s.buf, err = appendRecord(s.buf[:0], s.fw, payload, uint32(points))
	if err != nil {
		return 0, fmt.Errorf("spool: compress: %w", err)
	}
	if dropped, err = s.makeRoom(int64(len(s.buf))); err != nil {
		return dropped, err
	}
	return dropped, s.writeRecord(points)
}

// makeRoom ends the active segment when a record of n bytes would take it
// past its size, and drops the oldest segments until the record (and a new
// segment's header) fits under the size limit. It returns the points the
// dropped segments held that were not acknowledged.
func (s *Spool) makeRoom(n int64) (dropped int64, err error) {
	if s.active != nil && s.active.size+n > s.opt.SegmentBytes && s.active.size > segmentHeader {
		s.active = nil // roll: the next segment starts in writeRecord
	}
	need := n
	if s.active == nil {
		need += segmentHeader
	}
	if need > s.opt.MaxBytes {
		return 0, fmt.Errorf("%w: %d bytes compressed, the spool holds at most %d", ErrTooLarge, n, s.opt.MaxBytes)
	}
	for s.total+need > s.opt.MaxBytes && len(s.segs) > 0 && s.segs[0] != s.active {
		d, err := s.dropOldest()
		dropped += d
		if err != nil {
			return dropped, err
		}
	}
	if s.total+need > s.opt.MaxBytes {
		return dropped, fmt.Errorf("%w: %d bytes compressed do not fit beside the segment being written", ErrTooLarge, n)
	}
	return dropped, nil
}

// writeRecord writes the record in s.buf, carrying points points, at the
// end of the active segment (starting one if there is none), synced with
// SyncEveryAppend. On an error nothing of the record is kept and the next
// record starts a new segment.
func (s *Spool) writeRecord(points int) error {
	if s.active == nil {
		if err := s.startSegment(); err != nil {
			return err
		}
	}
	seg := s.active
	w, err := s.write(seg.f, s.buf)
	if err == nil && w != len(s.buf) {
		err = io.ErrShortWrite
	}
	if err == nil && s.opt.Sync == SyncEveryAppend {
		err = seg.f.Sync()
	}
	if err != nil {
		// Leave no partial record behind for this process to read, and
		// append to this segment no more.
		if w > 0 {
			seg.f.Truncate(seg.size)
		}
		s.active = nil
		return fmt.Errorf("spool: write %s: %w", seg.path, err)
	}
	n := int64(len(s.buf))
	seg.size += n
	seg.records++
	seg.points += int64(points)
	s.total += n
	return nil
}

// startSegment creates the next segment file and makes it active.
func (s *Spool) startSegment() error {
	seq := s.nextSeq
	path := filepath.Join(s.dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.nextSeq++
	_, err = f.Write([]byte(segmentMagic))
	if err == nil && s.opt.Sync == SyncEveryAppend {
		err = f.Sync()
	}
	if err == nil {
		err = s.syncDir()
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("spool: new segment: %w", err)
	}
	seg := &segment{seq: seq, path: path, f: f, size: segmentHeader}
	seg.r = newSegReader(f, seg.size)
	s.segs = append(s.segs, seg)
	s.active = seg
	s.total += seg.size
	return nil
}

// dropOldest deletes the oldest segment, returning the points it held that
// were not acknowledged.
func (s *Spool) dropOldest() (int64, error) {
	seg := s.segs[0]
	s.segs[0] = nil
	s.segs = s.segs[1:]
	s.total -= seg.size
	s.stats.DroppedSegments++
	s.stats.DroppedPoints += seg.points
	s.pending = slices.DeleteFunc(s.pending, func(p pendingRec) bool { return p.pos.seq == seg.seq })
	if seg.f != nil {
		seg.f.Close()
	}
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return seg.points, fmt.Errorf("spool: drop %s: %w", seg.path, err)
	}
	return seg.points, s.syncDir()
}

// Next returns the oldest record not read since the last Ack or Rewind (at
// first, the oldest not acknowledged), skipping corrupt ones (see Stats), or
// io.EOF when there is none. An I/O error other than corruption is returned
// as is; Next may be called again.
func (s *Spool) Next() (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Record{}, ErrClosed
	}
	for {
		i, _ := s.segment(s.rd.seq)
		if i == len(s.segs) {
			return Record{}, io.EOF
		}
		seg := s.segs[i]
		if seg.seq != s.rd.seq || s.rd.off < segmentHeader {
			s.rd = position{seg.seq, segmentHeader}
		}
		if s.rd.off >= seg.size {
			if i == len(s.segs)-1 {
				return Record{}, io.EOF
			}
			s.rd = position{s.segs[i+1].seq, segmentHeader}
			continue
		}
		if err := s.openForRead(seg); err != nil {
			return Record{}, err
		}
		seg.r.size = seg.size
		at := s.rd
		h, next, bad := step(seg.r, at.off)
		if bad == nil {
			data, err := seg.r.payload(at.off, h)
			switch {
			case err == nil:
				s.rd.off = next
				if s.hw.less(s.rd) {
					s.hw = s.rd
				}
				s.pending = append(s.pending, pendingRec{pos: at, points: int64(h.points)})
				return Record{Data: data, Points: int(h.points), pos: at, end: next}, nil
			case errors.Is(err, errPayload) || errors.Is(err, errInflate):
				bad = &corruption{bytes: h.size(), points: int64(h.points), err: err}
			default:
				return Record{}, fmt.Errorf("spool: read %s: %w", seg.path, err)
			}
		}
		s.rd.off = next
		if !at.less(s.hw) {
			// First time past these bytes: count them.
			s.hw = s.rd
			s.stats.CorruptRecords++
			s.stats.CorruptBytes += bad.bytes
			s.stats.CorruptPoints += bad.points
			if bad.points > 0 {
				seg.records--
				seg.points -= bad.points
			}
			if len(s.pending) == 0 {
				if err := s.trim(); err != nil {
					return Record{}, err
				}
			}
		}
	}
}

// segment finds the segment seq, or where it would be.
func (s *Spool) segment(seq uint64) (int, bool) {
	return slices.BinarySearchFunc(s.segs, seq, func(g *segment, seq uint64) int { return cmp.Compare(g.seq, seq) })
}

func (s *Spool) openForRead(seg *segment) error {
	if seg.f != nil {
		return nil
	}
	f, err := os.Open(seg.path)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	seg.f = f
	seg.r = newSegReader(f, seg.size)
	return nil
}

// Ack marks r, and every record Next returned before it, as delivered:
// they are never read again, by this process or (once the cursor is on
// disk, which with SyncEveryAppend is when Ack returns) a later one.
// Segments left with nothing to read are deleted. r must have been
// returned by Next since the last Ack or Rewind (ErrNotRead otherwise),
// unless the size limit dropped its segment since, in which case Ack does
// nothing.
func (s *Spool) Ack(r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	k := slices.IndexFunc(s.pending, func(p pendingRec) bool { return p.pos == r.pos })
	if k < 0 {
		if _, found := s.segment(r.pos.seq); !found && r.pos.seq != 0 && r.pos.seq < s.nextSeq {
			return nil // its segment was dropped (or it was acknowledged before)
		}
		return ErrNotRead
	}
	for _, p := range s.pending[:k+1] {
		if i, found := s.segment(p.pos.seq); found {
			s.segs[i].records--
			s.segs[i].points -= p.points
		}
	}
	s.pending = slices.Delete(s.pending, 0, k+1)
	s.cur = position{r.pos.seq, r.end}
	if err := writeCursor(s.dir, s.cur, s.opt.Sync == SyncEveryAppend); err != nil {
		return err
	}
	return s.trim()
}

// trim deletes the oldest segments that hold nothing left to read: those
// before the cursor's, the cursor's once read to its end, and one whose
// records are all acknowledged and whose other bytes Next found corrupt (a
// torn tail), so that a later Open does not count them again.
func (s *Spool) trim() error {
	removed := false
	for len(s.segs) > 0 {
		seg := s.segs[0]
		done := seg.seq < s.cur.seq || seg.seq == s.cur.seq && s.cur.off >= seg.size
		garbage := seg != s.active && seg.records == 0 && (s.hw.seq > seg.seq || s.hw.seq == seg.seq && s.hw.off >= seg.size)
		if !done && !garbage {
			break
		}
		if seg == s.active {
			s.active = nil
		}
		if seg.f != nil {
			seg.f.Close()
		}
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool: %w", err)
		}
		removed = true
		s.total -= seg.size
		s.segs[0] = nil
		s.segs = s.segs[1:]
	}
	if removed {
		return s.syncDir()
	}
	return nil
}

// Rewind makes Next start again at the oldest record not acknowledged.
func (s *Spool) Rewind() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rd = s.cur
	s.pending = s.pending[:0]
}

// Stats returns the spool's figures.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Bytes = s.total
	st.Segments = len(s.segs)
	for _, seg := range s.segs {
		st.Records += seg.records
		st.Points += seg.points
	}
	return st
}

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Close closes the files and releases the lock. Records not acknowledged
// stay for the next Open. Later calls return nil.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.closeFiles()
	if uerr := s.lock.Unlock(); err == nil {
		err = uerr
	}
	return err
}

func (s *Spool) closeFiles() error {
	var first error
	for _, seg := range s.segs {
		if seg.f != nil {
			if err := seg.f.Close(); err != nil && first == nil {
				first = fmt.Errorf("spool: %w", err)
			}
			seg.f = nil
		}
	}
	s.active = nil
	return first
}

// syncDir fsyncs the directory, so that files created, renamed or removed
// stay so after power loss; it does nothing with SyncNever.
func (s *Spool) syncDir() error {
	if s.opt.Sync != SyncEveryAppend {
		return nil
	}
	return syncDir(s.dir)
}
