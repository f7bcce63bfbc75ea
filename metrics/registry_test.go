package metrics

import (
	"errors"
	"fmt"
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
		got = append(got, fmt.Sprintf("%s %v %s", name, tags, kind(m)))
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
