package reqlog

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestRing(t *testing.T) {
	for _, tc := range []struct {
		size, adds int
		want       []int
	}{
		{0, 3, nil},
		{3, 2, []int{0, 1}},
		{3, 3, []int{0, 1, 2}},
		{3, 7, []int{4, 5, 6}},
	} {
		r := NewRing[int](tc.size)
		for i := range tc.adds {
			r.Add(i)
		}
		if got := r.Snapshot(); !reflect.DeepEqual(got, tc.want) || r.Count() != uint64(tc.adds) || r.Cap() != tc.size {
			t.Errorf("size %d, %d added: %v (count %d), want %v", tc.size, tc.adds, got, r.Count(), tc.want)
		}
		r.Reset()
		if r.Count() != 0 || len(r.Snapshot()) != 0 {
			t.Errorf("size %d: not empty after Reset", tc.size)
		}
	}
}

func TestHeader(t *testing.T) {
	h := http.Header{
		"Authorization":       {"Bearer s3cr3t"},
		"Proxy-Authorization": {"token"},
		"Cookie":              {"a=b"},
		"X-Long":              {strings.Repeat("é", 1000)},
	}
	got := Header(h)
	want := http.Header{
		"Authorization":       {"Bearer [redacted]"},
		"Proxy-Authorization": {"[redacted]"},
		"Cookie":              {"[redacted]"},
		"X-Long":              {strings.Repeat("é", 512)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Header:\n got %q\nwant %q", got, want)
	}
}
