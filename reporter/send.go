package reporter

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/apptuit-go/apptuit"
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
	ticket *spoolTicket // read from the spool, where it stays until acknowledged (spool.go)
}

// sender sends the batches of one report on a goroutine of its own: first
// those kept from earlier reports, then those its in channel brings, in
// order. Up to the client's concurrency (WithConcurrency, default 2) are in
// flight, so that while one batch is compressed another is on the wire;
// but when the report before failed to send (or there was none), the first
// send goes alone until it succeeds. After a send fails with a retryable
// error, or once ctx ends, it starts no more sends and keeps that batch and
// all later ones (those already in flight excepted) for the next report, in
// their order: during an outage, every report after the first makes one
// request. It alone uses the retry buffer while it runs.
type sender struct {
	in   chan batch
	done chan struct{}

	st       stats
	verrs    []error // validation errors of the client
	sendErrs []error
	unsent   int // batches kept because ctx ended
	ctxErr   error
}

// senderQueue is how many batches collection may get ahead of sending
// before it waits.
const senderQueue = 64

// sendJob is one batch in the sender's queue: being sent, or to be kept.
type sendJob struct {
	b    batch
	send bool          // false: kept without sending
	done chan struct{} // closed when the send is over
	// The outcome of the send.
	n, ok, failed int
	verrs         []error
	err           error
}

func (r *Reporter) startSender(ctx context.Context, kept iter.Seq[batch]) *sender {
	s := &sender{in: make(chan batch, senderQueue), done: make(chan struct{})}
	window := 1
	if r.healthy {
		window = max(1, r.client.Concurrency())
	}
	go func() {
		defer close(s.done)
		var queue []*sendJob // in order; the sends among them are in flight
		inFlight, stopped := 0, false
		// The next report starts at full concurrency when this one's sends
		// all succeeded or were refused (400) rather than failed.
		defer func() { r.healthy = !stopped }()
		// finish waits for the oldest job and accounts for it.
		finish := func() {
			j := queue[0]
			queue[0] = nil
			queue = queue[1:]
			if !j.send {
				r.keep(&s.st, j.b)
				return
			}
			<-j.done
			inFlight--
			s.st.total += j.n
			s.st.successful += j.ok
			s.st.failed += j.failed
			s.verrs = append(s.verrs, j.verrs...)
			switch {
			case j.err == nil:
				window = max(1, r.client.Concurrency())
			case apptuit.IsRetryable(j.err) || ctx.Err() != nil:
				// The backend is down or slow: keep this batch and the rest
				// for the next report rather than spend this one's time on
				// them.
				s.sendErrs = append(s.sendErrs, j.err)
				stopped = true
				r.keep(&s.st, j.b)
			default:
				s.sendErrs = append(s.sendErrs, j.err)
			}
		}
		add := func(b batch) {
			for inFlight >= window && !stopped {
				finish()
			}
			if !stopped {
				if err := ctx.Err(); err != nil {
					s.ctxErr, stopped = err, true
				}
			}
			j := &sendJob{b: b, send: !stopped}
			if stopped && s.ctxErr != nil {
				s.unsent++
			}
			queue = append(queue, j)
			if j.send {
				inFlight++
				j.done = make(chan struct{})
				go func() {
					defer close(j.done)
					j.n, j.ok, j.failed, j.err = r.sendBatch(ctx, &j.b, &j.verrs)
				}()
			}
		}
		for b := range kept {
			add(b)
			if stopped && b.ticket != nil {
				break // the rest stays in the spool; reading it would be wasted
			}
		}
		for b := range s.in {
			add(b)
		}
		for len(queue) > 0 {
			finish()
		}
	}()
	return s
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
		b.ticket.retry = true // still in the spool
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
