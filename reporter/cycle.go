package reporter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apptuit-go/apptuit"
)

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
	if err := r.sem.Acquire(ctx); err != nil {
		if !final {
			return fmt.Errorf("reporter: waiting for the report in progress: %w", context.Cause(ctx))
		}
		// Stop cancelled the report in progress, which returns soon; the
		// final report still has to run (if only to count what is dropped).
		r.sem.Take()
	}
	defer r.sem.Release()

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
		r.dropAtStop() // spool.go
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

// doReport makes one report; the caller holds r.sem. Collecting and
// sending overlap: the points kept from earlier reports are sent first,
// then every batch of this report as soon as it is complete, by a sender
// goroutine, while this one goes on collecting (see send.go).
func (r *Reporter) doReport(ctx context.Context) (stats, error) {
	ms := r.stamp(r.cfg.now()).UnixMilli()
	r.gen++
	var re reportErrors
	// The meta metrics describe the sends of earlier reports: they are read
	// before this report's sends begin, and sent last.
	mb := batcher{pts: r.metaPts[:0]}
	r.meta.collect(r, &mb, &re, ms, r.gen)
	r.metaPts = mb.pts

	// Points kept from earlier reports go first, in their order, merged
	// into full batches: after an outage, one Send per batchSize points
	// rather than one per batch of each report.
	s := r.startSender(ctx, r.retryBatches()) // spool.go
	b := &batcher{pts: r.points[:0], size: r.client.BatchSize(), out: s.in}
	func() {
		// The sender ends, and is waited for, even if a GaugeFunc or a
		// Source panics: it must not touch the retry buffer once this
		// report is over.
		defer func() {
			close(s.in)
			<-s.done
		}()
		if r.registry != nil {
			r.registry.collect(r, b, &re, ms, r.gen)
		}
		for _, src := range r.sources {
			src.collect(ctx, b, &re, ms, r.gen)
		}
		b.pts = append(b.pts, r.metaPts...)
		b.flush()
	}()
	st, verrs, sendErrs := s.wait()
	if r.spool != nil {
		sendErrs = r.spool.settle(&st, sendErrs) // spool.go
	}
	// Points past this report's (from a larger one before) would keep
	// series forgotten since alive.
	if len(b.pts) < len(r.points) { // then b.pts is r.points, shorter
		clear(r.points[len(b.pts):])
	}
	r.points = b.pts
	if cap(r.points) > 4*len(r.points)+4096 { // reports shrank (series removed): let the memory go
		r.points = nil
	}
	st.buffered = r.buf.len()
	errs := append(append(re.list(), verrs...), sendErrs...)
	return st, mergeErrors(errs, st)
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
			merged = &apptuit.SendError{StatusCode: se.StatusCode, Message: se.Message, Hint: se.Hint}
		}
		merged.Failed += se.Failed
		if merged.Message == "" {
			merged.Message = se.Message
		}
		if merged.Hint == "" {
			merged.Hint = se.Hint
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
