package metrics

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRegistrySameSeries(t *testing.T) {
	r := NewRegistry()
	tags := map[string]string{"city": "NYC", "zone": "a"}
	c1, err := r.CounterWith("order_count", tags)
	if err != nil {
		t.Fatal(err)
	}
	tags["city"] = "changed" // the registry keeps its own copy
	for _, tc := range []struct {
		name string
		tags map[string]string
	}{
		{`order_count{"city": "NYC", "zone": "a"}`, nil},
		{`order_count{"zone":"a","city":"NYC"}`, nil},
		{` order_count {"city": "NYC"}`, map[string]string{"zone": "a"}},
		{`order_count{"city": "NYC", "zone": "a"}`, map[string]string{"zone": "a"}},
		{"order_count", map[string]string{"zone": "a", "city": "NYC"}},
	} {
		c2, err := r.CounterWith(tc.name, tc.tags)
		if err != nil {
			t.Errorf("CounterWith(%q, %v): %v", tc.name, tc.tags, err)
		} else if c2 != c1 {
			t.Errorf("CounterWith(%q, %v) returned another counter", tc.name, tc.tags)
		}
	}
	// Without tags, with empty tags, and with "{}" are the same series.
	p1, _ := r.Counter("plain")
	for _, name := range []string{"plain", " plain ", "plain{}"} {
		if p2, err := r.Counter(name); err != nil || p2 != p1 {
			t.Errorf("Counter(%q) = %p, %v; want %p", name, p2, err, p1)
		}
	}
	if p2, err := r.CounterWith("plain", map[string]string{}); err != nil || p2 != p1 {
		t.Errorf("CounterWith(plain, {}) = %p, %v; want %p", p2, err, p1)
	}
	if r.Len() != 2 {
		t.Errorf("Len() = %d, want 2", r.Len())
	}
}

func TestRegistryErrors(t *testing.T) {
	r := NewRegistry()
	if _, err := r.Counter("requests"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		get     func() error
		wantErr string
		kind    bool
	}{
		{"empty", func() error { _, err := r.Counter(""); return err }, `empty metric name ""`, false},
		{"blank", func() error { _, err := r.Meter("  "); return err }, `empty metric name "  "`, false},
		{"no name", func() error { _, err := r.Gauge(`{"a": "b"}`); return err }, `{\"a\": \"b\"}`, false},
		{"bad tags", func() error { _, err := r.Timer(`t{"a": 1}`); return err }, `t{\"a\": 1}`, false},
		{"conflict", func() error {
			_, err := r.HistogramWith(`h{"a": "1"}`, map[string]string{"a": "2"})
			return err
		}, `tag "a" is "1" in the name and "2" in the map`, false},
		{"nil func", func() error { _, err := r.GaugeFunc("g", nil); return err }, "nil function", false},
		{"wrong kind", func() error { _, err := r.Meter("requests"); return err }, "requests{} is a Counter, not a Meter", true},
		{"wrong kind encoded", func() error { _, err := r.Timer("requests{}"); return err }, "requests{} is a Counter, not a Timer", true},
	} {
		err := tc.get()
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one containing %s", tc.name, err, tc.wantErr)
		}
		if errors.Is(err, ErrWrongKind) != tc.kind {
			t.Errorf("%s: errors.Is(%v, ErrWrongKind) = %v", tc.name, err, !tc.kind)
		}
	}
	if r.Len() != 1 {
		t.Errorf("failed lookups registered metrics: Len() = %d", r.Len())
	}
}

func TestRegistryEach(t *testing.T) {
	clk := newFakeClock()
	r := NewRegistry(WithClock(clk.Now))
	must := func(_ any, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Timer("latency"))
	must(r.CounterWith("b", map[string]string{"k": "2"}))
	must(r.Counter(`b{"k": "1"}`))
	must(r.Gauge("a"))
	must(r.GaugeFunc("a.func", func() float64 { return 1 }))
	must(r.Meter("z"))
	must(r.Histogram("h"))
	var got []string
	r.Each(func(name string, tags map[string]string, m any) {
		got = append(got, fmt.Sprintf("%s %v %s", name, tags, kindOf(m)))
	})
	want := []string{
		"a.func map[] GaugeFunc", // "a.func{}" < "a{}" as '.' < '{'
		"a map[] Gauge",
		`b map[k:1] Counter`,
		`b map[k:2] Counter`,
		"h map[] Histogram",
		"latency map[] Timer",
		"z map[] Meter",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Each visited\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The clock reaches meters and timers.
	m, _ := r.Meter("z")
	m.Mark(10)
	clk.Add(10 * time.Second)
	if s := m.Snapshot(); s.MeanRate != 1 || s.Rate1 != 1 {
		t.Errorf("meter with the registry's clock: %+v", s)
	}
	tm, _ := r.Timer("latency")
	tm.Time(func() { clk.Add(time.Second) })
	if s := tm.Snapshot(); s.Histogram.Sum != 1 {
		t.Errorf("timer with the registry's clock: sum %v, want 1", s.Histogram.Sum)
	}
}

func TestCounterGauge(t *testing.T) {
	var c Counter
	c.Inc()
	c.Inc()
	c.Dec()
	c.Add(41)
	c.Add(-2)
	if c.Count() != 40 {
		t.Errorf("Count() = %d, want 40", c.Count())
	}
	var g Gauge
	if g.Value() != 0 {
		t.Errorf("zero gauge = %v", g.Value())
	}
	for _, v := range []float64{1.5, -2, math.Inf(1), 0} {
		g.Set(v)
		if g.Value() != v {
			t.Errorf("after Set(%v), Value() = %v", v, g.Value())
		}
	}
	n := 0.0
	f := NewGaugeFunc(func() float64 { n++; return n })
	if f.Value() != 1 || f.Value() != 2 {
		t.Error("GaugeFunc does not call its function on each read")
	}
}

// TestConcurrent has many goroutines look up and update the same metrics,
// with a reporter snapshotting and resetting meanwhile, and checks the exact
// final counts.
func TestConcurrent(t *testing.T) {
	const goroutines, perG = 16, 5000
	r := NewRegistry()
	var wg sync.WaitGroup
	done := make(chan struct{})
	reporterDone := make(chan struct{})
	go func() { // a reporter
		defer close(reporterDone)
		for {
			select {
			case <-done:
				return
			default:
			}
			r.Each(func(_ string, _ map[string]string, m any) {
				switch m := m.(type) {
				case *Histogram:
					m.SnapshotAndReset()
				case *Timer:
					m.SnapshotAndReset()
				case *Meter:
					m.Snapshot()
				}
			})
		}
	}()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				c, err := r.CounterWith("c", map[string]string{"g": "all"})
				if err != nil {
					t.Error(err)
					return
				}
				c.Inc()
				m, _ := r.Meter(`m{"x": "y"}`)
				m.Mark(2)
				h, _ := r.Histogram("h")
				h.Update(float64(i%100 + 1))
				tm, _ := r.Timer("t")
				tm.Update(time.Duration(g+1) * time.Millisecond)
				gg, _ := r.Gauge("g")
				gg.Set(float64(i))
			}
		}()
	}
	wg.Wait()
	close(done)
	<-reporterDone
	c, _ := r.Counter(`c{"g": "all"}`)
	m, _ := r.MeterWith("m", map[string]string{"x": "y"})
	h, _ := r.Histogram("h")
	tm, _ := r.Timer("t")
	const n = goroutines * perG
	if c.Count() != n {
		t.Errorf("counter %d, want %d", c.Count(), n)
	}
	if m.Count() != 2*n {
		t.Errorf("meter %d, want %d", m.Count(), 2*n)
	}
	// Count and Sum are cumulative across the reporter's resets.
	hs := h.SnapshotAndReset()
	if hs.Count != n || hs.Sum != goroutines*perG/100*5050 {
		t.Errorf("histogram count, sum = %d, %v; want %d, %d", hs.Count, hs.Sum, n, goroutines*perG/100*5050)
	}
	ts := tm.SnapshotAndReset()
	wantSum := float64(perG*goroutines*(goroutines+1)/2) / 1000
	if ts.Histogram.Count != n || ts.Meter.Count != n || math.Abs(ts.Histogram.Sum-wantSum) > 1e-9 {
		t.Errorf("timer counts, sum = %d, %d, %v; want %d, %v", ts.Histogram.Count, ts.Meter.Count, ts.Histogram.Sum, n, wantSum)
	}
	if r.Len() != 5 {
		t.Errorf("Len() = %d, want 5", r.Len())
	}
}

func TestWalkTags(t *testing.T) {
	r := NewRegistry()
	if _, err := r.CounterWith("c", map[string]string{"b": "2", "a": "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Gauge("g"); err != nil {
		t.Fatal(err)
	}
	var got []string
	r.Walk(func(name string, tags Tags, m any) {
		s := fmt.Sprintf("%s %T %d", name, m, tags.Len())
		for k, v := range tags.All() {
			s += " " + k + "=" + v
		}
		if v, ok := tags.Get("a"); ok {
			s += " get(a)=" + v
		}
		if mp := tags.Map(); mp != nil {
			mp["a"] = "changed" // the copy is the caller's
		}
		got = append(got, s)
	})
	want := []string{"c *metrics.Counter 2 a=1 b=2 get(a)=1", "g *metrics.Gauge 0"}
	if !slices.Equal(got, want) {
		t.Errorf("Walk saw %q, want %q", got, want)
	}
	r.Walk(func(name string, tags Tags, m any) {
		if v, _ := tags.Get("a"); name == "c" && v != "1" {
			t.Errorf("Map's copy changed the registry's tags: a=%q", v)
		}
	})
}

// TestTagsFromKey checks the Tags view of tags kept only in the canonical
// key and of tags the key escapes (kept apart), including names that hold
// quotes and backslashes.
func TestTagsFromKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags map[string]string
		raw  bool // whether the registry must keep the tags apart
	}{
		{"plain", map[string]string{"a": "1"}, false},
		{"three", map[string]string{"zone": "eu-1", "a": "x y", "host": "web-01"}, false},
		{`we"ird\name`, map[string]string{"k": "v", "k2": ""}, false},
		{"empty key and value", map[string]string{"": ""}, false},
		{"quote", map[string]string{"q": `say "hi"`, "b": "plain"}, true},
		{"backslash", map[string]string{`a\b`: `c\d`}, true},
		{"unicode", map[string]string{"city": "Zürich", "emoji": "🙂"}, true},
		{"control", map[string]string{"tab": "a\tb", "nl": "\n"}, true},
		{"punctuation", map[string]string{"p": `{}[]:,'!~`}, false},
		// What the key holds: each invalid byte as U+FFFD.
		{"invalid UTF-8", map[string]string{"bad": "\ufffd\ufffd"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry()
			given := tc.tags
			if tc.name == "invalid UTF-8" {
				given = map[string]string{"bad": "\xff\xfe"}
			}
			c, err := r.CounterWith(tc.name, given)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			r.Walk(func(name string, tags Tags, m any) {
				n++
				if name != tc.name || m != c {
					t.Errorf("Walk: name %q, metric %p; want %q, %p", name, m, tc.name, c)
				}
				if tags.Len() != len(tc.tags) {
					t.Errorf("Len() = %d, want %d", tags.Len(), len(tc.tags))
				}
				var keys []string
				for k, v := range tags.All() {
					keys = append(keys, k)
					if want, ok := tc.tags[k]; !ok || v != want {
						t.Errorf("All yields %q=%q, want %q", k, v, want)
					}
				}
				if !slices.IsSorted(keys) || len(keys) != len(tc.tags) {
					t.Errorf("All yields keys %q, want the %d keys in order", keys, len(tc.tags))
				}
				for k, want := range tc.tags {
					if v, ok := tags.Get(k); !ok || v != want {
						t.Errorf("Get(%q) = %q, %v; want %q", k, v, ok, want)
					}
				}
				if v, ok := tags.Get("not a tag"); ok {
					t.Errorf("Get of a missing tag = %q, true", v)
				}
				if !maps.Equal(tags.Map(), tc.tags) {
					t.Errorf("Map() = %v, want %v", tags.Map(), tc.tags)
				}
			})
			if n != 1 {
				t.Errorf("Walk visited %d metrics", n)
			}
			r.mu.Lock()
			for _, e := range r.idx.all() {
				if (e.ext.raw != nil) != tc.raw {
					t.Errorf("tags kept apart: %v, want %v (key %s)", e.ext.raw != nil, tc.raw, e.key)
				}
			}
			r.mu.Unlock()
			// Each gives the same tags as a map of its own.
			r.Each(func(_ string, tags map[string]string, _ any) {
				if !maps.Equal(tags, tc.tags) {
					t.Errorf("Each: %v, want %v", tags, tc.tags)
				}
				clear(tags)
			})
			r.Each(func(_ string, tags map[string]string, _ any) {
				if !maps.Equal(tags, tc.tags) {
					t.Errorf("Each after the caller cleared its map: %v, want %v", tags, tc.tags)
				}
			})
		})
	}
	var zero Tags
	if zero.Len() != 0 || zero.Map() != nil {
		t.Error("the zero Tags has tags")
	}
	if _, ok := zero.Get(""); ok {
		t.Error("the zero Tags has a tag")
	}
}

func TestUnregister(t *testing.T) {
	r := NewRegistry()
	c, _ := r.CounterWith("requests", map[string]string{"city": "NYC", "zone": "a"})
	c.Add(5)
	g, _ := r.Gauge("queue")
	h, _ := r.Histogram("latency")
	for _, tc := range []struct {
		name string
		tags map[string]string
		want bool
	}{
		{`requests{"zone": "a"}`, map[string]string{"city": "NYC"}, true}, // addressed as the getters do
		{`requests{"zone": "a", "city": "NYC"}`, nil, false},              // already gone
		{"requests", map[string]string{"city": "NYC"}, false},             // another series, never registered
		{" queue ", nil, true},
		{"queue{}", nil, false},
		{"", nil, false},
		{`bad{"a": 1}`, nil, false},
		{`latency{"a": "1"}`, map[string]string{"a": "2"}, false}, // conflicting tags
		{"latency", map[string]string{}, true},
	} {
		if got := r.Unregister(tc.name, tc.tags); got != tc.want {
			t.Errorf("Unregister(%q, %v) = %v, want %v", tc.name, tc.tags, got, tc.want)
		}
	}
	if r.Len() != 0 {
		t.Errorf("Len() = %d after unregistering everything", r.Len())
	}
	r.Walk(func(name string, _ Tags, _ any) { t.Errorf("Walk visited %s", name) })
	// The detached metrics keep working; the getters make new ones.
	c.Inc()
	g.Set(2)
	h.Update(1)
	if c.Count() != 6 || g.Value() != 2 || h.Snapshot().Count != 1 {
		t.Errorf("detached metrics: %d, %v, %d", c.Count(), g.Value(), h.Snapshot().Count)
	}
	c2, _ := r.Counter(`requests{"city": "NYC", "zone": "a"}`)
	if c2 == c || c2.Count() != 0 {
		t.Errorf("the getter after Unregister returned %p (count %d); want a new counter, not %p", c2, c2.Count(), c)
	}
	// A name may come back as another kind.
	if _, err := r.Meter("queue"); err != nil {
		t.Errorf("Meter(queue) after unregistering the gauge: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() {
		r.Counter("plain")
		r.Unregister("plain", nil)
	}); n != 2 { // the counter with its entry (one slot), and its key, for each new registration
		t.Errorf("Counter+Unregister: %v allocs, want 2 (Unregister itself none)", n)
	}
}

// TestUnregisterConcurrent has goroutines look up and update metrics that
// another goroutine keeps unregistering while a reporter walks the
// registry, and checks that no update is lost: the counts of all the
// counters ever handed out add up to the increments.
func TestUnregisterConcurrent(t *testing.T) {
	const goroutines, perG = 8, 3000
	r := NewRegistry()
	var mu sync.Mutex
	seen := map[*Counter]bool{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // unregisters
		defer bg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r.Unregister(fmt.Sprintf(`c{"n": "%d"}`, i%4), nil)
			r.Unregister("t", nil)
		}
	}()
	go func() { // reports
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			r.Walk(func(_ string, tags Tags, m any) {
				_ = tags.Len()
				for range tags.All() {
				}
				switch m := m.(type) {
				case *Counter:
					m.Count()
				case *Timer:
					m.SnapshotAndReset()
				}
			})
		}
	}()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := map[*Counter]bool{}
			for i := range perG {
				c, err := r.CounterWith("c", map[string]string{"n": fmt.Sprint((g + i) % 4)})
				if err != nil {
					t.Error(err)
					return
				}
				c.Inc()
				mine[c] = true
				tm, _ := r.Timer("t")
				tm.Update(time.Millisecond)
			}
			mu.Lock()
			for c := range mine {
				seen[c] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	var total int64
	for c := range seen {
		total += c.Count()
	}
	if total != goroutines*perG {
		t.Errorf("counters handed out sum to %d, want %d (%d counters)", total, goroutines*perG, len(seen))
	}
	t.Logf("%d distinct counters handed out", len(seen))
}

// TestWalkReusesOrder: a walk of a registry unchanged since the last one
// allocates nothing; a registration or removal makes the next walk sort
// again, and it sees the change.
func TestWalkReusesOrder(t *testing.T) {
	r := NewRegistry()
	for i := range 100 {
		r.CounterWith("c", map[string]string{"i": fmt.Sprint(i)})
	}
	walk := func() (n int) {
		r.Walk(func(string, Tags, any) { n++ })
		return n
	}
	walk()
	if a := testing.AllocsPerRun(10, func() { walk() }); a != 0 {
		t.Errorf("a walk of an unchanged registry: %v allocations", a)
	}
	r.Counter("new")
	if n := walk(); n != 101 {
		t.Errorf("walk after a registration saw %d metrics, want 101", n)
	}
	r.Unregister("new", nil)
	if n := walk(); n != 100 {
		t.Errorf("walk after a removal saw %d metrics, want 100", n)
	}
}
