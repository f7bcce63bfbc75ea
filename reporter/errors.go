package reporter

import (
	"errors"
	"fmt"

	"github.com/apptuit-go/apptuit"
)

// MetricError reports a metric or a series left out of reports because the
// client would refuse its points: a name or tag key outside Apptuit's rule
// (after the client's sanitizer), an empty tag value, no tags or too many.
// It unwraps to an *apptuit.ValidationError (whose Index and Point are -1).
// A report gives the error handler one MetricError per such metric or
// series (for a source, however many points it emitted for it), up to
// maxMetricErrors, then one error counting the rest.
type MetricError struct {
	Metric string // the name of its (first) point, with the prefix, e.g. "cpu.count"
	Err    error
}

func (e *MetricError) Error() string {
	var ve *apptuit.ValidationError
	if errors.As(e.Err, &ve) {
		return fmt.Sprintf("reporter: metric %q not sent: %s", e.Metric, ve.Rule)
	}
	return fmt.Sprintf("reporter: metric %q not sent: %v", e.Metric, e.Err)
}

func (e *MetricError) Unwrap() error { return e.Err }

// maxMetricErrors caps the MetricErrors one report hands to the error
// handler; the rest are counted in one error.
const maxMetricErrors = 100

// SourceError is the error a Source's Collect returned, as the error
// handler gets it: Index is the source's position among the WithSource
// options (from 0) and Source the source itself, so a handler can tell
// which failed (errors.As). The points the source emitted before it
// returned were sent.
type SourceError struct {
	Index  int
	Source Source
	Err    error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("reporter: source %d (%s): %v", e.Index, describe(e.Source), e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }

// describe names a source: its String method's result, else its type.
func describe(s Source) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s)
}

// reportErrors collects the errors of one report's collection.
type reportErrors struct {
	errs    []error
	nMetric int // MetricErrors seen, kept or not
}

// metric adds the error of a metric or series (a *MetricError, a
// *metrics.LimitError or *metrics.ValuesError), or counts it once
// maxMetricErrors are kept.
func (e *reportErrors) metric(err error) {
	if e.nMetric < maxMetricErrors {
		e.errs = append(e.errs, err)
	}
	e.nMetric++
}

// list returns the errors, with one counting the MetricErrors left out.
func (e *reportErrors) list() []error {
	if n := e.nMetric - maxMetricErrors; n > 0 {
		return append(e.errs, fmt.Errorf("reporter: %d more metrics not sent (their errors are left out)", n))
	}
	return e.errs
}
