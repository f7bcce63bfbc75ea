package reporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apptuit-go/apptuit"
)

// maxValidationRetries is how many invalid points one batch may lose to the
// client's validation before the whole batch is given up.
const maxValidationRetries = 8

// errStopping is the cause of the cancellation of a report that Stop
// interrupted.
var errStopping = errors.New("reporter: stopping")

// maxPointErrors caps the point errors kept in a merged *apptuit.SendError.
const maxPointErrors = 100

// stats describes one report, for the default error handler.
type stats struct {
	total, successful, failed, buffered, dropped int
}

// report makes one report and hands its error to the error handler. The
// final report (Stop's) is the only one made after Stop began; it then
// counts the points still kept for retry as dropped.
func (r *Reporter) report(ctx context.Context, final bool) error {
	if !r.acquire(ctx) {
		if !final {
			return fmt.Errorf("reporter: waiting for the report in progress: %w", context.Cause(ctx))
		}
		// Stop cancelled the report in progress, which returns soon; the
		// final report still has to run (if only to count what is dropped).
		r.sem <- struct{}{}
	}
	defer func() { <-r.sem }()

	r.state.Lock()
	if r.stopped && !final {
		r.state.Unlock()
		return ErrStopped
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if !final { // Stop bounds its own report by its ctx
		r.cancelActive = func() { cancel(errStopping) }
	}
	r.state.Unlock()

	st, err := r.doReport(ctx)
	r.state.Lock()
	r.cancelActive = nil
	r.state.Unlock()
	if err != nil && context.Cause(ctx) == errStopping {
		// Stop cancelled this report; its unsent points are kept for the
		// final report, which accounts for them, so the handler is not
		// told.
		return fmt.Errorf("%w: the report in progress was cancelled, its unsent points left to the final report: %w", ErrStopped, err)
	}
	if final {
		if n := r.buf.len(); n > 0 {
			r.dropped.Add(int64(n))
			r.buf.take()
		}
	}
	if err != nil {
		switch {
		case !r.cfg.handlerSet:
			writeErrorLine(r.cfg.errWriter, err, st)
		case r.cfg.handler != nil:
			r.cfg.handler(err)
		}
	}
	return err
}

// acquire takes r.sem, unless ctx ends first.
func (r *Reporter) acquire(ctx context.Context) bool {
	select {
	case r.sem <- struct{}{}:
		return true
	default:
	}
	select {
	case r.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// doReport makes one report; the caller holds r.sem.
func (r *Reporter) doReport(ctx context.Context) (stats, error) {
	ts := r.stamp(r.cfg.now())
	var errs []error
	pts := r.points[:0]
	pts, errs = r.collectRegistry(pts, errs, r.registry, ts)
	if r.runtime != nil {
		pts, errs = r.collectRuntime(pts, errs, ts)
	}
	pts, errs = r.collectRegistry(pts, errs, r.meta, ts)
	r.points = pts
	if r.spool != nil {
		return r.sendSpooled(ctx, pts, errs) // spool.go
	}

	// Points kept from earlier reports go first, in their order, merged
	// into full batches: after an outage, one Send per batchSize points
	// rather than one per batch of each report.
	var queue []batch
	nbuf := r.buf.len()
	for _, b := range coalesce(r.buf.take(), nbuf, r.cfg.batchSize) {
		queue = append(queue, batch{pts: b, owned: true})
	}
	for i := 0; i < len(pts); i += r.cfg.batchSize {
		queue = append(queue, batch{pts: pts[i:min(i+r.cfg.batchSize, len(pts))]})
	}
	var st stats
	var sendErrs []error
	for i := range queue {
		if ctx.Err() != nil {
			sendErrs = append(sendErrs, fmt.Errorf("reporter: %d batches not sent: %w", len(queue)-i, ctx.Err()))
			r.keep(&st, queue[i:])
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
			// The backend is down or slow: keep this batch and the rest for
			// the next report rather than spend this one's time on them.
			r.keep(&st, queue[i:])
			break
		}
	}
	st.buffered = r.buf.len()
	return st, mergeErrors(append(errs, sendErrs...), st)
}

// stamp returns the timestamp of a report made at now: now truncated to the
// second when the interval is 1 s or more, to the millisecond when it is
// shorter, unless that is not after the previous report's, in which case it
// is one unit (1 s or 1 ms) after it. A backend keeps one value per series
// and timestamp, so a report sharing the previous one's timestamp (Stop's
// final report, ReportNow) would overwrite it. Timestamps run ahead of the
// clock only while reports come faster than one per unit (bursts of
// ReportNow), by one unit per extra report, and fall back as time passes.
func (r *Reporter) stamp(now time.Time) time.Time {
	unit := time.Second
	if r.cfg.interval < time.Second {
		unit = time.Millisecond
	}
	ts := now.Truncate(unit)
	if !ts.After(r.lastTS) {
		ts = r.lastTS.Add(unit)
	}
	r.lastTS = ts
	return ts
}

// coalesce merges batches, in order, into batches of size points (the last
// may be shorter). n is the number of points in batches. Batches already
// full are reused as they are.
func coalesce(batches [][]apptuit.DataPoint, n, size int) [][]apptuit.DataPoint {
	if len(batches) < 2 {
		return batches
	}
	out := make([][]apptuit.DataPoint, 0, (n+size-1)/size)
	var cur []apptuit.DataPoint
	for _, b := range batches {
		for len(b) > 0 {
			if cur == nil && len(b) >= size {
				out = append(out, b[:size:size])
				b = b[size:]
				n -= size
				continue
			}
			if cur == nil {
				cur = make([]apptuit.DataPoint, 0, min(size, n))
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

// batch is the points of one Send.
type batch struct {
	pts   []apptuit.DataPoint
	owned bool // pts is not part of r.points: the retry buffer may keep it as is
}

// keep puts batches back in the retry buffer, copying those that are part
// of r.points.
func (r *Reporter) keep(st *stats, batches []batch) {
	for _, b := range batches {
		if !b.owned {
			b.pts = slices.Clone(b.pts)
		}
		d := r.buf.add(b.pts)
		st.dropped += d
		r.dropped.Add(int64(d))
	}
}

// sendBatch sends b, leaving out of it (up to a few) points the client's
// validation refuses: b is left without them, so that a batch kept for
// retry is not validated again. It returns the points sent, accepted and
// failed, and the error of the send; validation errors are appended to
// verrs. A point left out counts in the total and failed meta metrics once.
func (r *Reporter) sendBatch(ctx context.Context, b *batch, verrs *[]error) (total, ok, failed int, err error) {
	for removed := 0; ; removed++ {
		start := time.Now()
		err = r.client.Send(ctx, b.pts)
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

// mergeErrors turns the errors of a report into the one given to the error
// handler: a single *apptuit.SendError when every error is one, else the
// error itself or the errors joined.
func mergeErrors(errs []error, st stats) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		var se *apptuit.SendError
		if errors.As(errs[0], &se) {
			break
		}
		return errs[0]
	}
	var merged *apptuit.SendError
	for _, err := range errs {
		var se *apptuit.SendError
		if !errors.As(err, &se) {
			return errors.Join(errs...)
		}
		if merged == nil {
			merged = &apptuit.SendError{StatusCode: se.StatusCode, Message: se.Message}
		}
		merged.Failed += se.Failed
		if merged.Message == "" {
			merged.Message = se.Message
		}
		for _, pe := range se.Errors {
			if len(merged.Errors) < maxPointErrors {
				merged.Errors = append(merged.Errors, pe)
			}
		}
	}
	merged.Success = st.successful
	return merged
}

// writeErrorLine is the default error handler: one line per failed report,
// in the spirit of apptuit-py's default_error_handler.
func writeErrorLine(w io.Writer, err error, st stats) {
	status := "none"
	var se *apptuit.SendError
	var he *apptuit.HTTPError
	switch {
	case errors.As(err, &se):
		status = strconv.Itoa(se.StatusCode)
	case errors.As(err, &he):
		status = strconv.Itoa(he.StatusCode)
	}
	msgs := errorMessages(err)
	more := ""
	if len(msgs) > 3 {
		more = fmt.Sprintf(" (and %d more)", len(msgs)-3)
		msgs = msgs[:3]
	}
	fmt.Fprintf(w, "apptuit reporter: %d points out of %d had errors: HTTP status %s, %d successful, %d failed, %d kept for retry, %d dropped: %s%s\n",
		st.failed, st.total, status, st.successful, st.failed, st.buffered, st.dropped, strings.Join(msgs, "; "), more)
}

// errorMessages lists the messages of err on one line each: a SendError's
// point errors, a joined error's parts.
func errorMessages(err error) []string {
	oneLine := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if se, ok := err.(*apptuit.SendError); ok {
		var out []string
		for _, pe := range se.Errors {
			out = append(out, oneLine(pe.Datapoint.String()+": "+pe.Message))
		}
		if len(out) == 0 {
			out = append(out, oneLine(se.Error()))
		}
		return out
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, errorMessages(e)...)
		}
		return out
	}
	return []string{oneLine(err.Error())}
}
