package server

import (
	"slices"
	"testing"

	"github.com/apptuit-go/apptuit/server/internal/store"
)

func TestNaturalOrder(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []string
		cmp  func(a, b string) int
		want []string
	}{
		{"le buckets", []string{"+Inf", "0.5", "10", "0.05", "1", "2.5", "1e-3", "0.025"}, naturalCompare,
			[]string{"1e-3", "0.025", "0.05", "0.5", "1", "2.5", "10", "+Inf"}},
		{"signed and NaN", []string{"NaN", "-Inf", "3", "-1", "+Inf"}, naturalCompare, []string{"-Inf", "-1", "3", "+Inf", "NaN"}},
		{"same number, different text", []string{"1.0", "1", "01"}, naturalCompare, []string{"01", "1", "1.0"}},
		{"digit runs", []string{"host10", "host2", "host1", "host02", "host"}, naturalCompare, []string{"host", "host1", "host2", "host02", "host10"}},
		{"words", []string{"b", "B", "a", "a.b", "a_b"}, naturalCompare, []string{"B", "a", "a.b", "a_b", "b"}},
		{"not numbers", []string{"1.2.3", "+-1", "e5", "Inff", "-NaN", "2"}, naturalCompare, []string{"+-1", "-NaN", "1.2.3", "2", "Inff", "e5"}},
		{"versions", []string{"v1.10.0", "v1.9.2", "v1.9.10"}, naturalCompare, []string{"v1.9.2", "v1.9.10", "v1.10.0"}},
		{"meta last", []string{"apptuit.reporter.send.total", "zzz", "go.goroutines", "apptuit_x", "apptuitx"}, compareMetrics,
			[]string{"apptuitx", "go.goroutines", "zzz", "apptuit.reporter.send.total", "apptuit_x"}},
	} {
		got := slices.Clone(tt.in)
		slices.SortFunc(got, tt.cmp)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		// A total order: antisymmetric, and equal only for equal strings.
		for _, a := range tt.in {
			for _, b := range tt.in {
				if c, d := tt.cmp(a, b), tt.cmp(b, a); c != -d || (c == 0) != (a == b) {
					t.Errorf("%s: cmp(%q, %q) = %d, cmp(%q, %q) = %d", tt.name, a, b, c, b, a, d)
				}
			}
		}
	}
}

func TestCompareTags(t *testing.T) {
	sets := []map[string]string{
		{"handler": "/b", "le": "0.5"},
		{"handler": "/a", "le": "+Inf"},
		{"handler": "/a", "le": "10"},
		{"handler": "/a"},
		{"handler": "/a", "le": "0.5"},
		{},
	}
	slices.SortFunc(sets, func(a, b map[string]string) int { return compareTags(store.TagsOf(a), store.TagsOf(b)) })
	var got []string
	for _, s := range sets {
		got = append(got, s["handler"]+" "+s["le"])
	}
	want := []string{" ", "/a ", "/a 0.5", "/a 10", "/a +Inf", "/b 0.5"}
	if !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestOrderAllocs: the comparisons of a sort allocate nothing (a page of
// /apptuittest/series sorts every series of a metric).
func TestOrderAllocs(t *testing.T) {
	a := store.TagsOf(map[string]string{"host": "web10", "dc": "east", "le": "0.5"})
	b := store.TagsOf(map[string]string{"host": "web2", "dc": "east", "le": "+Inf"})
	if n := testing.AllocsPerRun(100, func() {
		compareTags(a, b)
		compareMetrics("apptuit.reporter.send.total", "order_count.count")
		naturalCompare("host10", "host2")
		naturalCompare("+Inf", "0.5")
	}); n != 0 {
		t.Errorf("%v allocations per comparison", n)
	}
}
