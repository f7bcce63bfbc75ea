package reporter

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// delivers them first, oldest first, before its own reports' points. The
// files never add up to more than maxBytes (at least MinSpoolBytes); when
// the spool is full, the oldest data is dropped, a segment (maxBytes/8, at
// most 64 MiB) at a time, and its points counted in
// apptuit.reporter.send.dropped. See "Spool" in the package documentation
// for the guarantees, the costs and the format.
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

// openSpool opens the spool of cfg, or returns nil when there is none.
func openSpool(cfg spoolConfig) (*spool.Spool, error) {
	if cfg.dir == "" {
		return nil, nil
	}
	opt := spool.Options{MaxBytes: cfg.maxBytes}
	if cfg.noSync {
		opt.Sync = spool.SyncNever
	}
	s, err := spool.Open(cfg.dir, opt)
	if err != nil {
		return nil, fmt.Errorf("reporter: %w", err)
	}
	return s, nil
}

// sendSpooled makes a report with a spool; the caller holds r.sem. The
// points in the spool go first, oldest first, in batches of up to
// batchSize points (records merged; each record is acknowledged, and so
// never sent again, once the send carrying it succeeded). The report's own
// points follow once the spool is empty; when it is not (the backend failed,
// or time ran out), they are added to it, behind what is there, so that
// order is kept. Points the memory buffer holds (a spool write failed
// earlier) are added to the spool first.
func (r *Reporter) sendSpooled(ctx context.Context, pts []apptuit.DataPoint, errs []error) (stats, error) {
	var st stats
	var sendErrs []error
	if r.buf.len() > 0 {
		old := r.buf.take()
		for i, b := range old {
			if err := r.spoolAppend(&st, b); err != nil {
				sendErrs = append(sendErrs, err)
				r.keep(&st, batchesOf(old[i:], true))
				break
			}
		}
	}
	drained, derr := r.drainSpool(ctx, &st, &errs)
	if derr != nil {
		sendErrs = append(sendErrs, derr)
	}
	if err := r.spoolCorruption(); err != nil {
		errs = append(errs, err)
	}
	var queue []batch
	for i := 0; i < len(pts); i += r.cfg.batchSize {
		queue = append(queue, batch{pts: pts[i:min(i+r.cfg.batchSize, len(pts))]})
	}
	for i := 0; i < len(queue); i++ {
		if !drained || ctx.Err() != nil {
			if drained {
				sendErrs = append(sendErrs, fmt.Errorf("reporter: %d batches not sent: %w", len(queue)-i, ctx.Err()))
			}
			if err := r.spoolKeep(&st, queue[i:]); err != nil {
				sendErrs = append(sendErrs, err)
			}
			break
		}
		n, ok, failed, err := r.sendBatch(ctx, &queue[i], &errs)
		st.total += n
		st.successful += ok
		st.failed += failed
		if err == nil {
			continue
		}
		sendErrs = append(sendErrs, err)
		if apptuit.IsRetryable(err) || ctx.Err() != nil {
			drained = false // keep this batch and the rest
			i--
		}
	}
	st.buffered = int(r.spool.Stats().Points) + r.buf.len()
	return st, mergeErrors(append(errs, sendErrs...), st)
}

// drainSpool sends what the spool holds, oldest first, until it is empty
// (true) or a send fails with an error worth retrying or ctx ends (false).
// It returns the error that stopped it, or a spool read error.
func (r *Reporter) drainSpool(ctx context.Context, st *stats, verrs *[]error) (bool, error) {
	defer r.spool.Rewind()
	var next *spool.Record // read ahead, not sent yet
	for {
		if ctx.Err() != nil {
			return false, fmt.Errorf("reporter: spooled points not sent: %w", ctx.Err())
		}
		var b batch
		var last spool.Record
		for len(b.pts) < r.cfg.batchSize {
			var rec spool.Record
			if next != nil {
				rec, next = *next, nil
			} else {
				var err error
				rec, err = r.spool.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return false, fmt.Errorf("reporter: spool: %w", err)
				}
			}
			pts, err := decodeBatch(rec.Data)
			if err != nil {
				// Only a bug or a spool from another version gets here:
				// the checksums matched. Give the record up.
				*verrs = append(*verrs, fmt.Errorf("reporter: spool: %d points given up: %w", rec.Points, err))
				r.dropped.Add(int64(rec.Points))
				st.dropped += rec.Points
				last = rec
				if len(b.pts) == 0 {
					if err := r.spool.Ack(rec); err != nil {
						return false, fmt.Errorf("reporter: spool: %w", err)
					}
				}
				continue
			}
			if len(b.pts) > 0 && len(b.pts)+len(pts) > r.cfg.batchSize {
				next = &rec
				break
			}
			if b.pts == nil {
				b.pts = pts
			} else {
				b.pts = append(b.pts, pts...)
			}
			last = rec
		}
		b.owned = true
		if len(b.pts) == 0 {
			return next == nil, nil
		}
		n, ok, failed, err := r.sendBatch(ctx, &b, verrs)
		st.total += n
		st.successful += ok
		st.failed += failed
		if err != nil && (apptuit.IsRetryable(err) || ctx.Err() != nil) {
			return false, err
		}
		// Delivered, or refused for good (a 400: it would be refused again).
		if aerr := r.spool.Ack(last); aerr != nil {
			return false, errors.Join(err, fmt.Errorf("reporter: spool: %w", aerr))
		}
		if err != nil {
			*verrs = append(*verrs, err)
		}
	}
}

// spoolKeep adds batches to the spool; on a spool error, they and the rest
// go to the memory buffer.
func (r *Reporter) spoolKeep(st *stats, batches []batch) error {
	for i, b := range batches {
		if err := r.spoolAppend(st, b.pts); err != nil {
			r.keep(st, batches[i:])
			return err
		}
	}
	return nil
}

// spoolAppend adds one batch to the spool, counting the points the size
// limit dropped.
func (r *Reporter) spoolAppend(st *stats, pts []apptuit.DataPoint) error {
	if len(pts) == 0 {
		return nil
	}
	r.spoolBuf = appendBatch(r.spoolBuf[:0], pts)
	d, err := r.spool.Append(r.spoolBuf, len(pts))
	if cap(r.spoolBuf) > 16<<20 {
		r.spoolBuf = nil
	}
	st.dropped += int(d)
	r.dropped.Add(d)
	if err != nil {
		return fmt.Errorf("reporter: spool: %w (the points are kept in memory)", err)
	}
	return nil
}

// spoolCorruption counts the points of corrupt records found since the
// last call as dropped and describes them.
func (r *Reporter) spoolCorruption() error {
	st := r.spool.Stats()
	recs, bytes, pts := st.CorruptRecords-r.spoolSeen.CorruptRecords, st.CorruptBytes-r.spoolSeen.CorruptBytes, st.CorruptPoints-r.spoolSeen.CorruptPoints
	r.spoolSeen = st
	if recs == 0 {
		return nil
	}
	r.dropped.Add(pts)
	return fmt.Errorf("%w: %d records (%d bytes, %d points known lost)", ErrSpoolCorrupt, recs, bytes, pts)
}

// batchesOf wraps point slices as batches.
func batchesOf(pts [][]apptuit.DataPoint, owned bool) []batch {
	out := make([]batch, len(pts))
	for i, p := range pts {
		out[i] = batch{pts: p, owned: owned}
	}
	return slices.Clip(out)
}
