package reporter

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/apptuit-go/apptuit"
	"github.com/apptuit-go/apptuit/internal/inflight"
)

// maxValidationRetries is how many invalid points one batch may lose to the
// client's validation before the whole batch is given up.
const maxValidationRetries = 8

// batcher takes the points of a report as they are collected and hands
// every complete batch of size points to the sender. Points are appended
// to pts, which is never modified below len(pts): a batch handed over is
// a slice of it that later appends leave alone (or copy elsewhere).
type batcher struct {
	pts  []apptuit.PreparedPoint
	from int // first point not handed over
	size int
	out  chan<- batch // nil: nothing is handed over
}

// check hands over the complete batches.
func (b *batcher) check() {
	for b.out != nil && len(b.pts)-b.from >= b.size {
		b.out <- batch{pts: b.pts[b.from : b.from+b.size : b.from+b.size]}
		b.from += b.size
	}
}

// flush hands over the complete batches and the rest.
func (b *batcher) flush() {
	b.check()
	if b.out != nil && len(b.pts) > b.from {
		b.out <- batch{pts: b.pts[b.from:len(b.pts):len(b.pts)]}
		b.from = len(b.pts)
	}
}

// batch is the points of one Send.
type batch struct {
	pts    []apptuit.PreparedPoint
	owned  bool         // pts is not part of r.points: the retry buffer may keep it as is
	kept   bool         // kept from an earlier report
	ticket *spoolTicket // read from the spool, where it stays until acknowledged (spool.go)
}

// sender sends the batches of one report on a goroutine of its own: first
// those kept from earlier reports (for about half the interval at most: see
// run), then those its in channel brings, in order, through an
// inflight.Window of the client's concurrency (the mechanism the client's
// own batches go through), so that while one batch
// is compressed another is on the wire; but when the report before failed
// to send (or there was none), the first send goes alone until one
// succeeds. Once a send fails with a retryable error, or ctx ends, it
// starts no more sends and keeps that batch and all later ones (those
// already in flight excepted) for the next report, in their order: during
// an outage, every report after the first makes one request.
//
// finish is called once per batch, in order, as soon as the batch and
// those before it are over, on the sender's goroutine: where a batch's
// outcome is accounted for, and where a batch read from the spool is
// acknowledged. The sender alone uses the retry buffer while it runs.
type sender struct {
	r    *Reporter
	ctx  context.Context
	in   chan batch
	done chan struct{}
	w    inflight.Window[*sendJob]

	st       stats
	verrs    []error // validation errors of the client
	sendErrs []error
	unsent   int   // batches kept because ctx ended
	ctxErr   error // ctx's error, once it stopped the sends
}

// senderQueue is how many batches collection may get ahead of sending
// before it waits.
const senderQueue = 64

// sendJob is one batch sent, and the outcome of the send.
type sendJob struct {
	b             batch
	n, ok, failed int
	verrs         []error
	err           error
	took          time.Duration
}

func (r *Reporter) startSender(ctx context.Context, kept iter.Seq[batch]) *sender {
	s := &sender{r: r, ctx: ctx, in: make(chan batch, senderQueue), done: make(chan struct{})}
	s.w = inflight.Window[*sendJob]{Limit: r.client.Concurrency(), Done: s.finish, Stop: s.stops}
	if !r.healthy {
		s.w.Limit = 1
	}
	go s.run(kept, keptUntil(ctx, r.cfg.interval))
	return s
}

// keptUntil returns until when the sends of batches kept from earlier
// reports may last in a report that begins now: half the interval, and no
// more than half the time ctx leaves. A backlog of any size then delays a
// report's own points by about that much at most; what is left of it
// waits for the next report.
func keptUntil(ctx context.Context, interval time.Duration) time.Time {
	now := time.Now()
	share := interval / 2
	if d, ok := ctx.Deadline(); ok {
		share = min(share, d.Sub(now)/2)
	}
	return now.Add(share)
}

// run sends the kept batches until one would end after until, judging by
// the last send of a kept batch (but at least one a report, so that a
// backlog always drains), then the report's own.
func (s *sender) run(kept iter.Seq[batch], until time.Time) {
	defer close(s.done)
	late := false // the kept batches' share of the report is spent
	started := 0
	for b := range kept {
		if !late && started > 0 && s.w.Room() && time.Now().Add(s.r.keptTook).After(until) {
			late = true
		}
		if late {
			if b.ticket != nil {
				break // the rest stays in the spool, for the next report
			}
			s.w.Wait() // the batches in flight come before b
			s.r.keep(&s.st, b)
			continue
		}
		b.kept = true
		started++
		s.add(b)
		if s.stopped() && b.ticket != nil {
			break // the rest stays in the spool; reading it would be wasted
		}
	}
	for b := range s.in {
		s.add(b)
	}
	s.w.Wait()
	// The next report starts at full concurrency when this one's sends
	// all succeeded or were refused (400) rather than failed.
	s.r.healthy = !s.stopped()
}

func (s *sender) stopped() bool { return s.w.Stopped() || s.ctxErr != nil }

// add sends b, or keeps it for the next report once the sends stopped.
func (s *sender) add(b batch) {
	if !s.stopped() {
		s.ctxErr = s.ctx.Err()
	}
	if s.ctxErr == nil && s.w.Add(func() *sendJob { return s.send(b) }) {
		return
	}
	s.w.Wait() // the batches in flight come before b
	if s.ctxErr != nil {
		s.unsent++
	}
	s.r.keep(&s.st, b)
}

func (s *sender) send(b batch) *sendJob {
	j := &sendJob{b: b}
	if len(b.pts) > 0 { // a batch of the spool may have none (spool.go)
		start := time.Now()
		j.n, j.ok, j.failed, j.err = s.r.sendBatch(s.ctx, &j.b, &j.verrs)
		j.took = time.Since(start)
	}
	return j
}

// stops reports whether j's failure stops the sends: the backend is down or
// slow, or the report is out of time.
func (s *sender) stops(j *sendJob) bool {
	return j.err != nil && (apptuit.IsRetryable(j.err) || s.ctx.Err() != nil)
}

// finish accounts for a batch that was sent, keeping it when it failed
// with a retryable error (or ctx ended).
func (s *sender) finish(j *sendJob) {
	s.st.total += j.n
	s.st.successful += j.ok
	s.st.failed += j.failed
	s.verrs = append(s.verrs, j.verrs...)
	if j.b.kept && j.took > 0 {
		s.r.keptTook = j.took
	}
	switch {
	case j.err == nil:
		s.w.Limit = s.r.client.Concurrency()
	case s.stops(j):
		// Keep this batch and the rest for the next report rather than
		// spend this one's time on them.
		s.sendErrs = append(s.sendErrs, j.err)
		s.r.keep(&s.st, j.b)
		return
	default:
		s.sendErrs = append(s.sendErrs, j.err)
	}
	if j.b.ticket != nil {
		// Delivered, or refused for good: acknowledged in the spool now,
		// not when the report ends.
		s.r.spool.delivered(j.b.ticket)
	}
}

// wait waits for the sender to end and returns what it did: its stats,
// the client's validation errors and the errors of sends.
func (s *sender) wait() (stats, []error, []error) {
	<-s.done
	if s.unsent > 0 {
		s.sendErrs = append(s.sendErrs, fmt.Errorf("reporter: %d batches not sent: %w", s.unsent, s.ctxErr))
	}
	return s.st, s.verrs, s.sendErrs
}

// coalesce merges batches, in order, into batches of size points (the last
// may be shorter). n is the number of points in batches. Batches already
// full are reused as they are.
func coalesce(batches [][]apptuit.PreparedPoint, n, size int) [][]apptuit.PreparedPoint {
	if len(batches) < 2 {
		return batches
	}
	out := make([][]apptuit.PreparedPoint, 0, (n+size-1)/size)
	var cur []apptuit.PreparedPoint
	for _, b := range batches {
		for len(b) > 0 {
			if cur == nil && len(b) >= size {
				out = append(out, b[:size:size])
				b = b[size:]
				n -= size
				continue
			}
			if cur == nil {
				cur = make([]apptuit.PreparedPoint, 0, min(size, n))
			}
			k := min(size-len(cur), len(b))
			cur = append(cur, b[:k]...)
			b = b[k:]
			n -= k
			if len(cur) == size {
				out = append(out, cur)
				cur = nil
			}
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// keep puts b in the retry buffer, copying it when it is part of r.points.
func (r *Reporter) keep(st *stats, b batch) {
	if b.ticket != nil {
		// Still in the spool. b.pts may have lost points the client's
		// validation refused (sendBatch deletes them in place, in the
		// ticket's array): should the batch be appended to the spool
		// again (spoolStore.delivered), it is b.pts that goes.
		b.ticket.pts = b.pts
		r.spool.notDelivered(b.ticket)
		return
	}
	if !b.owned {
		b.pts = slices.Clone(b.pts)
	}
	d := r.buf.add(b.pts)
	st.dropped += d
	r.dropped.Add(int64(d))
}

// sendBatch sends b, leaving out of it (up to a few) points the client's
// validation refuses: b is left without them, so that a batch kept for
// retry is not validated again. It returns the points sent, accepted and
// failed, and the error of the send; validation errors are appended to
// verrs. A point left out counts in the total and failed meta metrics once.
func (r *Reporter) sendBatch(ctx context.Context, b *batch, verrs *[]error) (total, ok, failed int, err error) {
	for removed := 0; ; removed++ {
		start := time.Now()
		err = r.client.SendPrepared(ctx, b.pts)
		var ve *apptuit.ValidationError
		if errors.As(err, &ve) {
			*verrs = append(*verrs, err)
			if ve.Index < 0 || ve.Index >= len(b.pts) || removed >= maxValidationRetries {
				// Give up the whole batch: none of it was sent.
				n := len(b.pts)
				r.total.Add(int64(n))
				r.failed.Add(int64(n))
				b.pts = nil
				return total + n, ok, failed + n, nil
			}
			r.total.Inc()
			r.failed.Inc()
			total++
			failed++
			if !b.owned {
				b.pts, b.owned = slices.Clone(b.pts), true
			}
			b.pts = slices.Delete(b.pts, ve.Index, ve.Index+1)
			continue
		}
		r.sendTime.UpdateSince(start)
		n := len(b.pts)
		r.total.Add(int64(n))
		total += n
		if err == nil {
			r.successful.Add(int64(n))
			return total, ok + n, failed, nil
		}
		var se *apptuit.SendError
		if errors.As(err, &se) && !se.Retryable() {
			r.successful.Add(int64(se.Success))
			r.failed.Add(int64(se.Failed))
			return total, ok + se.Success, failed + se.Failed, err
		}
		r.failed.Add(int64(n))
		return total, ok, failed + n, err
	}
}
