package reporter

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/spool"
)

// ErrSpoolLocked is matched (errors.Is) by the error New returns when the
// spool directory is in use by another Reporter, in this process or another.
var ErrSpoolLocked = spool.ErrLocked

// ErrSpoolCorrupt is matched (errors.Is) by the error given to the error
// handler when a report found unreadable records in the spool (a torn write
// after power loss or a crash, or damaged bytes): they are skipped, and
// their points, when known, counted as dropped.
var ErrSpoolCorrupt = errors.New("reporter: corrupt records skipped in the spool")

// MinSpoolBytes is the smallest size limit WithSpool accepts.
const MinSpoolBytes = spool.MinBytes

type spoolConfig struct {
	dir      string
	maxBytes int64
	noSync   bool
}

// WithSpool keeps the points that could not be delivered in files under
// dir (created with mode 0700 if needed) instead of the memory buffer, so
// that they survive the process: the next Reporter made with the same dir
// delivers them first, oldest first, before its own reports' points, in
// about half of each interval at most (see "Sending and failures" in the
// package documentation), with a few batches in memory whatever the spool
// holds. The files never add up to more than maxBytes (at least MinSpoolBytes); when
// the spool is full, the oldest data is dropped, a segment (maxBytes/8, at
// most 64 MiB) at a time, and its points counted in
// apptuit.reporter.send.dropped. WithBufferSize then bounds only the memory
// buffer that takes the batches the spool cannot (a disk error). See "Spool"
// in the package documentation for the guarantees and the costs.
//
// New fails if another Reporter (in any process) uses dir (ErrSpoolLocked);
// Stop closes the spool, leaving in it whatever could not be sent. A
// Reporter never stopped keeps dir locked until the process exits.
func WithSpool(dir string, maxBytes int64) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("reporter: WithSpool: empty directory")
		}
		if maxBytes < MinSpoolBytes {
			return fmt.Errorf("reporter: WithSpool: size limit %d is below the minimum %d bytes", maxBytes, int64(MinSpoolBytes))
		}
		c.spool.dir, c.spool.maxBytes = dir, maxBytes
		return nil
	}
}

// WithSpoolNoSync makes the spool leave writing to disk to the operating
// system instead of calling fsync after every batch it keeps and every
// batch delivered: points then survive the death of the process (even by
// SIGKILL) but not a crash of the machine or power loss, and cost no disk
// flush (a few milliseconds each on a busy disk). It has no effect without
// WithSpool.
func WithSpoolNoSync() Option {
	return func(c *config) error { c.spool.noSync = true; return nil }
}

// spoolStore is the retryStore of a reporter with a spool. Batches kept
// for retry are appended to the spool (or, when that fails, to a memory
// buffer). The batches a report sends first are read from the spool lazily,
// one at a time, by batches(), as the sender asks for them; each stays in
// the spool until the sender's finish (send.go) has its outcome: delivered
// acknowledges it at once, so that a report holds no more of the spool
// than the batches in flight, and a process that dies sends again no more
// than those. All its methods run on the report's goroutines, one at a
// time (the sender's, then the report's).
type spoolStore struct {
	r     *Reporter
	sp    *spool.Spool
	mem   *memoryBuffer // batches the spool could not take
	enc   seriesEncoder
	buf   []byte
	cache map[string]*apptuit.PreparedSeries // series decoded, by their encoding

	// Of the report in progress.
	failed  []*spoolTicket // batches read from the spool and not delivered, since the last acknowledgement, in order
	errs    []error
	dropped int
	seen    spool.Stats // the spool's figures at the last settle
}

// spoolTicket is one batch read from the spool: its points, and the last
// of the records it covers (without its payload: acknowledging it needs
// its position only).
type spoolTicket struct {
	last spool.Record
	pts  []apptuit.PreparedPoint
}

// openSpool opens the spool of r's config, if any, and makes it r's
// retry store.
func (r *Reporter) openSpool() error {
	cfg := r.cfg.spool
	if cfg.dir == "" {
		return nil
	}
	opt := spool.Options{MaxBytes: cfg.maxBytes}
	if cfg.noSync {
		opt.Sync = spool.SyncNever
	}
	sp, err := spool.Open(cfg.dir, opt)
	if err != nil {
		return fmt.Errorf("reporter: %w", err)
	}
	r.spool = &spoolStore{r: r, sp: sp, mem: newMemoryBuffer(r.cfg.bufferSize)}
	r.buf = r.spool
	return nil
}

// retryBatches returns the batches a report sends before its own points:
// the memory buffer's, merged into full batches, or those of the spool.
func (r *Reporter) retryBatches() iter.Seq[batch] {
	if r.spool != nil {
		return r.spool.batches()
	}
	n := r.buf.len()
	kept := coalesce(r.buf.take(), n, r.client.BatchSize())
	return func(yield func(batch) bool) {
		for _, b := range kept {
			if !yield(batch{pts: b, owned: true}) {
				return
			}
		}
	}
}

// dropAtStop counts as dropped what Stop's final report leaves in memory:
// the retry buffer, or the batches the spool could not take.
func (r *Reporter) dropAtStop() {
	buf := r.buf
	if r.spool != nil {
		buf = r.spool.mem
	}
	if n := buf.len(); n > 0 {
		r.dropped.Add(int64(n))
		buf.take()
	}
}

// add appends b to the spool, or to the memory buffer when the spool
// cannot take it; it returns the points dropped to make room.
func (s *spoolStore) add(b []apptuit.PreparedPoint) int {
	if len(b) == 0 {
		return 0
	}
	d, err := s.append(b)
	if err != nil {
		s.errs = append(s.errs, err)
		d += s.mem.add(b)
	}
	return d
}

func (s *spoolStore) append(b []apptuit.PreparedPoint) (int, error) {
	s.buf = s.enc.appendBatch(s.buf[:0], b)
	d, err := s.sp.Append(s.buf, len(b))
	if cap(s.buf) > 16<<20 {
		s.buf = nil
	}
	if err != nil {
		return int(d), fmt.Errorf("reporter: spool: %w (%d points kept in memory instead)", err, len(b))
	}
	return int(d), nil
}

// take returns the batches the memory buffer holds (the spool's are read
// by batches).
func (s *spoolStore) take() [][]apptuit.PreparedPoint { return s.mem.take() }

// len returns the points kept: in the spool and in memory.
func (s *spoolStore) len() int { return int(s.sp.Stats().Points) + s.mem.len() }

// batches yields, oldest first: the batches in memory (after trying to add
// them to the spool, behind what it holds), then the spool's, each of up
// to batchSize points (records merged), read one at a time as the sender
// asks for them.
func (s *spoolStore) batches() iter.Seq[batch] {
	return func(yield func(batch) bool) {
		if s.mem.len() > 0 {
			old := s.mem.take()
			for i, b := range old {
				d, err := s.append(b)
				s.dropped += d // the oldest segments, dropped to make room
				if err != nil {
					s.errs = append(s.errs, err)
					for _, rest := range old[i:] {
						s.dropped += s.mem.add(rest)
					}
					break
				}
			}
			n := s.mem.len()
			for _, b := range coalesce(s.mem.take(), n, s.r.client.BatchSize()) {
				if !yield(batch{pts: b, owned: true}) {
					return
				}
			}
		}
		var ahead *spool.Record // read, not in a batch yet
		for {
			t := &spoolTicket{}
			covered := false
			for len(t.pts) < s.r.client.BatchSize() {
				var rec spool.Record
				if ahead != nil {
					rec, ahead = *ahead, nil
				} else {
					var err error
					if rec, err = s.sp.Next(); err != nil {
						if !errors.Is(err, io.EOF) {
							s.errs = append(s.errs, fmt.Errorf("reporter: spool: %w", err))
						}
						break
					}
				}
				if len(t.pts) > 0 && len(t.pts)+rec.Points > s.r.client.BatchSize() {
					ahead = &rec
					break
				}
				if rec.Points > s.r.client.BatchSize() {
					// Kept by a client with a larger batch size: one
					// ticket would be several requests, acknowledged
					// together. Append it again in batches of this size,
					// and acknowledge the record in its turn.
					s.split(rec)
					rec.Data = nil
					t.last, covered = rec, true
					break
				}
				var err error
				if t.pts, err = s.decode(t.pts, rec); err != nil {
					// The checksums matched: a spool from another version,
					// or a bug. Give the record up.
					s.errs = append(s.errs, fmt.Errorf("reporter: spool: %d points given up: %w", rec.Points, err))
					s.dropped += rec.Points
				}
				rec.Data = nil
				t.last, covered = rec, true
			}
			if !covered {
				return
			}
			// A batch of no points (every record given up) is yielded too:
			// it is acknowledged in its turn.
			if !yield(batch{pts: t.pts, owned: true, ticket: t}) {
				return
			}
		}
	}
}

// split appends the points of rec again, in records of at most the
// client's batch size, at the end of the spool (or to the memory buffer
// when the spool cannot take them). Until rec is acknowledged a crash
// leaves both copies: sent twice, at least once.
func (s *spoolStore) split(rec spool.Record) {
	pts, err := s.decode(nil, rec)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("reporter: spool: %d points given up: %w", rec.Points, err))
		s.dropped += rec.Points
		return
	}
	for b := range slices.Chunk(pts, s.r.client.BatchSize()) {
		s.dropped += s.add(b)
	}
}

// decode appends the points of a record to dst, of series prepared with
// the reporter's client. Points of a series the client refuses now (its
// configuration changed since they were kept) are given up and reported.
func (s *spoolStore) decode(dst []apptuit.PreparedPoint, rec spool.Record) ([]apptuit.PreparedPoint, error) {
	if s.cache == nil || len(s.cache) >= maxEncodedSeries {
		s.cache = make(map[string]*apptuit.PreparedSeries)
	}
	dst, given, err := decodeBatch(dst, rec.Data, s.series)
	s.dropped += given
	return dst, err
}

// series returns the prepared series of a series table entry, preparing
// it the first time it is seen; nil when the client refuses it (reported
// once).
func (s *spoolStore) series(entry []byte) *apptuit.PreparedSeries {
	if ps, ok := s.cache[string(entry)]; ok {
		return ps
	}
	metric, tags, err := parseSeries(entry)
	var ps *apptuit.PreparedSeries
	if err == nil {
		ps, err = s.r.client.PrepareSeries(metric, tags)
	}
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("reporter: spool: points of %q given up: %w", metric, err))
	}
	s.cache[string(entry)] = ps
	return ps
}

// delivered acknowledges t, a batch read from the spool that the server
// accepted (or refused for good: it would be refused again), and every
// batch read before it, so that they are never read again, by this process
// or the next. Batches read before it that were not delivered (sends in
// flight together, the first failure stopping the sends) are appended to
// the spool again first, so that the acknowledgement does not lose them.
// The sender calls it as each batch ends, in order.
func (s *spoolStore) delivered(t *spoolTicket) {
	for _, f := range s.failed {
		d, err := s.append(f.pts)
		s.dropped += d
		if err != nil {
			s.errs = append(s.errs, err)
			s.dropped += s.mem.add(f.pts)
		}
	}
	clear(s.failed)
	s.failed = s.failed[:0]
	if err := s.sp.Ack(t.last); err != nil {
		s.errs = append(s.errs, fmt.Errorf("reporter: spool: %w (the batches delivered will be sent again)", err))
	}
}

// notDelivered notes that t, a batch read from the spool, was not
// delivered: it stays in the spool, to be read again by the next report
// unless a later batch is delivered first (see delivered).
func (s *spoolStore) notDelivered(t *spoolTicket) { s.failed = append(s.failed, t) }

// settle ends a report's use of the spool: the batches read and not
// acknowledged are read again by the next report. It counts the points the
// spool dropped or found corrupt, and returns errs with the spool's errors
// added.
func (s *spoolStore) settle(st *stats, errs []error) []error {
	clear(s.failed)
	s.failed = s.failed[:0]
	s.sp.Rewind()

	sst := s.sp.Stats()
	recs, bytes, pts := sst.CorruptRecords-s.seen.CorruptRecords, sst.CorruptBytes-s.seen.CorruptBytes, sst.CorruptPoints-s.seen.CorruptPoints
	s.seen = sst
	if recs > 0 {
		s.dropped += int(pts)
		s.errs = append(s.errs, fmt.Errorf("%w: %d records (%d bytes, %d points known lost)", ErrSpoolCorrupt, recs, bytes, pts))
	}
	st.dropped += s.dropped
	s.r.dropped.Add(int64(s.dropped))
	s.dropped = 0
	errs = append(errs, s.errs...)
	s.errs = nil
	return errs
}

// close closes the spool: what it holds stays for the next Reporter.
func (s *spoolStore) close() error { return s.sp.Close() }
