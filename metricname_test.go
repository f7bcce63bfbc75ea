package apptuit

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestEncodeMetric(t *testing.T) {
	tests := []struct {
		name string
		tags map[string]string
		want string
	}{
		{"test", map[string]string{"tk2": "tv2", "tk1": "tv1"}, `test{"tk1": "tv1", "tk2": "tv2"}`},
		{"node.cpu", map[string]string{"type": "idle"}, `node.cpu{"type": "idle"}`},
		{"m", nil, `m{}`},
		{"m", map[string]string{"q": `a"b\c`}, `m{"q": "a\"b\\c"}`},
		{"m", map[string]string{"city": "東京"}, `m{"city": "\u6771\u4eac"}`},
		{"m", map[string]string{"e": "😀\n"}, `m{"e": "\ud83d\ude00\n"}`},
	}
	for _, tt := range tests {
		got, err := EncodeMetric(tt.name, tt.tags)
		if err != nil || got != tt.want {
			t.Errorf("EncodeMetric(%q, %v) = %q, %v; want %q", tt.name, tt.tags, got, err, tt.want)
		}
		// Round trip.
		name, tags, err := DecodeMetric(got)
		if err != nil || name != tt.name || (len(tags) != 0 || len(tt.tags) != 0) && !reflect.DeepEqual(tags, tt.tags) {
			t.Errorf("DecodeMetric(%q) = %q, %v, %v", got, name, tags, err)
		}
	}
	if _, err := EncodeMetric("", nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("EncodeMetric(\"\") error = %v, want one saying empty", err)
	}
}

// Cases ported from apptuit-py's tests/test_timeseries.py and the issue.
func TestDecodeMetric(t *testing.T) {
	tests := []struct {
		in      string
		name    string
		tags    map[string]string
		wantErr bool
	}{
		{`test {"tk1":"tv1","tk2":"tv2"}`, "test", map[string]string{"tk1": "tv1", "tk2": "tv2"}, false},
		{`apr.counter.count{"tk1":"tv1"}`, "apr.counter.count", map[string]string{"tk1": "tv1"}, false},
		{`  plain.name  `, "plain.name", nil, false},
		{`cpu {sjd`, "", nil, true},
		{``, "", nil, true},
		{`   `, "", nil, true},
		{`{"a":"b"}`, "", nil, true},
		{`m{"a":1}`, "", nil, true},
		{`m{"a":"b"} trailing`, "", nil, true},
	}
	for _, tt := range tests {
		name, tags, err := DecodeMetric(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("DecodeMetric(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if name != tt.name || !reflect.DeepEqual(tags, tt.tags) {
			t.Errorf("DecodeMetric(%q) = %q, %v; want %q, %v", tt.in, name, tags, tt.name, tt.tags)
		}
		if err != nil && strings.TrimSpace(tt.in) != "" && !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
			t.Errorf("DecodeMetric(%q) error %q does not quote the input", tt.in, err)
		}
	}
}

func TestMetricDecoderCaches(t *testing.T) {
	d := NewMetricDecoder(2)
	in := `apr.counter.count{"tk1": "tv1"}`
	if _, _, err := d.Decode(in); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		name, tags, err := d.Decode(in)
		if err != nil || name != "apr.counter.count" || tags["tk1"] != "tv1" {
			t.Fatalf("Decode = %q %v %v", name, tags, err)
		}
	})
	if allocs != 0 {
		t.Errorf("cached decode allocs = %v, want 0", allocs)
	}
	for _, s := range []string{"a", "b", "c", "d"} {
		d.Decode(s)
	}
	if n := d.c.Len(); n > 2 {
		t.Errorf("cache holds %d entries, want at most 2", n)
	}
	if _, _, err := d.Decode("cpu {sjd"); err == nil {
		t.Error("want an error for cpu {sjd")
	}
}

func FuzzDecodeMetric(f *testing.F) {
	for _, s := range []string{`test {"tk1":"tv1","tk2":"tv2"}`, `apr.counter.count{"tk1":"tv1"}`, `cpu {sjd`, ``, `m{}`, `m{"a":"\u6771"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, tags, err := DecodeMetric(s)
		if err != nil {
			return
		}
		if name == "" {
			t.Fatalf("DecodeMetric(%q) gave an empty name without error", s)
		}
		if strings.ContainsRune(name, '{') {
			t.Fatalf("name %q contains '{'", name)
		}
		// Whatever decodes must encode and decode back to the same thing.
		enc, err := EncodeMetric(name, tags)
		if err != nil {
			t.Fatalf("EncodeMetric(%q, %v): %v", name, tags, err)
		}
		name2, tags2, err := DecodeMetric(enc)
		if err != nil || name2 != name || len(tags2) != len(tags) {
			t.Fatalf("round trip of %q via %q: %q %v %v", s, enc, name2, tags2, err)
		}
		for k, v := range tags {
			if tags2[k] != v && strings.ToValidUTF8(v, "\uFFFD") != tags2[k] {
				t.Fatalf("round trip of %q: tag %q = %q, want %q", s, k, tags2[k], v)
			}
		}
	})
}
