package metrics

import (
	"iter"
	"strings"
)

// Tags is a read-only view of the tags of a registered metric, as Walk
// passes them. The zero Tags has no tags. A Tags stays valid, and
// unchanged, after its metric is unregistered. Reading it does not
// allocate, but Map does.
//
// The registry does not keep a metric's tags as a map: it reads them from
// the metric's canonical key, `name{"k1": "v1", "k2": "v2"}`, where they
// are verbatim unless a tag has a character the encoding escapes (then it
// keeps them as well). Len is a field read; Get and All scan the key, a
// few nanoseconds per tag.
type Tags struct {
	e *entry // nil for no tags
}

// Len returns the number of tags.
func (t Tags) Len() int {
	if t.e == nil {
		return 0
	}
	return int(t.e.ntags)
}

// Get returns the value of the tag key and whether it is set.
func (t Tags) Get(key string) (string, bool) {
	for k, v := range t.All() {
		if k == key {
			return v, true
		}
		if k > key { // ascending order
			break
		}
	}
	return "", false
}

// All yields every tag, key and value, in ascending order of key.
func (t Tags) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if t.Len() == 0 {
			return
		}
		if t.e.ext.raw != nil {
			for _, tg := range t.e.ext.raw {
				if !yield(tg.k, tg.v) {
					return
				}
			}
			return
		}
		// The key holds {"k1": "v1", "k2": "v2"} after the name, and no
		// quote or backslash inside the strings.
		s := t.e.key[t.e.name+1:]
		for range t.e.ntags {
			s = s[1:] // the key's opening quote
			i := strings.IndexByte(s, '"')
			k := s[:i]
			s = s[i+4:] // `": "`
			i = strings.IndexByte(s, '"')
			v := s[:i]
			s = s[i+1:]
			if !yield(k, v) {
				return
			}
			if len(s) > 2 {
				s = s[2:] // ", "
			}
		}
	}
}

// Map returns the tags as a new map the caller may keep and modify, or nil
// when there are none. It allocates the map.
func (t Tags) Map() map[string]string {
	if t.Len() == 0 {
		return nil
	}
	m := make(map[string]string, t.Len())
	for k, v := range t.All() {
		m[k] = v
	}
	return m
}
