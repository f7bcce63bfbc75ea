package metrics

import (
	"cmp"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// WithExpiry makes the registry remove every series that was not updated
// during n intervals in a row (an interval ends at each EndInterval, which a
// reporter calls once per report); n ≤ 0, the default, keeps every series.
// A removed series is no longer reported and its memory is released, as
// with Unregister, except that a metric kept in a variable still works: its
// next update registers it again, with the value it had (unless the
// registry has made another metric for the same name and tags since, by a
// lookup; then the old one stays detached). A lookup after expiry makes a
// new metric, so a counter comes back from zero; see package reporter for
// what that means downstream. n is capped at 32,767.
//
// An update is any Inc, Add, Set, Mark or Update (even one leaving the
// value unchanged); looking a metric up is not. GaugeFuncs are never
// removed.
func WithExpiry(n int) Option {
	return func(r *Registry) { r.expiry = min(max(n, 0), maxIdle) }
}

// IntervalStats is what happened to a registry's series during an
// interval; see EndInterval.
type IntervalStats struct {
	Overflowed int64   // lookups sent to overflow series (see WithSeriesLimit)
	Expired    int     // series removed by expiry at the end of the interval
	Errors     []error // a *LimitError per metric that overflowed, a *ValuesError per vector misused, in order of name
}

// EndInterval ends an interval: it reports the metrics that reached their
// series limit or whose vectors were given the wrong number of values
// since the previous call, and, with WithExpiry, removes the series not
// updated for the configured number of intervals. A reporter calls it once
// per report, after reading the metrics; only one caller per registry
// should. It takes the registry's lock, and with expiry visits every
// series (an atomic swap each) and rebuilds the index when some expire.
func (r *Registry) EndInterval() IntervalStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	var st IntervalStats
	st.Errors, st.Overflowed = r.limitErrors(nil)
	slices.SortFunc(st.Errors, func(a, b error) int { return cmp.Compare(errMetric(a), errMetric(b)) })
	if r.expiry > 0 {
		st.Expired = r.expireLocked()
	}
	return st
}

func errMetric(err error) string {
	switch e := err.(type) {
	case *LimitError:
		return e.Metric
	case *ValuesError:
		return e.Metric
	}
	return ""
}

// maxIdle caps an entry's count of idle intervals; idleGone marks the
// entries being removed.
const (
	maxIdle  = math.MaxInt16
	idleGone = math.MaxUint16
)

// expireLocked marks every series idle, counts the intervals in a row it
// stayed idle, and removes those idle for r.expiry. r.mu must be held.
func (r *Registry) expireLocked() int {
	all := r.idx.all()
	var gone []*entry
	for _, e := range all {
		l := linkOf(e.metric)
		if l == nil {
			continue
		}
		if atomic.SwapUint32(&l.state, stateIdle) == stateLive {
			e.idle = 0
			continue
		}
		e.idle = min(e.idle+1, maxIdle)
		if int(e.idle) >= r.expiry && atomic.CompareAndSwapUint32(&l.state, stateIdle, stateExpired) {
			e.idle = idleGone
			gone = append(gone, e)
		}
	}
	if len(gone) == 0 {
		return 0
	}
	m := make(map[string]*entry, len(all)-len(gone))
	for k, e := range all {
		if e.idle != idleGone {
			m[k] = e
		}
	}
	r.idx.replace(m)
	r.walk, r.changes = nil, r.changes+1
	for _, e := range gone {
		r.forgetLocked(e)
	}
	return len(gone)
}

// revive registers e again after its metric, which expired, was updated.
func (r *Registry) revive(e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := []byte(e.key)
	if r.idx.get(key) != nil {
		return // a lookup made another metric for it: e stays detached
	}
	k := kindOf(e.metric)
	if e.ntags != 0 {
		f, err := r.familyLocked(e.key[:e.name], k)
		if err != nil {
			return // the name came back as another kind
		}
		f.n++
	} else if f := r.fams[e.key[:e.name]]; f != nil && f.kind != k {
		return
	}
	e.idle = 0
	r.put(e)
}

// States of a registered metric's link.
const (
	stateLive    = iota // updated since the interval began, or not subject to expiry
	stateIdle           // not updated since the interval began
	stateExpired        // removed by expiry: the next update registers it again
)

// link ties a metric to its registry entry. Its state is what an update
// checks: one load, and a call (of touch) only the first time the metric is
// updated in an interval, when expiry is on.
type link struct {
	state uint32 // accessed atomically; a plain uint32 keeps the updaters inlinable
	e     *entry // nil for a metric made by NewCounter, NewTimer...
}

// touch records an update of a metric whose state was not live. It is
// kept out of line so that the updaters, which call it once per interval
// at most, stay inlinable.
//
//go:noinline
func (l *link) touch() {
	if atomic.CompareAndSwapUint32(&l.state, stateIdle, stateLive) {
		return
	}
	if atomic.CompareAndSwapUint32(&l.state, stateExpired, stateLive) {
		l.e.ext.r.revive(l.e)
	}
}

// now reads the clock of the metric's registry, or time.Now.
func (l *link) now() time.Time {
	if l.e != nil {
		return l.e.ext.r.clock()
	}
	return time.Now()
}

func linkOf(m any) *link {
	switch m := m.(type) {
	case *Counter:
		return &m.l
	case *Gauge:
		return &m.l
	case *Meter:
		return &m.l
	case *Histogram:
		return &m.l
	case *Timer:
		return &m.l
	}
	return nil
}
