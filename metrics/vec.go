package metrics

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/apptuit-go/apptuit/internal/metricname"
)

// Vec is a metric whose series are told apart by the values of tag keys
// fixed when it is made, the way client_golang's vectors are:
//
//	reqs, err := registry.CounterVec("http.requests", "method", "code")
//	reqs.With("GET", "200").Inc()
//
// With("GET", "200") is the Counter that
// registry.CounterWith("http.requests", map[string]string{"method": "GET",
// "code": "200"}) returns, found without a map or a lock: the vector keeps
// its series in an index of its own, keyed by the values alone. Vectors are
// made with Registry.CounterVec, GaugeVec, MeterVec, HistogramVec and
// TimerVec, and are safe for concurrent use.
type Vec[M Counter | Gauge | Meter | Histogram | Timer] struct {
	r *Registry
	f *family
	vecIndex
	order []int    // order[i]: the position in keys (and in With's values) of the i-th key in ascending order
	frags []string // frags[i]: what the canonical key holds before the i-th value in key order: `name{"k0": ` then `, "k1": `
	waste *M       // what With returns when given the wrong number of values; guarded by r.mu
}

// vecIndex is a vector's index of the series it has looked up, keyed by
// their values (see appendValues). Its changes are made under the
// registry's lock; the registry removes from it the series it removes.
type vecIndex struct {
	keys []string // as given
	idx  index
}

// appendValues appends the key of values in a vector's index: each value's
// length as a uvarint, then the value.
func appendValues(b []byte, values []string) []byte {
	for _, v := range values {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// forget removes e from the index, if it is there. The registry's lock
// must be held.
func (vi *vecIndex) forget(e *entry) {
	if int(e.ntags) != len(vi.keys) {
		return
	}
	var arr [16]string
	values := arr[:0]
	for _, k := range vi.keys {
		v, ok := Tags{e}.Get(k)
		if !ok {
			return
		}
		values = append(values, v)
	}
	var buf [256]byte
	key := appendValues(buf[:0], values)
	if vi.idx.get(key) == e {
		vi.idx.remove(string(key))
	}
}

// Vector types, one per kind of metric.
type (
	CounterVec   = Vec[Counter]
	GaugeVec     = Vec[Gauge]
	MeterVec     = Vec[Meter]
	HistogramVec = Vec[Histogram]
	TimerVec     = Vec[Timer]
)

// CounterVec returns a vector of counters named name (a plain name) with
// the tag keys keys, given in the order With takes their values. It
// returns an error if name is empty or holds '{', if a key is empty or
// given twice, or if name is registered as another kind (ErrWrongKind).
// Several vectors, and the getters, may address the same series: they get
// the same metric.
func (r *Registry) CounterVec(name string, keys ...string) (*CounterVec, error) {
	return newVec[Counter](r, name, keys)
}

// GaugeVec returns a vector of gauges; see CounterVec.
func (r *Registry) GaugeVec(name string, keys ...string) (*GaugeVec, error) {
	return newVec[Gauge](r, name, keys)
}

// MeterVec returns a vector of meters; see CounterVec.
func (r *Registry) MeterVec(name string, keys ...string) (*MeterVec, error) {
	return newVec[Meter](r, name, keys)
}

// HistogramVec returns a vector of histograms; see CounterVec.
func (r *Registry) HistogramVec(name string, keys ...string) (*HistogramVec, error) {
	return newVec[Histogram](r, name, keys)
}

// TimerVec returns a vector of timers; see CounterVec.
func (r *Registry) TimerVec(name string, keys ...string) (*TimerVec, error) {
	return newVec[Timer](r, name, keys)
}

func newVec[M Counter | Gauge | Meter | Histogram | Timer](r *Registry, name string, keys []string) (*Vec[M], error) {
	n := strings.TrimSpace(name)
	switch {
	case n == "":
		return nil, fmt.Errorf("metrics: vector with empty name %q", name)
	case strings.IndexByte(n, '{') >= 0:
		return nil, fmt.Errorf("metrics: vector name %q holds '{': give the tags as keys", name)
	case len(keys) == 0:
		return nil, fmt.Errorf("metrics: vector %s without tag keys: use a plain metric", n)
	case len(keys) > math16:
		return nil, fmt.Errorf("metrics: vector %s with %d tag keys, more than %d", n, len(keys), math16)
	}
	v := &Vec[M]{r: r, vecIndex: vecIndex{keys: slices.Clone(keys)}, order: make([]int, len(keys))}
	for i := range v.order {
		v.order[i] = i
	}
	slices.SortFunc(v.order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	for i, j := range v.order {
		k := keys[j]
		if k == "" {
			return nil, fmt.Errorf("metrics: vector %s: tag key %d is empty", n, j)
		}
		if i > 0 && k == keys[v.order[i-1]] {
			return nil, fmt.Errorf("metrics: vector %s: tag key %q is given twice", n, k)
		}
		frag := ", "
		if i == 0 {
			frag = n + "{"
		}
		v.frags = append(v.frags, string(append(metricname.AppendPyString([]byte(frag), k), ": "...)))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.familyLocked(n, kindOf((*M)(nil)))
	if err != nil {
		return nil, err
	}
	f.vecs = append(f.vecs, &v.vecIndex)
	v.f = f
	return v, nil
}

const math16 = 1<<16 - 1

// Name returns the vector's metric name.
func (v *Vec[M]) Name() string { return v.f.name }

// Keys returns the vector's tag keys, in the order With takes their values.
func (v *Vec[M]) Keys() []string { return slices.Clone(v.keys) }

// With returns the metric of the series whose tags have the values values,
// given in the order of the vector's keys, creating it if needed. A series
// the vector has looked up before costs copying the values into a buffer
// on the stack and one lookup in a map, without a lock; it does not
// allocate unless the values add up to more than about 240 bytes. A new
// series (or one the vector has not looked up yet) takes the registry's
// lock; a new series allocates the metric with its entry (one
// allocation) and two keys (the registry's and the vector's).
//
// With never panics. Past the metric's series limit, a new set of values
// gets the metric's overflow series (see WithSeriesLimit). Given the wrong
// number of values, it returns a metric that is not reported, and the
// registry's next EndInterval reports a *ValuesError; use Get to have the
// error at once.
func (v *Vec[M]) With(values ...string) *M {
	if len(values) != len(v.order) {
		return v.misused(len(values))
	}
	n := len(values)
	for _, s := range values {
		n += len(s)
	}
	if n > shortValues {
		return v.withLong(values)
	}
	var buf [shortValues]byte // zeroing a buffer costs: a small one for the usual values
	if e := v.idx.load(appendValues(buf[:0], values)); e != nil {
		if m, ok := e.metric.(*M); ok {
			return m
		}
	}
	return v.lookup(values)
}

// shortValues is the most bytes of values (and one byte of length each)
// that With encodes in its small buffer.
const shortValues = 64

// withLong is With for values too long for its small buffer.
func (v *Vec[M]) withLong(values []string) *M {
	var buf [256]byte
	if e := v.idx.load(appendValues(buf[:0], values)); e != nil {
		if m, ok := e.metric.(*M); ok {
			return m
		}
	}
	return v.lookup(values)
}

// Get is With, returning an error instead of a metric that is not
// reported when given the wrong number of values.
func (v *Vec[M]) Get(values ...string) (*M, error) {
	if len(values) != len(v.order) {
		return nil, fmt.Errorf("metrics: %s: %d tag values, want %d (%s)", v.f.name, len(values), len(v.keys), strings.Join(v.keys, ", "))
	}
	return v.With(values...), nil
}

// Delete removes the series whose tags have the values values, as
// Registry.Unregister does, and reports whether there was one.
func (v *Vec[M]) Delete(values ...string) bool {
	if len(values) != len(v.order) {
		return false
	}
	var buf [256]byte
	return v.r.remove(v.appendKey(buf[:0], values))
}

// SetSeriesLimit sets how many series the vector's metric may have (n ≤ 0:
// no limit), in place of the registry's (see WithSeriesLimit). Series
// registered beyond a lowered limit stay.
func (v *Vec[M]) SetSeriesLimit(n int) {
	v.r.mu.Lock()
	v.f.limit = max(n, 0)
	v.r.mu.Unlock()
}

// appendKey appends the canonical key of the series of values.
func (v *Vec[M]) appendKey(b []byte, values []string) []byte {
	for i, j := range v.order {
		b = append(b, v.frags[i]...)
		b = metricname.AppendPyString(b, values[j])
	}
	return append(b, '}')
}

// lookup finds or registers the series of values, which the vector's index
// did not hold, and adds it to the index (unless it is the overflow
// series, whose lookups are counted one by one).
func (v *Vec[M]) lookup(values []string) *M {
	var kbuf, vbuf [256]byte
	key := v.appendKey(kbuf[:0], values)
	vkey := appendValues(vbuf[:0], values)
	v.r.mu.Lock()
	defer v.r.mu.Unlock()
	e := v.idx.get(vkey)
	if e == nil {
		var err error
		if e, err = v.r.createLocked(key, v.f.name, len(v.keys), v.f.kind, nil); err != nil {
			return v.wasteLocked() // unreachable: every series of a name is of its family's kind
		}
		if e != v.f.overflow {
			v.idx.put(string(vkey), e)
		}
	}
	if m, ok := e.metric.(*M); ok {
		return m
	}
	return v.wasteLocked() // unreachable, as above
}

// misused records a call of With with got values and returns a metric that
// is not reported.
func (v *Vec[M]) misused(got int) *M {
	v.r.mu.Lock()
	defer v.r.mu.Unlock()
	if v.f.bad == nil {
		v.f.bad = &ValuesError{Metric: v.f.name, Keys: slices.Clone(v.keys)}
	}
	v.f.bad.Got = got
	v.f.bad.Calls++
	return v.wasteLocked()
}

// wasteLocked returns the vector's metric that is not reported, making it
// if needed. r.mu must be held.
func (v *Vec[M]) wasteLocked() *M {
	if v.waste == nil {
		e := newSeries(v.f.kind, nil)
		e.ext = &entryExt{r: v.r}
		initMetric(e)
		v.waste = e.metric.(*M)
	}
	return v.waste
}
