package metrics

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/apptuit-go/apptuit/internal/metricname"
)

// ErrWrongKind is returned, wrapped, when a name is asked for as a kind of
// metric other than the kind it was registered as.
var ErrWrongKind = errors.New("metrics: name registered as another kind of metric")

// Registry holds metrics by name and tags. A metric is identified by its
// canonical key, the encoded form of its name and tags (see
// apptuit.EncodeMetric): `order_count{"city": "NYC"}`. Asking for the same
// key again returns the same metric, whether the tags were given encoded in
// the name, as a map, or as a vector's values. All the series of a name
// are of one kind.
//
// A Registry is safe for concurrent use. Looking up an existing metric
// takes no lock and does not allocate for a plain name or a vector's
// values; registering one takes the registry's lock and allocates the
// metric with a small entry (one allocation) and its key. A metric's own methods never touch
// the registry. A Registry starts no goroutines. Its zero value is an
// empty registry with the default settings, as NewRegistry() returns.
//
// Memory: a registered metric costs its own size, a small entry, its
// canonical key as a string (which also holds the name and, unless the
// encoding escapes one, the tags) and a slot of a standard map, plus a key
// and a slot in the index of each vector that has looked it up; figures
// per kind are in bench/RESULTS.md (TestMemoryPerMetric checks them).
type Registry struct {
	now    func() time.Time
	limit  int // per-metric series limit: 0 for DefaultSeriesLimit, -1 for none
	expiry int // intervals without an update after which a series is removed; 0: never

	names atomic.Pointer[metricname.Cache] // decodes encoded names; made on first use

	mu      sync.Mutex // guards the fields below and every change of idx
	idx     index
	fams    map[string]*family // by name, for names with tags
	plain   *entryExt          // the ext of every entry whose tags its key holds verbatim
	walk    []*entry           // every entry in key order, as the last walk sorted them; nil after a change
	changes uint64             // entries added or removed, ever
}

// entry is a registered metric. It is never modified after it is
// published, but for idle, which the registry's lock guards. It is kept to
// 48 bytes, a size class (ext holds what few entries need).
type entry struct {
	key    string // canonical: name{"k": "v", ...}; also holds the name and, usually, the tags
	metric any
	ext    *entryExt
	name   int32  // length of the name, which starts key
	ntags  uint16 // number of tags
	idle   uint16 // intervals in a row without an update (see WithExpiry)
}

// entryExt is what an entry needs beyond its key: its registry, and its
// tags when the key escapes one of them. Entries whose key holds their tags
// verbatim (almost all) share their registry's.
type entryExt struct {
	r   *Registry
	raw []tag // in ascending order of key; nil when the key holds them verbatim
}

// tag is a tag of a metric whose canonical key escapes it.
type tag struct{ k, v string }

// Option configures a Registry.
type Option func(*Registry)

// WithClock makes the registry's meters and timers read now instead of
// time.Now: meters to compute rates, timers in Time, Start and
// UpdateSince. It is meant for tests.
func WithClock(now func() time.Time) Option {
	return func(r *Registry) { r.now = now }
}

// NewRegistry returns an empty Registry.
func NewRegistry(opts ...Option) *Registry {
	r := new(Registry)
	for _, o := range opts {
		o(r)
	}
	return r
}

// clock returns the time by the registry's clock.
func (r *Registry) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// Counter returns the Counter registered under name, creating it if
// needed. name is a plain name or an encoded name with tags, such as
// `order_count{"city": "NYC"}`. It returns an error if name is empty or
// cannot be decoded, or is registered as another kind (ErrWrongKind).
// Past the name's series limit, a new set of tags gets the overflow series
// (see WithSeriesLimit).
func (r *Registry) Counter(name string) (*Counter, error) {
	return r.CounterWith(name, nil)
}

// CounterWith is like Counter with tags given as a map, merged with any
// tags encoded in name (a key given both ways must have the same value).
// The registry keeps its own copy of tags. It costs encoding the key in a
// buffer on the stack, with the map's keys sorted (an allocation for more
// than 8 tags), and a map lookup; vectors (CounterVec) skip the sorting.
func (r *Registry) CounterWith(name string, tags map[string]string) (*Counter, error) {
	return getOrCreate[Counter](r, name, tags, nil)
}

// Gauge returns the Gauge registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Gauge(name string) (*Gauge, error) { return r.GaugeWith(name, nil) }

// GaugeWith is like Gauge with tags given as a map; see CounterWith.
func (r *Registry) GaugeWith(name string, tags map[string]string) (*Gauge, error) {
	return getOrCreate[Gauge](r, name, tags, nil)
}

// GaugeFunc returns the GaugeFunc registered under name, creating it with
// fn if needed; if it exists, fn is ignored. fn is called each time the
// gauge is read, usually once per report, and must be safe to call from
// another goroutine. fn must not be nil. See Counter for name and errors.
func (r *Registry) GaugeFunc(name string, fn func() float64) (*GaugeFunc, error) {
	return r.GaugeFuncWith(name, nil, fn)
}

// GaugeFuncWith is like GaugeFunc with tags given as a map; see
// CounterWith.
func (r *Registry) GaugeFuncWith(name string, tags map[string]string, fn func() float64) (*GaugeFunc, error) {
	if fn == nil {
		return nil, fmt.Errorf("metrics: GaugeFunc %q with nil function", name)
	}
	return getOrCreate[GaugeFunc](r, name, tags, fn)
}

// Meter returns the Meter registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Meter(name string) (*Meter, error) { return r.MeterWith(name, nil) }

// MeterWith is like Meter with tags given as a map; see CounterWith.
func (r *Registry) MeterWith(name string, tags map[string]string) (*Meter, error) {
	return getOrCreate[Meter](r, name, tags, nil)
}

// Histogram returns the Histogram registered under name, creating it if
// needed. See Counter for name and errors.
func (r *Registry) Histogram(name string) (*Histogram, error) { return r.HistogramWith(name, nil) }

// HistogramWith is like Histogram with tags given as a map; see
// CounterWith.
func (r *Registry) HistogramWith(name string, tags map[string]string) (*Histogram, error) {
	return getOrCreate[Histogram](r, name, tags, nil)
}

// Timer returns the Timer registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Timer(name string) (*Timer, error) { return r.TimerWith(name, nil) }

// TimerWith is like Timer with tags given as a map; see CounterWith.
func (r *Registry) TimerWith(name string, tags map[string]string) (*Timer, error) {
	return getOrCreate[Timer](r, name, tags, nil)
}

// Each calls fn for every registered metric, in ascending order of
// canonical key. m is one of *Counter, *Gauge, *GaugeFunc, *Meter,
// *Histogram or *Timer; tags is nil for a metric without tags, and
// otherwise a new map that fn may keep or modify. fn may register or
// unregister metrics; those registered during the call are not visited,
// those unregistered may still be. Each allocates a map for every metric
// with tags (the registry does not keep its tags as a map): a reporter
// should use Walk, which allocates none.
func (r *Registry) Each(fn func(name string, tags map[string]string, m any)) {
	for _, e := range r.sorted() {
		fn(e.key[:e.name], Tags{e}.Map(), e.metric)
	}
}

// Walk calls fn for every registered metric, in ascending order of
// canonical key, like Each, but passes the tags as a read-only view instead
// of a map: it is what a reporter uses. It allocates nothing per metric;
// when metrics were registered or removed since the last walk, it sorts
// them again (one allocation, O(n log n)), and otherwise reuses that order. fn may register or
// unregister metrics; those registered during the call are not visited,
// those unregistered may still be.
func (r *Registry) Walk(fn func(name string, tags Tags, m any)) {
	for _, e := range r.sorted() {
		fn(e.key[:e.name], Tags{e}, e.metric)
	}
}

// sorted returns the registered entries in ascending order of key, in a
// slice the caller must not modify. The order is kept until an entry is
// added or removed, so a walk of an unchanged registry sorts nothing.
func (r *Registry) sorted() []*entry {
	r.mu.Lock()
	if es := r.walk; es != nil {
		r.mu.Unlock()
		return es
	}
	all, changes := r.idx.all(), r.changes
	es := make([]*entry, 0, len(all))
	for _, e := range all {
		es = append(es, e)
	}
	r.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry) int { return strings.Compare(a.key, b.key) })
	r.mu.Lock()
	if r.changes == changes {
		r.walk = es
	}
	r.mu.Unlock()
	return es
}

// put registers e. r.mu must be held.
func (r *Registry) put(e *entry) {
	r.idx.put(e.key, e)
	r.walk = nil
	r.changes++
}

// Len returns the number of registered metrics.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idx.len()
}

// Unregister removes the metric registered under name and tags, addressed
// as the getters address it (name plain or encoded with tags, tags merged
// with those of name), and reports whether there was one; a name that the
// getters would reject (empty, undecodable, conflicting tags) addresses
// nothing and returns false. It takes the registry's lock and allocates
// nothing for a plain name without tags; after it, lookups take the lock
// until as many have been made as there are metrics (see Registry).
//
// Unregistering is safe at any time: a Walk or Each in progress may still
// visit the metric; code holding the metric may go on updating it, which
// no longer affects the registry (the next getter for the same name and
// tags creates a new, empty metric). A reporter of the registry stops
// sending the metric at its next report (see package reporter), so the
// updates since its last report are lost; report first if they matter.
func (r *Registry) Unregister(name string, tags map[string]string) bool {
	var buf [128]byte
	n, t, err := r.resolve(name, tags)
	if err != nil {
		return false
	}
	return r.remove(metricname.AppendEncoded(buf[:0], n, t))
}

// remove removes the entry of key, as Unregister does.
func (r *Registry) remove(key []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.idx.get(key)
	if e == nil {
		return false
	}
	r.idx.remove(e.key)
	r.walk, r.changes = nil, r.changes+1
	r.forgetLocked(e)
	if l := linkOf(e.metric); l != nil {
		atomic.StoreUint32(&l.state, stateLive) // detached: its updates no longer look for the registry
	}
	return true
}

// forgetLocked updates the family of e, removed from the index. r.mu must
// be held.
func (r *Registry) forgetLocked(e *entry) {
	if e.ntags == 0 {
		return
	}
	f := r.fams[e.key[:e.name]]
	if f == nil {
		return
	}
	if f.overflow == e {
		f.overflow = nil
	} else {
		f.n--
	}
	for _, vi := range f.vecs {
		vi.forget(e)
	}
	r.dropIfUnused(f)
}

// getOrCreate returns the *T registered under name and tags, creating it
// if needed (a GaugeFunc reading fn).
func getOrCreate[T any](r *Registry, name string, tags map[string]string, fn func() float64) (*T, error) {
	var buf [128]byte
	n, t, err := r.resolve(name, tags)
	if err != nil {
		return nil, err
	}
	key := metricname.AppendEncoded(buf[:0], n, t)
	if len(key) > math.MaxInt32 || len(t) > math.MaxUint16 {
		return nil, fmt.Errorf("metrics: metric %.40q...: name and tags encode to %d bytes with %d tags, more than %d bytes or %d tags",
			n, len(key), len(t), math.MaxInt32, math.MaxUint16)
	}
	e := r.idx.load(key)
	if e == nil {
		if e, err = r.create(key, n, len(t), kindOf((*T)(nil)), fn); err != nil {
			return nil, err
		}
	}
	if m, ok := e.metric.(*T); ok {
		return m, nil
	}
	return nil, wrongKind(e.key, kindOf(e.metric), kindOf((*T)(nil)))
}

// create returns the entry of key, for name n and ntags tags, registering a
// metric of kind k (a GaugeFunc reading fn) if there is none, or the name's
// overflow series when the name has reached its series limit (a GaugeFunc,
// which cannot add up the values of several, gets a *LimitError instead).
func (r *Registry) create(key []byte, n string, ntags int, k kind, fn func() float64) (*entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.createLocked(key, n, ntags, k, fn)
}

// createLocked is create with r.mu held.
func (r *Registry) createLocked(key []byte, n string, ntags int, k kind, fn func() float64) (*entry, error) {
	if e := r.idx.get(key); e != nil {
		return e, nil
	}
	if ntags == 0 {
		if f := r.fams[n]; f != nil && f.kind != k {
			return nil, wrongKind(n, f.kind, k)
		}
		e := r.newEntry(string(key), len(n), 0, k, fn)
		r.put(e)
		return e, nil
	}
	f, err := r.familyLocked(n, k)
	if err != nil {
		return nil, err
	}
	if f.limit > 0 && f.n >= f.limit {
		if k == kindGaugeFunc {
			return nil, &LimitError{Metric: n, Limit: f.limit, Overflowed: 1, Option: limitOption}
		}
		return r.overflowLocked(f), nil
	}
	e := r.newEntry(string(key), len(n), ntags, k, fn)
	r.put(e)
	f.n++
	return e, nil
}

// newEntry returns the entry of a new metric of kind k whose canonical key
// is key, with a name of nameLen bytes and ntags tags. It keeps the tags
// apart, decoded from the key, only when the key escapes one of them:
// every escape in the encoding starts with a backslash, so a key whose
// tags hold none has every tag key and value verbatim. (A tag that is not
// valid UTF-8 is therefore kept as the key writes it, with U+FFFD for each
// invalid byte, as are all the tags that share its key.) r.mu must be
// held.
func (r *Registry) newEntry(key string, nameLen, ntags int, k kind, fn func() float64) *entry {
	if r.plain == nil {
		r.plain = &entryExt{r: r}
	}
	e := newSeries(k, fn)
	e.key, e.name, e.ntags, e.ext = key, int32(nameLen), uint16(ntags), r.plain
	if ntags != 0 && strings.IndexByte(key[nameLen:], '\\') >= 0 {
		_, tags, _ := metricname.Decode(key) // it cannot fail: key was encoded
		ext := &entryExt{r: r, raw: make([]tag, 0, len(tags))}
		for _, k := range metricname.SortedKeys(tags) {
			ext.raw = append(ext.raw, tag{k, tags[k]})
		}
		e.ext = ext
	}
	initMetric(e)
	return e
}

// slot is the single allocation that holds a metric and its entry, so that
// a walk of the registry finds both in one place: for a Counter or Gauge
// 112 bytes, whose counter word starts 48 bytes in and so shares its cache
// line only with the entry, never with another counter.
type slot[T any] struct {
	e entry
	m T
}

// paddedSlot is the slot of a Histogram or Timer: the metric starts 64
// bytes in, and the slot's size (192 or 256 bytes) is a multiple of 64, so
// the metric's first cache line, which holds its hot fields, is a line of
// its own.
type paddedSlot[T any] struct {
	e entry
	_ [64 - unsafe.Sizeof(entry{})]byte
	m T
}

// newSeries allocates an entry and a metric of kind k (a GaugeFunc reading
// fn) together, linked both ways; initMetric finishes the metric once the
// entry is filled in.
func newSeries(k kind, fn func() float64) *entry {
	switch k {
	case kindCounter:
		s := new(slot[Counter])
		s.m.l.e, s.e.metric = &s.e, &s.m
		return &s.e
	case kindGauge:
		s := new(slot[Gauge])
		s.m.l.e, s.e.metric = &s.e, &s.m
		return &s.e
	case kindGaugeFunc:
		s := new(slot[GaugeFunc])
		s.m.fn, s.e.metric = fn, &s.m
		return &s.e
	case kindMeter:
		s := new(slot[Meter])
		s.m.l.e, s.e.metric = &s.e, &s.m
		return &s.e
	case kindHistogram:
		s := new(paddedSlot[Histogram])
		s.m.l.e, s.e.metric = &s.e, &s.m
		return &s.e
	case kindTimer:
		s := new(paddedSlot[Timer])
		s.m.l.e, s.e.metric = &s.e, &s.m
		return &s.e
	}
	panic("metrics: unknown kind") // unreachable: kinds come from kindOf
}

// initMetric sets the initial state of e's metric, reading e's registry's
// clock.
func initMetric(e *entry) {
	switch m := e.metric.(type) {
	case *Meter:
		m.rates.init(e.ext.r.clock())
	case *Histogram:
		m.init()
	case *Timer:
		m.init(e.ext.r.clock())
	}
}

// resolve splits name into a plain name and its tags, merged with tags. The
// returned map may be tags, a map shared with the decoding cache, or a new
// one: callers only read it.
func (r *Registry) resolve(name string, tags map[string]string) (n string, t map[string]string, err error) {
	if strings.IndexByte(name, '{') < 0 {
		n = strings.TrimSpace(name)
		if n == "" {
			return "", nil, fmt.Errorf("metrics: empty metric name %q", name)
		}
		return n, tags, nil
	}
	n, enc, err := r.decoder().Decode(name)
	if err != nil {
		return "", nil, fmt.Errorf("metrics: %w", err)
	}
	if len(tags) == 0 {
		return n, enc, nil
	}
	merged := maps.Clone(tags)
	for k, v := range enc {
		if w, ok := merged[k]; ok && w != v {
			return "", nil, fmt.Errorf("metrics: metric %q: tag %q is %q in the name and %q in the map", name, k, v, w)
		}
		merged[k] = v
	}
	return n, merged, nil
}

// decoder returns the registry's cache of decoded names, making it on first
// use.
func (r *Registry) decoder() *metricname.Cache {
	if c := r.names.Load(); c != nil {
		return c
	}
	r.names.CompareAndSwap(nil, metricname.NewCache(1024))
	return r.names.Load()
}

// kind is a kind of metric.
type kind uint8

const (
	kindCounter kind = iota + 1
	kindGauge
	kindGaugeFunc
	kindMeter
	kindHistogram
	kindTimer
)

func kindOf(m any) kind {
	switch m.(type) {
	case *Counter:
		return kindCounter
	case *Gauge:
		return kindGauge
	case *GaugeFunc:
		return kindGaugeFunc
	case *Meter:
		return kindMeter
	case *Histogram:
		return kindHistogram
	case *Timer:
		return kindTimer
	}
	return 0
}

func (k kind) String() string {
	if k >= kindCounter && k <= kindTimer {
		return [...]string{"Counter", "Gauge", "GaugeFunc", "Meter", "Histogram", "Timer"}[k-1]
	}
	return "unknown kind"
}

func wrongKind(what string, is, want kind) error {
	return fmt.Errorf("%w: %s is a %s, not a %s", ErrWrongKind, what, is, want)
}
