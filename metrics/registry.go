package metrics

import (
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
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
// the name or as a map.
//
// A Registry is safe for concurrent use. Looking up an existing metric
// takes a read lock and does not allocate for a plain name; a metric's own
// methods never touch the registry. A Registry starts no goroutines.
//
// Memory: a registered metric costs its own size plus about 80 bytes and
// its canonical key as a string: a 48-byte entry allocated together with
// the metric (64 bytes, padded, for a Histogram or Timer) and a slot of the
// registry's map (16 bytes of key and value, indexed by a 64-bit hash of
// the canonical key, at the map's load). The tags are read from the
// canonical key when it holds them verbatim (no tag has a quote, a
// backslash, a control or a non-ASCII character); otherwise they are kept
// as well, 32 bytes per tag. A Counter with one tag and a 29-byte key such
// as `requests{"host": "host-00001"}` is 174 bytes (TestMemoryPerMetric);
// every 16 bytes of key beyond that add 16.
type Registry struct {
	now   func() time.Time
	names *metricname.Cache
	seed  maphash.Seed
	mask  uint64 // of the hashes of canonical keys: all ones, but tests clear bits to make keys collide

	mu      sync.RWMutex
	m       map[uint64]*entry // by hash of the canonical key
	collide map[string]*entry // by canonical key, the entries whose hash another entry holds in m
}

// entry is a registered metric. It is allocated together with its metric
// (see slot) and never modified after it is published. It is 48 bytes.
type entry struct {
	key    string // canonical: name{"k": "v", ...}; also holds the name and, usually, the tags
	metric any
	raw    *[]tag // the tags in ascending order of key when key escapes any of them; nil otherwise
	name   int32  // length of the name, which starts key
	ntags  int32  // number of tags
}

// tag is a tag of a metric whose canonical key escapes it.
type tag struct{ k, v string }

// slot is the single allocation that holds a registered metric and its
// entry: for a Counter or Gauge (64 bytes) 112 bytes, whose counter word
// starts 48 bytes in and so shares its cache line only with the entry,
// never with another counter (slots are 112 bytes apart).
type slot[T any] struct {
	e entry
	m T
}

// paddedSlot is the slot of a Histogram or Timer: the metric starts 64
// bytes in, and the slot's size (192 or 256 bytes) is a multiple of 64, so
// the metric's first cache line — its hot fields — is a line of its own.
type paddedSlot[T any] struct {
	e entry
	_ [64 - unsafe.Sizeof(entry{})]byte
	m T
}

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
	r := &Registry{
		now:   time.Now,
		names: metricname.NewCache(1024),
		seed:  maphash.MakeSeed(),
		mask:  ^uint64(0),
		m:     make(map[uint64]*entry),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Counter returns the Counter registered under name, creating it if
// needed. name is a plain name or an encoded name with tags, such as
// `order_count{"city": "NYC"}`. It returns an error if name is empty or
// cannot be decoded, or is registered as another kind (ErrWrongKind).
func (r *Registry) Counter(name string) (*Counter, error) {
	return r.CounterWith(name, nil)
}

// CounterWith is like Counter with tags given as a map, merged with any
// tags encoded in name (a key given both ways must have the same value).
// The registry keeps its own copy of tags.
func (r *Registry) CounterWith(name string, tags map[string]string) (*Counter, error) {
	return getOrCreate[Counter](r, name, tags, nil, false)
}

// Gauge returns the Gauge registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Gauge(name string) (*Gauge, error) { return r.GaugeWith(name, nil) }

// GaugeWith is like Gauge with tags given as a map; see CounterWith.
func (r *Registry) GaugeWith(name string, tags map[string]string) (*Gauge, error) {
	return getOrCreate[Gauge](r, name, tags, nil, false)
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
	return getOrCreate(r, name, tags, func(g *GaugeFunc) { g.fn = fn }, false)
}

// Meter returns the Meter registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Meter(name string) (*Meter, error) { return r.MeterWith(name, nil) }

// MeterWith is like Meter with tags given as a map; see CounterWith.
func (r *Registry) MeterWith(name string, tags map[string]string) (*Meter, error) {
	return getOrCreate(r, name, tags, func(m *Meter) { m.rates.init(r.now) }, false)
}

// Histogram returns the Histogram registered under name, creating it if
// needed. See Counter for name and errors.
func (r *Registry) Histogram(name string) (*Histogram, error) { return r.HistogramWith(name, nil) }

// HistogramWith is like Histogram with tags given as a map; see
// CounterWith.
func (r *Registry) HistogramWith(name string, tags map[string]string) (*Histogram, error) {
	return getOrCreate(r, name, tags, (*Histogram).init, true)
}

// Timer returns the Timer registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Timer(name string) (*Timer, error) { return r.TimerWith(name, nil) }

// TimerWith is like Timer with tags given as a map; see CounterWith.
func (r *Registry) TimerWith(name string, tags map[string]string) (*Timer, error) {
	return getOrCreate(r, name, tags, func(t *Timer) { t.init(r.now) }, true)
}

// Each calls fn for every registered metric, in ascending order of
// canonical key. m is one of *Counter, *Gauge, *GaugeFunc, *Meter,
// *Histogram or *Timer; tags is nil for a metric without tags, and
// otherwise a new map that fn may keep or modify. fn may register or
// unregister metrics; those registered during the call are not visited,
// those unregistered may still be. Each allocates a slice of the
// registered metrics, and a map for every metric with tags (the registry
// does not keep its tags as a map): a reporter should use Walk, which
// allocates no map.
func (r *Registry) Each(fn func(name string, tags map[string]string, m any)) {
	for _, e := range r.sorted() {
		fn(e.key[:e.name], Tags{e}.Map(), e.metric)
	}
}

// Walk calls fn for every registered metric, in ascending order of
// canonical key, like Each, but passes the tags as a read-only view instead
// of a map: it is what a reporter uses, and costs one allocation per call
// (a slice of the registered metrics), none per metric. fn may register or
// unregister metrics; those registered during the call are not visited,
// those unregistered may still be.
func (r *Registry) Walk(fn func(name string, tags Tags, m any)) {
	for _, e := range r.sorted() {
		fn(e.key[:e.name], Tags{e}, e.metric)
	}
}

// sorted returns the registered entries in ascending order of key.
func (r *Registry) sorted() []*entry {
	r.mu.RLock()
	es := make([]*entry, 0, len(r.m)+len(r.collide))
	for _, e := range r.m {
		es = append(es, e)
	}
	for _, e := range r.collide {
		es = append(es, e)
	}
	r.mu.RUnlock()
	slices.SortFunc(es, func(a, b *entry) int { return strings.Compare(a.key, b.key) })
	return es
}

// Len returns the number of registered metrics.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.m) + len(r.collide)
}

// Unregister removes the metric registered under name and tags, addressed
// as the getters address it (name plain or encoded with tags, tags merged
// with those of name), and reports whether there was one; a name that the
// getters would reject (empty, undecodable, conflicting tags) addresses
// nothing and returns false. It takes the registry's write lock and
// allocates nothing for a plain name without tags.
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
	key := metricname.AppendEncoded(buf[:0], n, t)
	h := maphash.Bytes(r.seed, key) & r.mask
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.m[h]; e != nil && e.key == string(key) {
		delete(r.m, h)
		return true
	}
	if _, ok := r.collide[string(key)]; ok {
		delete(r.collide, string(key))
		return true
	}
	return false
}

// lookup returns the entry of key, whose hash is h, or nil. r.mu must be
// held.
func (r *Registry) lookup(h uint64, key []byte) *entry {
	if e := r.m[h]; e != nil && e.key == string(key) {
		return e
	}
	if r.collide != nil {
		return r.collide[string(key)]
	}
	return nil
}

// insert registers e, whose hash is h. r.mu must be held for writing.
func (r *Registry) insert(h uint64, e *entry) {
	if r.m[h] == nil {
		r.m[h] = e
		return
	}
	if r.collide == nil {
		r.collide = make(map[string]*entry)
	}
	r.collide[e.key] = e
}

// getOrCreate returns the *T registered under name and tags, creating it
// with init (nil when the zero T is ready) if needed, in a paddedSlot when
// padded.
func getOrCreate[T any](r *Registry, name string, tags map[string]string, init func(*T), padded bool) (*T, error) {
	var buf [128]byte
	n, t, err := r.resolve(name, tags)
	if err != nil {
		return nil, err
	}
	key := metricname.AppendEncoded(buf[:0], n, t)
	if len(key) > math.MaxInt32 {
		return nil, fmt.Errorf("metrics: metric %.40q...: name and tags encode to %d bytes, more than %d", n, len(key), math.MaxInt32)
	}
	h := maphash.Bytes(r.seed, key) & r.mask
	r.mu.RLock()
	e := r.lookup(h, key)
	r.mu.RUnlock()
	if e == nil {
		r.mu.Lock()
		if e = r.lookup(h, key); e == nil {
			var m *T
			if padded {
				s := new(paddedSlot[T])
				e, m = &s.e, &s.m
			} else {
				s := new(slot[T])
				e, m = &s.e, &s.m
			}
			if init != nil {
				init(m)
			}
			*e = newEntry(string(key), n, t)
			e.metric = m
			r.insert(h, e)
		}
		r.mu.Unlock()
	}
	if m, ok := e.metric.(*T); ok {
		return m, nil
	}
	return nil, fmt.Errorf("%w: %s is a %s, not a %s", ErrWrongKind, e.key, kind(e.metric), kind((*T)(nil)))
}

// newEntry returns the entry of a metric whose canonical key is key, for
// name and tags. It keeps the tags apart only when key escapes one of
// them: every escape in the encoding starts with a backslash, so a key
// whose tags hold none has every tag key and value verbatim.
func newEntry(key, name string, tags map[string]string) entry {
	e := entry{key: key, name: int32(len(name)), ntags: int32(len(tags))}
	if len(tags) != 0 && strings.IndexByte(key[len(name):], '\\') >= 0 {
		raw := make([]tag, 0, len(tags))
		for _, k := range metricname.SortedKeys(tags) {
			raw = append(raw, tag{k, tags[k]})
		}
		e.raw = &raw
	}
	return e
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
	n, enc, err := r.names.Decode(name)
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

func kind(m any) string {
	switch m.(type) {
	case *Counter:
		return "Counter"
	case *Gauge:
		return "Gauge"
	case *GaugeFunc:
		return "GaugeFunc"
	case *Meter:
		return "Meter"
	case *Histogram:
		return "Histogram"
	case *Timer:
		return "Timer"
	}
	return fmt.Sprintf("%T", m)
}
