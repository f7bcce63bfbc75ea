package metrics

import (
	"iter"
	"maps"
	"slices"
)

// Tags is a read-only view of the tags of a registered metric, as Walk
// passes them. The zero Tags has no tags. A Tags is valid as long as the
// metric stays registered; reading it does not allocate, but Map does.
type Tags struct {
	m map[string]string // never modified
}

// Len returns the number of tags.
func (t Tags) Len() int { return len(t.m) }

// Get returns the value of the tag key and whether it is set.
func (t Tags) Get(key string) (string, bool) {
	v, ok := t.m[key]
	return v, ok
}

// All yields every tag, key and value, in ascending order of key.
func (t Tags) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, k := range slices.Sorted(maps.Keys(t.m)) {
			if !yield(k, t.m[k]) {
				return
			}
		}
	}
}

// Map returns the tags as a new map the caller may keep and modify, or nil
// when there are none. It allocates the map.
func (t Tags) Map() map[string]string {
	if len(t.m) == 0 {
		return nil
	}
	return maps.Clone(t.m)
}
