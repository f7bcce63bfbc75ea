package store

import (
	"encoding/binary"
	"iter"

	"github.com/apptuit-go/apptuit/internal/opentsdb"
)

// A series key (opentsdb.SeriesKeyOf) is its metric and its tags sorted by
// name, each string prefixed by its length as a uvarint. The store keeps
// that one string per series and reads the metric and tags from it.

// splitKey returns the metric of key and the rest, its tags, or false if
// key is not a well-formed series key (lengths in range, a non-empty
// metric, tag names in increasing order).
func splitKey(key string) (metric string, tags Tags, ok bool) {
	metric, rest, ok := nextString(key)
	if !ok || metric == "" {
		return "", Tags{}, false
	}
	prev, first := "", true
	for r := rest; r != ""; {
		var k string
		if k, r, ok = nextString(r); !ok || (!first && k <= prev) {
			return "", Tags{}, false
		}
		if _, r, ok = nextString(r); !ok {
			return "", Tags{}, false
		}
		prev, first = k, false
	}
	return metric, Tags{rest}, true
}

// nextString splits a length-prefixed string off s.
func nextString(s string) (string, string, bool) {
	var n uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if n > uint64(len(s)-i-1) {
				return "", "", false
			}
			return s[i+1 : i+1+int(n)], s[i+1+int(n):], true
		}
		shift += 7
	}
	return "", "", false
}

// Tags are the tags of a stored series, read from its key without copying.
// The zero Tags has none.
type Tags struct{ enc string }

// All yields the tags, sorted by name.
func (t Tags) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for r := t.enc; r != ""; {
			k, rest, _ := nextString(r)
			v, rest, _ := nextString(rest)
			if !yield(k, v) {
				return
			}
			r = rest
		}
	}
}

// Get returns the value of the tag name, if the series has it.
func (t Tags) Get(name string) (string, bool) {
	for k, v := range t.All() {
		if k == name {
			return v, true
		}
		if k > name {
			break
		}
	}
	return "", false
}

// Len returns the number of tags.
func (t Tags) Len() int {
	n := 0
	for range t.All() {
		n++
	}
	return n
}

// Map returns a copy of the tags as a map.
func (t Tags) Map() map[string]string {
	m := make(map[string]string, t.Len())
	for k, v := range t.All() {
		m[k] = v
	}
	return m
}

// TagsOf returns tags as a series' Tags (as a series of any metric with
// them would have them).
func TagsOf(tags map[string]string) Tags {
	_, t, _ := splitKey(opentsdb.SeriesKeyOf("m", tags))
	return t
}

// CompareTags orders tag sets name by name (names by their bytes, values
// by value); a set that is a prefix of the other comes first. It walks
// both keys once and does not allocate.
func CompareTags(a, b Tags, value func(x, y string) int) int {
	ra, rb := a.enc, b.enc
	for ra != "" && rb != "" {
		ka, rest, _ := nextString(ra)
		va, restA, _ := nextString(rest)
		kb, rest, _ := nextString(rb)
		vb, restB, _ := nextString(rest)
		if ka != kb {
			if ka < kb {
				return -1
			}
			return 1
		}
		if c := value(va, vb); c != 0 {
			return c
		}
		ra, rb = restA, restB
	}
	switch {
	case ra == "" && rb == "":
		return 0
	case ra == "":
		return -1
	}
	return 1
}
