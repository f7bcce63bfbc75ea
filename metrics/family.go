package metrics

import (
	"fmt"
	"strings"

	"github.com/apptuit-go/apptuit/internal/metricname"
)

// DefaultSeriesLimit is the series limit of a metric unless WithSeriesLimit
// or a vector's SetSeriesLimit says otherwise.
const DefaultSeriesLimit = 2000

// OverflowTag is the tag of the series that takes the updates of a metric's
// series beyond its limit: name{"overflow": "true"}.
const OverflowTag = "overflow"

// WithSeriesLimit sets how many series (sets of tags) each metric name may
// have in the registry (default DefaultSeriesLimit); n ≤ 0 means no limit.
// A metric without tags is one series and never limited. Past the limit, a
// getter or a vector's With asked for a new set of tags returns the
// metric's overflow series instead, tagged overflow=true alone, so that
// sums and counts over the metric stay right while its memory stays
// bounded; the series registered before keep their own. Each metric that
// overflowed during an interval gives one *LimitError (see EndInterval).
func WithSeriesLimit(n int) Option {
	return func(r *Registry) {
		r.limit = -1
		if n > 0 {
			r.limit = n
		}
	}
}

// limitOption is how a LimitError of the registry names the setting.
const limitOption = "metrics.WithSeriesLimit, or a vector's SetSeriesLimit"

// LimitError reports that a metric reached its series limit during an
// interval: Overflowed lookups of new sets of tags (through a getter or a
// vector's With; for a reporter's source, points of new series) went to
// its overflow series instead of series of their own. Option names the
// setting that raises the limit.
type LimitError struct {
	Metric     string
	Limit      int
	Overflowed int64
	Option     string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("metrics: %s reached its limit of %d series: %d more went to its series tagged %s=true (raise the limit with %s)",
		e.Metric, e.Limit, e.Overflowed, OverflowTag, e.Option)
}

// ValuesError reports calls of a vector's With with the wrong number of
// tag values during an interval: their updates went to a metric that is
// not reported.
type ValuesError struct {
	Metric string
	Keys   []string
	Got    int   // values given (in the last such call)
	Calls  int64 // such calls in the interval
}

func (e *ValuesError) Error() string {
	return fmt.Sprintf("metrics: %s: %d calls of With with %d tag values, want %d (%s): their updates were not recorded",
		e.Metric, e.Calls, e.Got, len(e.Keys), strings.Join(e.Keys, ", "))
}

// family is what the registry knows of a metric name that has series with
// tags: its kind (every series of a name is of one kind), its series limit
// and the series it counts against it. It is guarded by the registry's
// lock.
type family struct {
	name     string
	kind     kind
	limit    int         // 0: none
	n        int         // series with tags, the overflow series not counted
	vecs     []*vecIndex // of its vectors: it lives as long as they may
	overflow *entry

	overflowed, reported int64 // lookups sent to overflow: in all, and at the last EndInterval
	bad                  *ValuesError
}

// SeriesLimit returns the series limit a metric of the registry gets
// (WithSeriesLimit): DefaultSeriesLimit unless set, 0 for none.
func (r *Registry) SeriesLimit() int { return r.seriesLimit() }

// seriesLimit is the limit of a new family.
func (r *Registry) seriesLimit() int {
	switch r.limit {
	case 0:
		return DefaultSeriesLimit
	case -1:
		return 0
	}
	return r.limit
}

// familyLocked returns the family of name, making it if needed (as kind k),
// or an error if name is registered as another kind. r.mu must be held.
func (r *Registry) familyLocked(name string, k kind) (*family, error) {
	f := r.fams[name]
	if f == nil {
		// A name's series without tags is its only other series.
		var buf [128]byte
		if e := r.idx.get(append(append(buf[:0], name...), "{}"...)); e != nil && kindOf(e.metric) != k {
			return nil, wrongKind(e.key, kindOf(e.metric), k)
		}
		if r.fams == nil {
			r.fams = make(map[string]*family)
		}
		f = &family{name: name, kind: k, limit: r.seriesLimit()}
		r.fams[name] = f
	}
	if f.kind != k {
		return nil, wrongKind(name, f.kind, k)
	}
	return f, nil
}

// dropIfUnused forgets f once it has no series and no vector.
func (r *Registry) dropIfUnused(f *family) {
	if f.n == 0 && len(f.vecs) == 0 && f.overflow == nil && f.bad == nil && f.overflowed == f.reported {
		delete(r.fams, f.name)
	}
}

// overflowLocked returns the overflow series of f, registering it if
// needed, and counts the lookup. r.mu must be held.
func (r *Registry) overflowLocked(f *family) *entry {
	f.overflowed++
	if f.overflow == nil {
		var buf [128]byte
		key := metricname.AppendEncoded(buf[:0], f.name, map[string]string{OverflowTag: "true"})
		if f.overflow = r.idx.get(key); f.overflow == nil {
			f.overflow = r.newEntry(string(key), len(f.name), 1, f.kind, nil)
			r.put(f.overflow)
		}
	}
	return f.overflow
}

// limitErrors appends the errors of the families for the interval that
// ends, and returns the lookups they sent to overflow series. r.mu must be
// held.
func (r *Registry) limitErrors(errs []error) ([]error, int64) {
	var total int64
	for _, f := range r.fams {
		if d := f.overflowed - f.reported; d > 0 {
			errs = append(errs, &LimitError{Metric: f.name, Limit: f.limit, Overflowed: d, Option: limitOption})
			f.reported = f.overflowed
			total += d
		}
		if f.bad != nil {
			errs = append(errs, f.bad)
			f.bad = nil
		}
		r.dropIfUnused(f)
	}
	return errs, total
}
