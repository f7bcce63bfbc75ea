package metrics

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

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
type Registry struct {
	now   func() time.Time
	names *metricname.Cache

	mu sync.RWMutex
	m  map[string]*entry // by canonical key
}

type entry struct {
	key    string
	name   string
	tags   map[string]string // nil when there are none; never modified
	metric any
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
		m:     make(map[string]*entry),
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
	return getOrCreate(r, name, tags, NewCounter)
}

// Gauge returns the Gauge registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Gauge(name string) (*Gauge, error) { return r.GaugeWith(name, nil) }

// GaugeWith is like Gauge with tags given as a map; see CounterWith.
func (r *Registry) GaugeWith(name string, tags map[string]string) (*Gauge, error) {
	return getOrCreate(r, name, tags, NewGauge)
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
	return getOrCreate(r, name, tags, func() *GaugeFunc { return &GaugeFunc{fn: fn} })
}

// Meter returns the Meter registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Meter(name string) (*Meter, error) { return r.MeterWith(name, nil) }

// MeterWith is like Meter with tags given as a map; see CounterWith.
func (r *Registry) MeterWith(name string, tags map[string]string) (*Meter, error) {
	return getOrCreate(r, name, tags, func() *Meter { return newMeter(r.now) })
}

// Histogram returns the Histogram registered under name, creating it if
// needed. See Counter for name and errors.
func (r *Registry) Histogram(name string) (*Histogram, error) { return r.HistogramWith(name, nil) }

// HistogramWith is like Histogram with tags given as a map; see
// CounterWith.
func (r *Registry) HistogramWith(name string, tags map[string]string) (*Histogram, error) {
	return getOrCreate(r, name, tags, NewHistogram)
}

// Timer returns the Timer registered under name, creating it if needed. See
// Counter for name and errors.
func (r *Registry) Timer(name string) (*Timer, error) { return r.TimerWith(name, nil) }

// TimerWith is like Timer with tags given as a map; see CounterWith.
func (r *Registry) TimerWith(name string, tags map[string]string) (*Timer, error) {
	return getOrCreate(r, name, tags, func() *Timer { return newTimer(r.now) })
}

// Each calls fn for every registered metric, in ascending order of
// canonical key. m is one of *Counter, *Gauge, *GaugeFunc, *Meter,
// *Histogram or *Timer; tags is nil for a metric without tags and must not
// be modified. fn may register metrics; those registered during the call
// are not visited. Each allocates a slice of the registered metrics.
func (r *Registry) Each(fn func(name string, tags map[string]string, m any)) {
	r.mu.RLock()
	es := slices.Collect(maps.Values(r.m))
	r.mu.RUnlock()
	slices.SortFunc(es, func(a, b *entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range es {
		fn(e.name, e.tags, e.metric)
	}
}

// Walk calls fn for every registered metric, in ascending order of
// canonical key, like Each, but passes the tags as a read-only view instead
// of a map: it is what a reporter uses, and costs one allocation per call
// (a slice of the registered metrics), none per metric. fn may register
// metrics; those registered during the call are not visited.
func (r *Registry) Walk(fn func(name string, tags Tags, m any)) {
	r.mu.RLock()
	es := slices.Collect(maps.Values(r.m))
	r.mu.RUnlock()
	slices.SortFunc(es, func(a, b *entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range es {
		fn(e.name, Tags{m: e.tags}, e.metric)
	}
}

// Len returns the number of registered metrics.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.m)
}

func getOrCreate[M any](r *Registry, name string, tags map[string]string, create func() M) (M, error) {
	var zero M
	var buf [128]byte
	n, t, owned, err := r.resolve(name, tags)
	if err != nil {
		return zero, err
	}
	key := metricname.AppendEncoded(buf[:0], n, t)
	r.mu.RLock()
	e := r.m[string(key)]
	r.mu.RUnlock()
	if e == nil {
		r.mu.Lock()
		if e = r.m[string(key)]; e == nil {
			if len(t) == 0 {
				t = nil
			} else if !owned {
				t = maps.Clone(t)
			}
			e = &entry{key: string(key), name: n, tags: t, metric: create()}
			r.m[e.key] = e
		}
		r.mu.Unlock()
	}
	if m, ok := e.metric.(M); ok {
		return m, nil
	}
	return zero, fmt.Errorf("%w: %s is a %s, not a %s", ErrWrongKind, e.key, kind(e.metric), kind(zero))
}

// resolve splits name into a plain name and its tags, merged with tags.
// owned reports whether the returned map is a new one the caller may keep.
func (r *Registry) resolve(name string, tags map[string]string) (n string, t map[string]string, owned bool, err error) {
	if strings.IndexByte(name, '{') < 0 {
		n = strings.TrimSpace(name)
		if n == "" {
			return "", nil, false, fmt.Errorf("metrics: empty metric name %q", name)
		}
		return n, tags, false, nil
	}
	n, enc, err := r.names.Decode(name)
	if err != nil {
		return "", nil, false, fmt.Errorf("metrics: %w", err)
	}
	if len(tags) == 0 {
		return n, enc, false, nil
	}
	merged := maps.Clone(tags)
	for k, v := range enc {
		if w, ok := merged[k]; ok && w != v {
			return "", nil, false, fmt.Errorf("metrics: metric %q: tag %q is %q in the name and %q in the map", name, k, v, w)
		}
		merged[k] = v
	}
	return n, merged, true, nil
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
