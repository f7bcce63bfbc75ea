package metrics

import (
	"errors"
	"fmt"
	"testing"
)

// TestIndexPublishes checks that entries reach the published map once
// lookups have missed it as many times as there are entries, that removals
// are never answered from it, and that a map that lost most of its entries
// is rebuilt.
func TestIndexPublishes(t *testing.T) {
	r := NewRegistry(WithSeriesLimit(0))
	key := func(i int) []byte { return fmt.Appendf(nil, `c{"i": "%d"}`, i) }
	const n = 100
	for i := range n {
		if _, err := r.CounterWith("c", map[string]string{"i": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if r.idx.load(key(0)) != nil {
		t.Fatal("published before any lookup missed")
	}
	for i := range n { // each lookup misses the published map once
		if _, err := r.CounterWith("c", map[string]string{"i": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if r.idx.load(key(i)) == nil {
			t.Fatalf("entry %d not published after %d misses", i, n)
		}
	}
	// Removing unpublishes at once.
	for i := range n - 10 {
		if !r.Unregister(string(key(i)), nil) {
			t.Fatalf("Unregister %d", i)
		}
		if r.idx.load(key(i)) != nil {
			t.Fatalf("removed entry %d still published", i)
		}
	}
	if r.idx.peak >= n/2 { // rebuilt once it held less than a quarter of its peak
		t.Fatalf("peak %d after removing %d of %d: the map was not rebuilt", r.idx.peak, n-10, n)
	}
	for range 10 {
		for i := n - 10; i < n; i++ {
			r.CounterWith("c", map[string]string{"i": fmt.Sprint(i)})
		}
	}
	if r.idx.dirty != nil || r.idx.load(key(n-1)) == nil || r.Len() != 10 {
		t.Fatalf("after the survivors' lookups: dirty %v, published %v, Len %d", r.idx.dirty != nil, r.idx.load(key(n-1)) != nil, r.Len())
	}
}

// TestZeroRegistry checks that a Registry's zero value is usable, with the
// default series limit.
func TestZeroRegistry(t *testing.T) {
	var r Registry
	c, err := r.CounterWith("requests", map[string]string{"code": "200"})
	if err != nil {
		t.Fatal(err)
	}
	c.Inc()
	if again, _ := r.Counter(`requests{"code": "200"}`); again != c {
		t.Error("a second lookup returned another counter")
	}
	m, err := r.Meter("logins")
	if err != nil {
		t.Fatal(err)
	}
	m.Mark(1)
	if s := m.Snapshot(); s.Count != 1 {
		t.Errorf("meter of the zero registry: %+v", s)
	}
	for i := range DefaultSeriesLimit + 1 {
		r.CounterWith("requests", map[string]string{"code": fmt.Sprint(i)})
	}
	if st := r.EndInterval(); len(st.Errors) != 1 {
		t.Errorf("EndInterval: %+v, want one LimitError", st)
	}
}

// TestOneKindPerName checks that every series of a name is of one kind,
// with or without tags, whichever comes first.
func TestOneKindPerName(t *testing.T) {
	r := NewRegistry()
	if _, err := r.CounterWith("requests", map[string]string{"code": "200"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Gauge("plain"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"tagged, then plain", get(r.Gauge("requests")), "requests is a Counter, not a Gauge"},
		{"tagged, then other tags", get(r.Timer(`requests{"code": "500"}`)), "requests is a Counter, not a Timer"},
		{"plain, then tagged", get(r.CounterWith("plain", map[string]string{"a": "b"})), "plain{} is a Gauge, not a Counter"},
	} {
		if !errors.Is(tc.err, ErrWrongKind) || tc.err.Error() != "metrics: name registered as another kind of metric: "+tc.want {
			t.Errorf("%s: %v, want ErrWrongKind: %s", tc.name, tc.err, tc.want)
		}
	}
	// Once the series with tags are gone, the name is free again.
	r.Unregister("requests", map[string]string{"code": "200"})
	if _, err := r.Gauge("requests"); err != nil {
		t.Errorf("Gauge(requests) after its counters went: %v", err)
	}
}

func get[T any](_ T, err error) error { return err }
